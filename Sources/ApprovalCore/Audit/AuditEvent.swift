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
        case loginLinkCreated = "login_link_created"
        case signedIn = "signed_in"
        case signedOut = "signed_out"
        case signInRefused = "sign_in_refused"
        case sessionRevoked = "session_revoked"
        case contactRequested = "contact_requested"
        case contactAnswered = "contact_answered"
        case answerRefused = "answer_refused"
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

extension AuditEvent {
    /// The `config_changed` entry for a new policy set: what changed, by rule and role name.
    public static func policiesChanged(before: PolicySet, after: PolicySet, by actor: String) -> AuditEvent {
        func names<T>(_ items: [T], _ name: (T) -> String) -> Set<String> { Set(items.map(name)) }
        let rulesBefore = Dictionary(before.rules.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let rolesBefore = Dictionary(before.roles.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let changedRules = after.rules.filter { rulesBefore[$0.name] != nil && rulesBefore[$0.name] != $0 }.map(\.name)
        let changedRoles = after.roles.filter { rolesBefore[$0.name] != nil && rolesBefore[$0.name] != $0 }.map(\.name)
        func list(_ values: some Sequence<String>) -> JSONValue { .array(values.sorted().map(JSONValue.string)) }
        return AuditEvent(.configChanged, actor: actor, details: [
            "what": .string("policies"),
            "rules": .array(after.rules.map { .string($0.name) }),
            "rules_added": list(names(after.rules, \.name).subtracting(names(before.rules, \.name))),
            "rules_removed": list(names(before.rules, \.name).subtracting(names(after.rules, \.name))),
            "rules_changed": list(changedRules),
            "roles_added": list(names(after.roles, \.name).subtracting(names(before.roles, \.name))),
            "roles_removed": list(names(before.roles, \.name).subtracting(names(after.roles, \.name))),
            "roles_changed": list(changedRoles),
            "break_glass_changed": .bool(before.breakGlass != after.breakGlass),
        ])
    }
}

extension AuditEvent {
    /// The `request_refused` entry for a `call_id` (of a HumanLayer function call or contact request) the caller may
    /// not see or nobody used, as an unknown approval id is audited.
    public static func unknownCall(_ callID: String, by actor: String) -> AuditEvent {
        AuditEvent(.requestRefused, actor: actor, details: [
            "reason": .string(ApprovalError.notFound.code), "call_id": .string(String(callID.prefix(64))),
        ])
    }
}
