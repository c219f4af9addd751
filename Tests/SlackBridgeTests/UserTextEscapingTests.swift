import ApprovalCore
import Foundation
import SlackAPI
import SlackBridge
import Testing

/// Text from requesters and deciders is shown, never obeyed: no pings, links or early-closed code blocks.
@Suite("User text in Slack")
struct UserTextEscapingTests {
    /// What a requester could use to ping everyone or disguise a link, if it reached Slack unescaped.
    static let injections = ["<!channel>", "<!here>", "<!everyone>", "<@U0INJECTED>", "<#C0INJECTED>", "<https://evil.test|click>"]
    static let injected = injections.joined(separator: " ")

    static func approval(action: String = "Rotate keys", risk: Risk = .critical) -> Approval {
        Approval(
            id: ApprovalID(rawValue: "apr_escape000000000000001"), action: action,
            payload: .object([injected: .string(injected), "nested": .object(["list": .array([.string(injected)])])]),
            reasoning: injected, consequences: injected, onReject: injected, risk: risk, gate: injected, requester: injected,
            createdAt: SampleApprovals.filedAt, expiresAt: SampleApprovals.filedAt.addingTimeInterval(3600), ownerKey: injected
        )
    }

    static func states(of open: Approval) throws -> [(String, Approval)] {
        let at = SampleApprovals.decidedAt
        // Different from the requester's name, which is `injected`, so the decision is not self-approval.
        let name = "dana " + injected
        var edited = open.payload.objectValue ?? [:]
        edited["added " + injected] = .string(injected)
        return [
            ("pending", open),
            ("approved", try open.deciding(DecisionCommand(.approve, by: .slackUser("U0DECIDER", name: name), reason: injected), at: at).after),
            ("approved by key", try open.deciding(DecisionCommand(.approve, by: .key(named: "lead" + injected, actingFor: name), reason: injected), at: at).after),
            ("approved by someone without a Slack ID", try open.deciding(DecisionCommand(.approve, by: .slackUser(name), reason: injected), at: at).after),
            ("modified", try open.deciding(DecisionCommand(.modify(.object(edited)), by: .slackUser("U0DECIDER", name: name)), at: at).after),
            ("rejected", try open.deciding(DecisionCommand(.reject, by: .slackUser("U0DECIDER"), reason: injected, reasonCode: injected), at: at).after),
            ("cancelled", try open.cancelling(by: .key(named: injected), reason: injected, at: at).after),
            ("expired", try #require(open.expiring(at: open.expiresAt)).after),
        ]
    }

    static func unescaped(in texts: [String]) -> [String] {
        injections.filter { injection in texts.contains { $0.contains(injection) } }
    }

    @Test("mentions and links in any user text reach the blocks escaped, in every state")
    func blocksEscapeUserText() throws {
        for (state, approval) in try Self.states(of: Self.approval(action: "Rotate keys " + Self.injected)) {
            let blocks = ApprovalMessage.render(approval).blocks
            let texts = BlockTexts.mrkdwn(in: blocks)
            #expect(Self.unescaped(in: texts) == [], "\(state)")
            #expect(texts.contains { $0.contains("&lt;!channel&gt;") }, "\(state) still shows the text")
        }
    }

    @Test("`<!channel>` in the reasoning is shown as text, not as a ping")
    func reasoningChannelPing() throws {
        let blocks = ApprovalMessage.render(Self.approval()).blocks
        let why = try #require(BlockTexts.section(startingWith: "*Why*", in: blocks))
        #expect(why == "*Why*\n" + Self.injections.map { Mrkdwn.escape($0) }.joined(separator: " "))
        #expect(!why.contains("<!channel>"))
    }

    @Test("the modals show the action escaped")
    func modalsEscapeUserText() throws {
        let approval = Self.approval(action: "Rotate keys " + Self.injected)
        let modify = try #require(ApprovalModals.modify(approval))
        for view in [ApprovalModals.reject(approval), modify, ApprovalModals.details(approval)] {
            #expect(Self.unescaped(in: BlockTexts.mrkdwn(in: view.blocks)) == [], "\(view.callbackID ?? "")")
        }
    }

    @Test("the notification text escapes the action, as it is mrkdwn too")
    func notificationTextEscapesAction() throws {
        for (state, approval) in try Self.states(of: Self.approval(action: "Rotate keys " + Self.injected)) {
            let text = ApprovalMessage.render(approval).text
            #expect(Self.unescaped(in: [text]) == [], "\(state): \(text)")
        }
    }

    @Test("the only mentions in a message are the deciding Slack user's and Slack's date tokens")
    func onlyIntendedMentions() throws {
        for (state, approval) in try Self.states(of: Self.approval()) {
            let texts = BlockTexts.mrkdwn(in: ApprovalMessage.render(approval).blocks).joined(separator: "\n")
            var rest = Substring(texts)
            while let open = rest.firstIndex(of: "<") {
                let token = rest[open...].prefix { $0 != ">" }
                #expect(token.hasPrefix("<!date^") || token == "<@U0DECIDER", "\(state): unexpected \(token)>")
                rest = rest[open...].dropFirst()
            }
        }
    }

    // MARK: Code blocks

    static let backtickRuns = (3...8).map { String(repeating: "`", count: $0) }

    @Test("backticks in the payload cannot close its code block early", arguments: backtickRuns)
    func payloadFenceHolds(_ run: String) throws {
        var approval = SampleApprovals.pendingLowMinimal
        approval.payload = .object(["command": .string("echo \(run) *not bold* \(run) done")])
        let payload = try #require(BlockTexts.section(startingWith: "*Payload*", in: ApprovalMessage.render(approval).blocks))
        #expect(BlockTexts.fences(in: payload) == 2, "\(payload)")
        #expect(payload.hasSuffix("}```"))
    }

    @Test("backticks in a changed value cannot close the diff's code block early", arguments: backtickRuns)
    func diffFenceHolds(_ run: String) throws {
        let approval = try SampleApprovals.pendingDeploy.deciding(
            DecisionCommand(.modify(.object(["note": .string("run \(run) this")])), by: .slackUser("U0DECIDER")), at: SampleApprovals.decidedAt
        ).after
        let outcome = try #require(BlockTexts.sections(in: ApprovalMessage.render(approval).blocks).last)
        #expect(BlockTexts.fences(in: outcome) == 2, "\(outcome)")
    }

    @Test("backticks in the payload cannot close a code block early in the details modal", arguments: backtickRuns)
    func detailsFenceHolds(_ run: String) {
        var approval = SampleApprovals.pendingLowMinimal
        approval.payload = .object(["command": .string("echo \(run) done")])
        for section in BlockTexts.sections(in: ApprovalModals.details(approval).blocks).dropFirst() {
            #expect(BlockTexts.fences(in: section) == 2, "\(section)")
        }
    }

    @Test("a huge diff stays inside a closed code block and says how many changes it left out")
    func hugeDiffClosed() throws {
        // As the modify modal decides it: no reason, so only the diff has fences.
        let approval = try ExtremeApprovals.pending().deciding(
            DecisionCommand(.modify(ExtremeApprovals.editedPayload), by: .slackUser("U0DECIDER", name: "dana")), at: SampleApprovals.decidedAt
        ).after
        let outcome = try #require(BlockTexts.sections(in: ApprovalMessage.render(approval).blocks).last)
        #expect(outcome.hasPrefix(":pencil2: *Approved with changes* by <@U0DECIDER>"))
        #expect(outcome.contains("*Changes*\n```"))
        #expect(outcome.hasSuffix("```"), "the code block is closed")
        #expect(BlockTexts.fences(in: outcome) == 2)
        #expect(outcome.contains("more changes"), "the reader learns that changes were left out")
    }
}
