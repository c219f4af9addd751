import Foundation

/// What storing a new question did.
public enum ContactInsertResult: Sendable, Equatable {
    /// Stored now.
    case created(ContactRequest)
    /// The key asked with this `call_id` before, with the same request: that question.
    case existing(ContactRequest)
}

/// Durable storage of contact requests. Each change is one transaction with its audit entry and outbox rows.
public protocol ContactStore: AuditTrail {
    /// Stores a new question unless its key used its `call_id` before: the same request (by `requestDigest`) gives the
    /// earlier one back, another throws `ApprovalError.idempotencyConflict`.
    func insertContact(
        _ contact: ContactRequest, requestDigest: String, audit: AuditEvent, outbox: [NewOutboxItem]
    ) async throws -> ContactInsertResult
    func contact(_ id: ContactID) async throws -> ContactRequest?
    /// The question the key with identity `ownerKeyID` asked under `callID`; with `nil`, the newest any key asked.
    func contact(callID: String, ownerKeyID: Int64?) async throws -> ContactRequest?
    /// Unanswered questions, oldest first: of one key, or (`nil`) of every key.
    func pendingContacts(ownerKeyID: Int64?, limit: Int) async throws -> [ContactRequest]
    /// Records the answer if the question has none yet; `false` when it had one already.
    func recordAnswer(_ id: ContactID, _ answer: ContactAnswer, audit: AuditEvent, outbox: [NewOutboxItem]) async throws -> Bool
}

/// Approvals filed through the HumanLayer-compatible API, found by the `call_id` they were filed under (kept as an
/// idempotency key in the scope `FunctionCallScope.of(keyID:)`).
public protocol FunctionCallIndex: Sendable {
    /// The approval the key with identity `ownerKeyID` filed under `callID`; with `nil`, the newest any key filed.
    func functionCall(_ callID: String, ownerKeyID: Int64?) async throws -> ApprovalID?
    /// Pending approvals filed as function calls, oldest first, with their `call_id`s: one key's, or (`nil`) every key's.
    func pendingFunctionCalls(ownerKeyID: Int64?, limit: Int) async throws -> [(callID: String, approval: Approval)]
    /// The `call_id` an approval was filed under, if it was filed as a function call.
    func functionCallID(of id: ApprovalID) async throws -> String?
}

/// The idempotency scope of one key's function calls: apart from its `Idempotency-Key`s.
public enum FunctionCallScope {
    public static let prefix = "humanlayer#"

    public static func of(keyID: Int64) -> String { "\(prefix)\(keyID)" }
}
