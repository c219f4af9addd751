import Foundation

/// One fact for the append-only audit log.
public struct AuditEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case created, decided, cancelled, expired, verified, consumed
        case verifyRefused = "verify_refused"
        case decisionRefused = "decision_refused"
        case keyCreated = "key_created"
        case keyRevoked = "key_revoked"
        case authRefused = "auth_refused"
        case requestRefused = "request_refused"
        case posted, updated, escalated
        case clickRefused = "click_refused"
        case signatureRefused = "signature_refused"
        case configChanged = "config_changed"
        case deliveryFailed = "delivery_failed"
        case voted
        case voteWithdrawn = "vote_withdrawn"
        case breakGlass = "break_glass"
        case breakGlassReviewed = "break_glass_reviewed"
    }

    public var kind: Kind
    public var approvalID: ApprovalID?
    /// Who caused it: `key:<name>`, a Slack user ID, `system:…`, or `anonymous`.
    public var actor: String
    /// Event-specific facts; never a secret.
    public var details: JSONValue

    public init(_ kind: Kind, approvalID: ApprovalID? = nil, actor: String, details: [String: JSONValue] = [:]) {
        self.kind = kind
        self.approvalID = approvalID
        self.actor = actor
        self.details = .object(details)
    }
}

extension AuditEvent {
    /// The `config_changed` entry for a change of the admins added from Slack: the list before and after.
    public static func adminsChanged(before: [String], after: [String], by actor: String) -> AuditEvent {
        AuditEvent(
            .configChanged, actor: actor,
            details: [
                "what": .string("admins"), "before": .array(before.map(JSONValue.string)), "after": .array(after.map(JSONValue.string)),
            ])
    }
}
