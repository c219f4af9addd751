import ApprovalCore
import Foundation
import SlackBridge
import Testing

/// Approvals at and beyond what a requester can send, to show that rendering fits Slack's limits whatever the input.
enum ExtremeApprovals {
    /// Text that means something to Slack's mrkdwn: formatting, a code fence, mentions, a link, entities, control characters.
    static let markup =
        "*bold* _italic_ ~strike~ `code` ``` fence ``` > quote <!channel> <!here> <@U0INJECTED> <https://evil.test|click> "
        + "&amp; & \u{0}\u{7}\u{1B}\u{7F} \u{202E}reversed\u{202C} \\ \" '"

    /// Clusters that are one character each but many UTF-16 code units.
    static let heavyCharacters = ["👩‍👩‍👧‍👦", "e\u{301}\u{302}\u{303}", "🇺🇳", "Z\u{324}\u{354}\u{367}\u{351}", "🏳️‍🌈", "n\u{303}"]

    /// 150 characters (the most `ApprovalRequest` allows), far more than 150 UTF-16 code units.
    static let action = (0..<150).map { heavyCharacters[$0 % heavyCharacters.count] }.joined()

    static func repeated(_ piece: String, toCharacters count: Int) -> String {
        var text = ""
        while text.count < count { text += piece }
        return String(text.prefix(count))
    }

    static let reasoning = repeated(markup + "\n", toCharacters: 50_000)
    static let reason = repeated(markup + " ", toCharacters: 2_000)

    /// About 500 kB of canonical JSON: nested objects, many keys, long strings full of markup, unicode keys.
    static let payload: JSONValue = .object(Dictionary(uniqueKeysWithValues: (0..<200).map { outer in
        var members: [String: JSONValue] = [:]
        for inner in 0..<10 {
            members["field_\(inner)_ключ_🔑_\(action.prefix(3))"] = .string("\(outer).\(inner) " + repeated(markup, toCharacters: 220))
        }
        members["nested"] = .object([
            "deeper": .array([.number(Double(outer)), .number(-0.5), .bool(true), .null, .object(["ünïcödé キー": .string(markup)])])
        ])
        return ("section_\(outer)_キー", JSONValue.object(members))
    }))

    /// `payload` with every string changed, for a diff far longer than a section.
    static let editedPayload: JSONValue = changingEveryString(payload)

    static func changingEveryString(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text + " (edited)")
        case .array(let items): .array(items.map(changingEveryString))
        case .object(let members): .object(members.mapValues(changingEveryString))
        default: value
        }
    }

    static let filedAt = SampleApprovals.filedAt
    static let decidedAt = SampleApprovals.decidedAt

    static func pending(risk: Risk = .critical, payload: JSONValue = payload) -> Approval {
        Approval(
            id: ApprovalID(rawValue: "apr_extreme00000000000001"), action: action, payload: payload, reasoning: reasoning,
            consequences: reasoning, onReject: reasoning, risk: risk, gate: markup, requester: repeated(markup, toCharacters: 200),
            createdAt: filedAt, expiresAt: filedAt.addingTimeInterval(86_400), ownerKey: markup
        )
    }

    /// Every state an approval can be shown in, with the longest texts each one can carry.
    static func allStates(risk: Risk = .critical) throws -> [(String, Approval)] {
        let open = pending(risk: risk)
        return [
            ("pending", open),
            ("approved by a Slack user", try open.deciding(DecisionCommand(.approve, by: .slackUser("U0DECIDER", name: markup), reason: reason), at: decidedAt).after),
            ("approved through an API key", try open.deciding(DecisionCommand(.approve, by: .key(named: "lead" + markup, actingFor: markup), reason: reason), at: decidedAt).after),
            ("approved by policy", try open.deciding(DecisionCommand(.approve, by: .policy(markup), reason: reason), at: decidedAt).after),
            ("modified with a huge diff", try open.deciding(DecisionCommand(.modify(editedPayload), by: .slackUser("U0DECIDER", name: markup), reason: reason), at: decidedAt).after),
            ("rejected with a 2,000-character reason", try open.deciding(
                DecisionCommand(.reject, by: .slackUser("U0DECIDER", name: markup), reason: reason, reasonCode: RejectReasonCode.unsafe.rawValue), at: decidedAt).after),
            ("rejected with an unknown reason code", try open.deciding(
                DecisionCommand(.reject, by: .slackUser(markup), reason: reason, reasonCode: markup), at: decidedAt).after),
            ("cancelled", try open.cancelling(by: .key(named: markup), reason: reason, at: decidedAt).after),
            ("expired", try #require(open.expiring(at: open.expiresAt)).after),
        ]
    }
}
