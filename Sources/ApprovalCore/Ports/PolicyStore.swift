import Foundation

/// What a create reads inside its transaction, so the request is filed under the policies and chain of that instant:
/// the policy set, a chain by name, and whether an action was ever approved (`new_action`).
public protocol SubmitSnapshot {
    var policies: PolicySet { get }
    /// The chain named `name`, else the chain an admin named `default`, else the built-in default.
    func chain(named name: String) -> EscalationChain
    func everApproved(gate: String, action: String) -> Bool
}

/// Where the policy set lives. Each change is one transaction with its `config_changed` audit entry.
public protocol PolicyStore: Sendable {
    func policies() async throws -> PolicySet
    func everApproved(gate: String, action: String) async throws -> Bool
    /// In one transaction: reads the stored set, asks `change` (pure) for the new one, stores it (unless equal) with
    /// its audit entry by `actor`; returns the sets before and after. Nothing is written if `change` throws.
    func changePolicies(
        by actor: String, _ change: @escaping @Sendable (PolicySet) throws -> PolicySet
    ) async throws -> (before: PolicySet, after: PolicySet)
}

/// One use of break-glass, and its review.
public struct BreakGlassRecord: Sendable, Equatable {
    public var approvalID: ApprovalID
    public var action: String
    public var by: String
    public var byName: String?
    public var at: Date
    public var reason: String
    public var overLimit: Bool
    public var reviewedBy: String?
    public var reviewedAt: Date?
    public var remindedAt: Date?

    public init(
        approvalID: ApprovalID, action: String, by: String, byName: String?, at: Date, reason: String, overLimit: Bool,
        reviewedBy: String? = nil, reviewedAt: Date? = nil, remindedAt: Date? = nil
    ) {
        self.approvalID = approvalID
        self.action = action
        self.by = by
        self.byName = byName
        self.at = at
        self.reason = reason
        self.overLimit = overLimit
        self.reviewedBy = reviewedBy
        self.reviewedAt = reviewedAt
        self.remindedAt = remindedAt
    }
}

/// Break-glass uses, written with the decision they made (see `GatehouseDatabase.commit`).
public protocol BreakGlassStore: Sendable {
    /// Newest first; only those not reviewed yet with `unreviewedOnly`.
    func breakGlassUses(unreviewedOnly: Bool) async throws -> [BreakGlassRecord]
    /// The use that approved `id`, if it was approved by breaking the glass.
    func breakGlassUse(_ id: ApprovalID) async throws -> BreakGlassRecord?
    /// How many uses no admin has reviewed yet.
    func unreviewedBreakGlassCount() async throws -> Int
    /// How many times `actor` broke the glass since `since`.
    func breakGlassCount(by actor: String, since: Date) async throws -> Int
    /// Marks it reviewed, with its audit entry, when it was not yet; `false` when it was (or is unknown).
    func markBreakGlassReviewed(_ id: ApprovalID, by actor: String, at now: Date, audit: AuditEvent, outbox: [NewOutboxItem]) async throws -> Bool
    /// Records that admins were reminded of it now, with the reminders to send.
    func markBreakGlassReminded(_ ids: [ApprovalID], at now: Date, outbox: [NewOutboxItem]) async throws
}

/// Where the loud post about each break-glass use went, so its review can update it.
public protocol BreakGlassPosts: BreakGlassStore {
    func recordBreakGlassPost(_ id: ApprovalID, channel: String, ts: String) async throws
    func breakGlassPost(_ id: ApprovalID) async throws -> (channel: String, ts: String)?
}

/// A break-glass use as the commit of the decision that made it stores it: every engine writes this row.
public struct NewBreakGlassUse: Sendable, Equatable {
    public let approvalID: ApprovalID
    public let by: String
    public let byName: String?
    public let at: Date
    public let reason: String
    public let overLimit: Bool

    /// The use `approval`'s decision made, or `nil` when that decision was not break-glass.
    public init?(_ approval: Approval, effects: [ApprovalEffect]) {
        guard let decision = approval.decision, decision.breakGlass else { return nil }
        let event = effects.lazy.compactMap { effect -> AuditEvent? in
            if case .audit(let event) = effect, event.kind == .breakGlass { event } else { nil }
        }.first
        approvalID = approval.id
        by = decision.by
        byName = decision.byName
        at = decision.at
        reason = decision.reason ?? ""
        overLimit = event?.details["over_limit"] == .bool(true)
    }
}
