import ApprovalCore
import Foundation

/// The approval object of CONTRACT.md §3, as canonical JSON: the one renderer of it, for answers, long-polls and
/// callbacks. Written member by member in canonical key order rather than built as a dictionary and sorted, which a
/// test checks against the contract's object serialised the slow way.
public enum ApprovalJSON {
    /// The approval object, with `slackLink` as `links.slack`.
    public static func utf8(_ a: Approval, slackLink: String? = nil) -> [UInt8] {
        var out = CanonicalJSON.Writer(capacity: 640)
        write(a, slackLink: slackLink, to: &out)
        return out.bytes
    }

    /// `{"approvals": […], "next_cursor": "c…" | null}`: a page of the list.
    public static func list(_ page: ApprovalPage, links: [ApprovalID: String]) -> [UInt8] {
        var out = CanonicalJSON.Writer(capacity: 64 + 640 * page.approvals.count)
        out.raw(#"{"approvals":["#)
        for (index, approval) in page.approvals.enumerated() {
            if index > 0 { out.raw(",") }
            write(approval, slackLink: links[approval.id], to: &out)
        }
        out.raw(#"],"next_cursor":"#)
        out.string(page.next.map { "c\($0)" })
        out.raw("}")
        return out.bytes
    }

    /// `{"approval": …, "ok": true}`: a successful verification.
    public static func verified(_ approval: Approval, slackLink: String?) -> [UInt8] {
        var out = CanonicalJSON.Writer(capacity: 700)
        out.raw(#"{"approval":"#)
        write(approval, slackLink: slackLink, to: &out)
        out.raw(#","ok":true}"#)
        return out.bytes
    }

    private static func write(_ a: Approval, slackLink: String?, to out: inout CanonicalJSON.Writer) {
        // Members in canonical (UTF-16 code unit) order.
        out.raw(#"{"action":"#)
        out.string(a.action)
        // Under a quorum, the payload a Modify put to the vote: what an approval given now approves.
        out.raw(#","amended_payload":"#)
        if let amended = a.amendedPayload { out.value(amended) } else { out.raw("null") }
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
            out.raw(d.breakGlass ? #","break_glass":true"# : #","break_glass":false"#)
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
        out.raw(#","policy":"#)
        out.string(a.policy?.name)
        out.raw(#","quorum":"#)
        out.value(a.quorum.json)
        out.raw(#","reasoning":"#)
        out.string(a.reasoning)
        out.raw(#","requester":"#)
        out.string(a.requester)
        out.raw(#","risk":"#)
        out.string(a.risk.rawValue)
        out.raw(#","status":"#)
        out.string(a.status.rawValue)
        out.raw(#","votes":["#)
        for (index, vote) in a.votes.enumerated() {
            if index > 0 { out.raw(",") }
            out.value(voteJSON(vote))
        }
        out.raw("]}")
    }

    /// One vote as the approval object lists it: `{"at", "by", "by_name", "outcome", "roles", "withdrawn_at"}`.
    public static func voteJSON(_ vote: Vote) -> JSONValue {
        .object([
            "at": .string(RFC3339.string(from: vote.at)), "by": .string(vote.by), "by_name": vote.byName.map(JSONValue.string) ?? .null,
            "outcome": .string(vote.verdict.rawValue), "roles": .array(vote.roles.map(JSONValue.string)),
            "withdrawn_at": vote.withdrawnAt.map { .string(RFC3339.string(from: $0)) } ?? .null,
        ])
    }
}
