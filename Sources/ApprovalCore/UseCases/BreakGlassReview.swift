import Foundation

/// After the glass is broken: an admin other than the one who broke it marks the use reviewed, and admins are
/// reminded of each use left unreviewed past `review_within`, then once a day until it is reviewed.
public struct BreakGlassReview: Sendable {
    let store: any BreakGlassStore
    let configuration: ConfigurationService
    let clock: any WallClock
    /// The outbox rows that tell admins (by DM) and update the post; Slack's, when Slack is set up.
    let notices: @Sendable (_ admins: [String], _ text: String) -> [NewOutboxItem]
    let postUpdate: @Sendable (ApprovalID) -> [NewOutboxItem]

    public init(
        store: any BreakGlassStore, configuration: ConfigurationService, clock: any WallClock,
        notices: @escaping @Sendable (_ admins: [String], _ text: String) -> [NewOutboxItem] = { _, _ in [] },
        postUpdate: @escaping @Sendable (ApprovalID) -> [NewOutboxItem] = { _ in [] }
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.notices = notices
        self.postUpdate = postUpdate
    }

    public enum Refusal: Error, Sendable, Equatable {
        /// Only admins review, and never the one who broke the glass.
        case notAdmin, ownUse, alreadyReviewed, unknown
    }

    /// Marks the use reviewed by `admin`, audited as `break_glass_reviewed`.
    public func review(_ id: ApprovalID, by admin: Actor) async throws {
        guard let use = try await store.breakGlassUse(id) else { throw Refusal.unknown }
        do {
            try await configuration.checkMayChange(admin, attempt: ["command": .string("break-glass review"), "approval_id": .string(id.rawValue)])
        } catch is ConfigurationService.Refusal {
            throw Refusal.notAdmin
        }
        guard !PersonName.same(use.by, admin.id) else {
            try await configuration.audit.append(AuditEvent(
                .requestRefused, approvalID: id, actor: admin.id,
                details: ["command": .string("break-glass review"), "reason": .string("own_break_glass")]))
            throw Refusal.ownUse
        }
        let event = AuditEvent(.breakGlassReviewed, approvalID: id, actor: admin.id, details: ["broken_by": .string(use.by)])
        guard try await store.markBreakGlassReviewed(id, by: admin.id, at: clock.now, audit: event, outbox: postUpdate(id)) else {
            throw Refusal.alreadyReviewed
        }
    }

    /// Reminds the admins of every use unreviewed past `reviewWithin` and not reminded in the last day; returns the
    /// uses reminded of.
    @discardableResult
    public func remindDue(reviewWithin: TimeInterval) async throws -> [ApprovalID] {
        let now = clock.now
        let due = try await store.breakGlassUses(unreviewedOnly: true).filter { use in
            now >= use.at.addingTimeInterval(reviewWithin) && (use.remindedAt.map { now >= $0.addingTimeInterval(86_400) } ?? true)
        }
        guard !due.isEmpty else { return [] }
        let admins = try await configuration.admins().everyone
        let lines = due.map { "• `\($0.approvalID.rawValue)` \($0.action) — by \($0.byName ?? $0.by): \($0.reason)" }
        let text = ":rotating_light: \(due.count) break-glass approval\(due.count == 1 ? " is" : "s are") still unreviewed:\n"
            + lines.joined(separator: "\n") + "\nPress *Mark reviewed* on the post in the approvals channel."
        try await store.markBreakGlassReminded(due.map(\.approvalID), at: now, outbox: notices(admins, text))
        return due.map(\.approvalID)
    }
}
