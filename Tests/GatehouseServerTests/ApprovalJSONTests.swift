import ApprovalCore
import DomainTestSupport
import Foundation
import GatehouseServer
import Testing

/// The one renderer of the approval object writes it member by member; these tests hold it to the contract's object,
/// built here field by field and serialised the slow way.
@Suite("Approval JSON")
struct ApprovalJSONTests {
    /// The approval object of CONTRACT.md §3 (and the README's extra fields), as a dictionary.
    static func contractObject(_ a: Approval, slackLink: String?) -> JSONValue {
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        var members: [String: JSONValue] = [
            "id": .string(a.id.rawValue), "status": .string(a.status.rawValue), "action": .string(a.action),
            "payload": a.payload, "payload_sha256": .string(a.payloadSHA256), "risk": .string(a.risk.rawValue),
            "gate": .string(a.gate), "created_at": .string(RFC3339.string(from: a.createdAt)),
            "expires_at": .string(RFC3339.string(from: a.expiresAt)), "escalation_level": .number(Double(a.escalationLevel)),
            "escalation_levels": .number(Double(max(1, a.chain.levels.count))),
            "reasoning": optional(a.reasoning), "consequences": optional(a.consequences), "on_reject": optional(a.onReject),
            "requester": optional(a.requester), "callback_url": optional(a.callbackURL), "amended_payload": a.amendedPayload ?? .null,
            "consumed_at": a.consumedAt.map { .string(RFC3339.string(from: $0)) } ?? .null,
            "decision": a.decision.map { d in
                .object([
                    "outcome": .string(d.outcome.rawValue), "by": .string(d.by), "by_name": optional(d.byName),
                    "at": .string(RFC3339.string(from: d.at)), "reason": optional(d.reason), "reason_code": optional(d.reasonCode),
                    "payload": d.payload, "payload_sha256": .string(d.payloadSHA256), "break_glass": .bool(d.breakGlass),
                ])
            } ?? .null,
            "links": .object(slackLink.map { ["slack": .string($0)] } ?? [:]),
            "policy": optional(a.policy?.name),
            "quorum": .object([
                "required": .number(Double(a.policy?.requiredApprovals ?? 1)),
                "roles": .array((a.policy?.roles ?? []).map { .string($0.name) }),
                "approvals": .number(Double(Set(a.votes.filter { $0.withdrawnAt == nil && $0.verdict != .reject }.map(\.by)).count)),
                "missing_roles": .array(a.quorum.missingRoles.map(JSONValue.string)),
            ]),
            "votes": .array(a.votes.map { v in
                .object([
                    "by": .string(v.by), "by_name": optional(v.byName), "outcome": .string(v.verdict.rawValue),
                    "at": .string(RFC3339.string(from: v.at)), "roles": .array(v.roles.map(JSONValue.string)),
                    "withdrawn_at": v.withdrawnAt.map { .string(RFC3339.string(from: $0)) } ?? .null,
                ])
            }),
        ]
        if a.status == .pending { members["deadline"] = .string(RFC3339.string(from: a.nextDeadline)) }
        return .object(members)
    }

    /// Approvals in every state, with empty and full optional fields and keys that sort differently by bytes and by
    /// UTF-16 code units.
    static func samples() throws -> [Approval] {
        let payload: JSONValue = .object([
            "\u{E000}private": .number(1), "😀": .string("astral"), "b": .array([.null, .bool(true), .number(0.5)]),
            "a\"quote": .string("line\nbreak\t\u{1}"), "n": .number(-9_007_199_254_740_991),
        ])
        let bare = ApprovalRequest(action: "x", payload: .object([:])).approval(id: .random(at: Fixture.now), ownerKey: nil, at: Fixture.now)
        var full = ApprovalRequest(
            action: "Deploy “api” <now>", payload: payload, reasoning: "because", consequences: "30 s", onReject: "wait",
            risk: .critical, gate: "deploy-prod", requester: "agent:deploy-bot", expiresIn: 7_200, callbackURL: "https://example.com/cb"
        ).approval(id: .random(at: Fixture.now), ownerKey: "ci", at: Fixture.now, chain: Fixture.threeLevels())
        full.escalationLevel = 2
        let approved = try full.deciding(DecisionCommand(.approve, by: .key(named: "lead", actingFor: "alice"), reason: "ok"), at: Fixture.now).after
        var consumed = approved
        consumed.consumedAt = Fixture.now.addingTimeInterval(5)
        var quorum = full
        quorum.policy = AppliedPolicy(
            name: "big-spend", then: .require(approvals: 2, roles: ["lead", "director"], chain: nil),
            roles: [Role(name: "lead", users: ["U1"]), Role(name: "director", users: ["U2"])])
        let oneVote = try quorum.deciding(DecisionCommand(.approve, by: .slackUser("U1", name: "bob")), at: Fixture.now).after
        let withdrawn = try oneVote.deciding(
            DecisionCommand(.modify(.object(["x": .number(1)])), by: .slackUser("U2")), at: Fixture.now.addingTimeInterval(1)).after
        let broken = try quorum.breakingGlass(by: .slackUser("U9", name: "oncall"), reason: "outage", overLimit: false, at: Fixture.now).after
        return [
            bare, full, approved, consumed, oneVote, withdrawn, broken,
            try full.deciding(DecisionCommand(.modify(.object(["x": .string("é")])), by: .slackUser("U1", name: "bob")), at: Fixture.now).after,
            try full.deciding(DecisionCommand(.reject, by: .slackUser("U2"), reason: "no", reasonCode: "unsafe"), at: Fixture.now).after,
            try #require(full.expiring(at: full.expiresAt)).after,
            try full.cancelling(by: .key(named: "ci"), reason: "superseded", at: Fixture.now).after,
        ]
    }

    @Test("the approval object is the contract's object in canonical form, in every state, with and without a Slack link")
    func matchesContract() throws {
        for approval in try Self.samples() {
            for link in [nil, "https://example.slack.com/archives/C1/p1"] as [String?] {
                let written = ApprovalJSON.utf8(approval, slackLink: link)
                #expect(written == CanonicalJSON.utf8(Self.contractObject(approval, slackLink: link)), "\(approval.status)")
            }
        }
    }

    @Test("a page of the list and a verification wrap the same object")
    func wrappers() throws {
        let approvals = try Self.samples()
        let links = [approvals[1].id: "https://example.slack.com/archives/C1/p1"]
        for next in [nil, 42] as [Int64?] {
            let page = ApprovalPage(approvals: approvals, next: next)
            let expected: JSONValue = .object([
                "approvals": .array(approvals.map { Self.contractObject($0, slackLink: links[$0.id]) }),
                "next_cursor": next.map { .string("c\($0)") } ?? .null,
            ])
            #expect(ApprovalJSON.list(page, links: links) == CanonicalJSON.utf8(expected))
        }
        #expect(ApprovalJSON.list(ApprovalPage(approvals: [], next: nil), links: [:]) == Array(#"{"approvals":[],"next_cursor":null}"#.utf8))
        let verified = approvals[3]
        #expect(
            ApprovalJSON.verified(verified, slackLink: nil)
                == CanonicalJSON.utf8(.object(["ok": .bool(true), "approval": Self.contractObject(verified, slackLink: nil)])))
    }
}
