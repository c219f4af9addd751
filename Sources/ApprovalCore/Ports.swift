import Foundation

/// An idempotency key as one API key used it, with the digest of the body it came with.
public struct IdempotencyKey: Sendable, Equatable {
    public var scope: String
    public var key: String
    public var requestDigest: String

    public init(scope: String, key: String, requestDigest: String) {
        self.scope = scope
        self.key = key
        self.requestDigest = requestDigest
    }
}

public enum InsertResult: Sendable, Equatable {
    /// Stored now: its creation, with the chain snapshot it was built with.
    case created(ApprovalTransition)
    /// The idempotency key was used before with the same body: the earlier approval.
    case existing(Approval)
}

/// Durable storage of approvals. Each method is one transaction: a change, its audit entries and
/// its outbox rows commit together or not at all.
public protocol ApprovalRepository: Sendable {
    /// Stores a new approval: `build` makes its creation from the gate's chain (`.default` when the gate has none),
    /// read in the same transaction, so the snapshot is the chain as it was at that instant. Throws
    /// `.idempotencyConflict` when the key was used with another body.
    func insert(
        gate: String, idempotency: IdempotencyKey?, build: @escaping @Sendable (EscalationChain) -> ApprovalTransition
    ) async throws -> InsertResult
    func approval(_ id: ApprovalID) async throws -> Approval?
    /// Commits `transition` if the stored approval still equals `transition.before`; `false` when it moved on.
    func commit(_ transition: ApprovalTransition) async throws -> Bool
    /// Pending approvals whose next deadline (escalation or expiry) is at or before `now`, earliest first.
    func pendingDue(asOf now: Date, limit: Int) async throws -> [Approval]
    /// The earliest next deadline of any pending approval.
    func nextDeadline() async throws -> Date?
    /// Appends an event that comes with no change (a refusal).
    func append(_ event: AuditEvent) async throws
}

/// Told after every commit, outside the transaction: wakes long-polls and re-arms timers and queues.
public protocol ApprovalObserver: Sendable {
    func didCommit(_ transition: ApprovalTransition)
}
