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
            "escalation_levels": .number(Double(max(1, a.chain.levels.count))),
            "reasoning": optional(a.reasoning), "consequences": optional(a.consequences), "on_reject": optional(a.onReject),
            "requester": optional(a.requester), "callback_url": optional(a.callbackURL),
            "consumed_at": a.consumedAt.map { .string(RFC3339.string(from: $0)) } ?? .null,
            "decision": a.decision.map(decision) ?? .null,
            "links": .object(slackLink.map { ["slack": .string($0)] } ?? [:]),
        ]
        // The current deadline: the level's SLA, or expires_at when that comes first.
        if a.status == .pending { members["deadline"] = .string(RFC3339.string(from: a.nextDeadline)) }
        return .object(members)
    }

    public static func decision(_ d: Decision) -> JSONValue {
        .object([
            "outcome": .string(d.outcome.rawValue), "by": .string(d.by), "by_name": optional(d.byName),
            "at": .string(RFC3339.string(from: d.at)), "reason": optional(d.reason), "reason_code": optional(d.reasonCode),
            "payload": d.payload, "payload_sha256": .string(d.payloadSHA256),
        ])
    }

    /// The canonical text of `object(a, slackLink:)`, written directly: the same bytes without building a
    /// dictionary of members and sorting it for every answer.
    public static func utf8(_ a: Approval, slackLink: String? = nil) -> [UInt8] {
        var out = CanonicalJSON.Writer(capacity: 640)
        // Members in canonical (UTF-16 code unit) order; the debug check below keeps this in step with `object`.
        out.raw(#"{"action":"#)
        out.string(a.action)
        out.raw(#","callback_url":"#)
        out.string(a.callbackURL)
        out.raw(#","consequences":"#)
        out.string(a.consequences)
        out.raw(#","consumed_at":"#)
        out.string(a.consumedAt.map(RFC3339.string(from:)))
        let expiresAt = RFC3339.string(from: a.expiresAt)
        out.raw(#","created_at":"#)
        out.string(RFC3339.string(from: a.createdAt))
        if a.status == .pending {
            out.raw(#","deadline":"#)
            out.string(a.nextDeadline == a.expiresAt ? expiresAt : RFC3339.string(from: a.nextDeadline))
        }
        out.raw(#","decision":"#)
        if let d = a.decision {
            out.raw(#"{"at":"#)
            out.string(RFC3339.string(from: d.at))
            out.raw(#","by":"#)
            out.string(d.by)
            out.raw(#","by_name":"#)
            out.string(d.byName)
            out.raw(#","outcome":"#)
            out.string(d.outcome.rawValue)
            out.raw(#","payload":"#)
            out.value(d.payload)
            out.raw(#","payload_sha256":"#)
            out.string(d.payloadSHA256)
            out.raw(#","reason":"#)
            out.string(d.reason)
            out.raw(#","reason_code":"#)
            out.string(d.reasonCode)
            out.raw("}")
        } else {
            out.raw("null")
        }
        out.raw(#","escalation_level":"#)
        out.number(Double(a.escalationLevel))
        out.raw(#","escalation_levels":"#)
        out.number(Double(max(1, a.chain.levels.count)))
        out.raw(#","expires_at":"#)
        out.string(expiresAt)
        out.raw(#","gate":"#)
        out.string(a.gate)
        out.raw(#","id":"#)
        out.string(a.id.rawValue)
        out.raw(#","links":"#)
        if let slackLink {
            out.raw(#"{"slack":"#)
            out.string(slackLink)
            out.raw("}")
        } else {
            out.raw("{}")
        }
        out.raw(#","on_reject":"#)
        out.string(a.onReject)
        out.raw(#","payload":"#)
        out.value(a.payload)
        out.raw(#","payload_sha256":"#)
        out.string(a.payloadSHA256)
        out.raw(#","reasoning":"#)
        out.string(a.reasoning)
        out.raw(#","requester":"#)
        out.string(a.requester)
        out.raw(#","risk":"#)
        out.string(a.risk.rawValue)
        out.raw(#","status":"#)
        out.string(a.status.rawValue)
        out.raw("}")
        assert(out.bytes == CanonicalJSON.utf8(object(a, slackLink: slackLink)), "ApprovalJSON.utf8 and object disagree")
        return out.bytes
    }

    private static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
}
