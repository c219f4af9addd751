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

/// A transition with the outbox rows that must commit with it (see `OutboxPlanner`).
public struct PlannedChange: Sendable, Equatable {
    public var transition: ApprovalTransition
    public var outbox: [NewOutboxItem]

    public init(_ transition: ApprovalTransition, outbox: [NewOutboxItem] = []) {
        self.transition = transition
        self.outbox = outbox
    }
}

public enum InsertResult: Sendable, Equatable {
    /// Stored now: its creation, with the chain snapshot it was built with.
    case created(ApprovalTransition)
    /// The idempotency key was used before with the same body: the earlier approval.
    case existing(Approval)
}

/// Which approvals to list.
public struct ApprovalFilter: Sendable, Equatable {
    public var status: ApprovalStatus?
    public var gate: String?
    /// Only those filed by the key with this identity.
    public var ownerKeyID: Int64?
    /// Only those whose `requester` is this, exactly.
    public var requester: String?
    /// Only those whose action or reasoning contains this text (ASCII letters in any case).
    public var text: String?

    public init(status: ApprovalStatus? = nil, gate: String? = nil, ownerKeyID: Int64? = nil, requester: String? = nil, text: String? = nil) {
        self.status = status
        self.gate = gate
        self.ownerKeyID = ownerKeyID
        self.requester = requester
        self.text = text
    }

    /// Whether `approval` passes the filter: the one definition, for stores that filter in memory.
    public func matches(_ approval: Approval) -> Bool {
        if let status, approval.status != status { return false }
        if let gate, approval.gate != gate { return false }
        if let ownerKeyID, approval.ownerKeyID != ownerKeyID { return false }
        if let requester, approval.requester != requester { return false }
        if let text {
            let needle = text.lowercased()
            if !approval.action.lowercased().contains(needle) && !(approval.reasoning?.lowercased().contains(needle) ?? false) { return false }
        }
        return true
    }
}

/// One page of a list, newest first; `next` is the cursor of the following page (`nil` on the last).
public struct ApprovalPage: Sendable, Equatable {
    public var approvals: [Approval]
    public var next: Int64?

    public init(approvals: [Approval], next: Int64?) {
        self.approvals = approvals
        self.next = next
    }
}

/// Appends to the append-only audit log, alone: events that come with no change (a refusal).
public protocol AuditTrail: Sendable {
    func append(_ event: AuditEvent) async throws
}

/// Durable storage of approvals. Each method is one transaction: a change, its audit entries and its outbox rows
/// commit together or not at all.
public protocol ApprovalRepository: AuditTrail {
    /// Stores a new approval: `build` makes its creation from the policies and chains read in the same transaction
    /// (see `SubmitSnapshot`), so the request keeps them as they were at that instant. `build` is pure and may be
    /// called more than once. Throws `.idempotencyConflict` when the key was used with another body.
    func insert(
        idempotency: IdempotencyKey?, build: @escaping @Sendable (any SubmitSnapshot) -> PlannedChange
    ) async throws -> InsertResult
    /// The approval with its votes, or `nil`.
    func approval(_ id: ApprovalID) async throws -> Approval?
    /// Commits the change if the stored approval still equals `change.transition.before`; `false` when it moved on.
    /// Votes the transition added are stored as rows.
    func commit(_ change: PlannedChange) async throws -> Bool
    /// Pending approvals whose next deadline (escalation or expiry) is at or before `now`, earliest first.
    func pendingDue(asOf now: Date, limit: Int) async throws -> [Approval]
    /// The earliest next deadline of any pending approval.
    func nextDeadline() async throws -> Date?
    /// Newest first. `before` is the cursor of the previous page.
    func list(_ filter: ApprovalFilter, limit: Int, before: Int64?) async throws -> ApprovalPage
    /// How many approvals there are in each status.
    func countsByStatus() async throws -> [ApprovalStatus: Int]
    /// The pending approvals of each gate that has any: how many, and when the oldest was filed.
    func pendingByGate() async throws -> [String: PendingSummary]
}

/// A gate's pending approvals, for `/metrics`.
public struct PendingSummary: Sendable, Equatable {
    public var count: Int
    public var oldest: Date

    public init(count: Int, oldest: Date) {
        self.count = count
        self.oldest = oldest
    }
}

/// Told after every commit, outside the transaction: wakes long-polls and re-arms timers and queues.
public protocol ApprovalObserver: Sendable {
    func didCommit(_ transition: ApprovalTransition)
}
