import ApprovalCore
import Foundation

/// The approval object of CONTRACT.md §3, as JSON.
public enum ApprovalJSON {
    public static func object(_ a: Approval, slackLink: String? = nil) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(a.id.rawValue), "status": .string(a.status.rawValue), "action": .string(a.action),
            "payload": a.payload, "payload_sha256": .string(a.payloadSHA256), "risk": .string(a.risk.rawValue),
            "gate": .string(a.gate), "created_at": .string(RFC3339.string(from: a.createdAt)),
            "expires_at": .string(RFC3339.string(from: a.expiresAt)), "escalation_level": .number(Double(a.escalationLevel)),
            "reasoning": optional(a.reasoning), "consequences": optional(a.consequences), "on_reject": optional(a.onReject),
            "requester": optional(a.requester), "callback_url": optional(a.callbackURL),
            "consumed_at": a.consumedAt.map { .string(RFC3339.string(from: $0)) } ?? .null,
            "decision": a.decision.map(decision) ?? .null,
            "links": .object(slackLink.map { ["slack": .string($0)] } ?? [:]),
        ]
        if a.status == .pending { members["deadline"] = .string(RFC3339.string(from: a.expiresAt)) }
        return .object(members)
    }

    public static func decision(_ d: Decision) -> JSONValue {
        .object([
            "outcome": .string(d.outcome.rawValue), "by": .string(d.by), "by_name": optional(d.byName),
            "at": .string(RFC3339.string(from: d.at)), "reason": optional(d.reason), "reason_code": optional(d.reasonCode),
            "payload": d.payload, "payload_sha256": .string(d.payloadSHA256),
        ])
    }

    private static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
}
