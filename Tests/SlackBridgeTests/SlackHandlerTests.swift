import ApprovalCore
import DomainTestSupport
import Foundation
import GatehouseTestSupport
import Logging
import SlackAPI
import SlackBridge
import SlackRecords
import Testing

/// The Slack handlers over in-memory ports: every storage port in memory, the Web API in process. What the
/// end-to-end tests show through real HTTP and SQLite, here the handlers' own rules, one at a time.
@Suite("Slack handlers over in-memory ports")
struct SlackHandlerTests {
    /// A store, the Web API, and the handlers on them, at `Fixture.now`.
    struct Rig {
        let store = InMemoryStore()
        let slack: RecordingSlackClient
        let clock = TestClock(now: Fixture.now)
        var service: ApprovalService { ApprovalService(repository: store, clock: clock) }
        var interactions: SlackInteractions {
            SlackInteractions(service: service, slack: slack, audit: store, outbox: store, logger: Logger(label: "test"))
        }

        init(groups: [String: [String]] = ["S1": ["U7", "U8"]]) {
            slack = RecordingSlackClient(groups: groups)
        }

        func commands(admins: [String] = ["U0ADMIN"]) -> SlackCommands {
            SlackCommands(
                configuration: ConfigurationService(store: store, audit: store, configuredAdmins: admins), approvals: service,
                messages: store)
        }

        var delivery: SlackDelivery {
            SlackDelivery(
                slack: slack, approvals: store, messages: store, channel: "#approvals", clock: clock, onError: { _, _ in })
        }

        /// A pending request under the three-level chain, at `level`.
        func file(level: Int = 1, requester: String = "agent:deploy-bot") -> Approval {
            var approval = ApprovalRequest(
                action: "Deploy api", payload: Fixture.payload, gate: "deploy-prod", requester: requester, expiresIn: 86_400
            ).approval(id: .random(at: clock.now), ownerKey: "ci", at: clock.now, chain: Fixture.threeLevels())
            approval.escalationLevel = level
            store.seed(approval)
            return approval
        }

        func click(_ action: SlackActionID, on id: ApprovalID, by user: String, value: String? = nil) async throws -> SlackReply {
            try await interactions.handle(
                .blockActions(
                    BlockActions(
                        user: PayloadUser(id: user, username: user.lowercased()),
                        container: .init(type: "message", messageTS: "1.2", channelID: "C0APPROVALS"), triggerID: "T1",
                        actions: [.init(actionID: action.rawValue, type: "button", value: value ?? ButtonValue(approvalID: id).encoded)])))
        }

        /// The ephemeral replies queued for the outbox, as text.
        var replies: [String] {
            store.outbox.filter { $0.kind == SlackOutboxKind.ephemeral }.compactMap { $0.payload["text"]?.stringValue }
        }

        func audited(_ kind: AuditEvent.Kind) -> [AuditEvent] { store.audit.filter { $0.kind == kind } }
    }

    // MARK: Clicks

    @Test("an approver named at the level reached decides with one click; no group is read and nothing is replied")
    func namedApproverDecides() async throws {
        let rig = Rig()
        let approval = rig.file()
        #expect(try await rig.click(.approve, on: approval.id, by: "U1") == .empty)
        let stored = try #require(rig.store.stored(approval.id))
        #expect(stored.status == .approved)
        #expect(stored.votes.map(\.by) == ["U1"])
        #expect(rig.slack.calls.isEmpty)
        #expect(rig.replies.isEmpty)
    }

    @Test("a member of a group of the level reached is found with one group read and decides")
    func groupMemberDecides() async throws {
        let rig = Rig()
        let approval = rig.file(level: 2)
        _ = try await rig.click(.approve, on: approval.id, by: "U7")
        #expect(rig.store.stored(approval.id)?.decision?.by == "U7")
        #expect(rig.slack.calls("usergroups.users.list").map { $0.fields["usergroup"] } == ["S1"])
    }

    @Test("someone outside the levels reached is refused once, audited once, told who may decide, and nothing changes")
    func outsiderRefused() async throws {
        let rig = Rig()
        let approval = rig.file(level: 2)
        _ = try await rig.click(.approve, on: approval.id, by: "U9")
        #expect(rig.store.stored(approval.id) == approval)
        #expect(rig.audited(.decisionRefused).map { $0.details["reason"] } == [.string("not_approver")])
        #expect(rig.replies.count == 1)
        #expect(rig.replies.first?.contains("You are not among the approvers of this request at level 2 of 3") == true)
        #expect(rig.replies.first?.contains("<!subteam^S1>") == true)
    }

    @Test("when Slack cannot list a group, nothing is decided (fail closed), the click is audited, and the reply says so")
    func groupReadFailsClosed() async throws {
        let rig = Rig()
        let approval = rig.file(level: 2)
        rig.slack.fail("usergroups.users.list", with: .api("missing_scope"))
        _ = try await rig.click(.approve, on: approval.id, by: "U7")
        #expect(rig.store.stored(approval.id) == approval)
        #expect(rig.audited(.clickRefused).map { $0.details["reason"] } == [.string("membership_unknown")])
        #expect(rig.audited(.decisionRefused).isEmpty)
        #expect(rig.replies.first?.hasPrefix("Gatehouse could not check the approvers' user groups with Slack") == true)
    }

    @Test("the requester's Reject opens no form: refused as their own request, audited once")
    func requesterGetsNoForm() async throws {
        let rig = Rig()
        let approval = rig.file(requester: "U1")
        _ = try await rig.click(.reject, on: approval.id, by: "U1")
        #expect(rig.slack.calls("views.open").isEmpty)
        #expect(rig.audited(.decisionRefused).map { $0.details["reason"] } == [.string("self_approval")])
        #expect(rig.replies == ["You filed this request, so someone else has to decide it."])
    }

    @Test("an approver's Reject and Modify open their forms with the click's trigger, and decide nothing yet")
    func approverGetsForms() async throws {
        let rig = Rig()
        let approval = rig.file()
        _ = try await rig.click(.reject, on: approval.id, by: "U2")
        _ = try await rig.click(.modify, on: approval.id, by: "U2")
        #expect(rig.slack.calls("views.open").map { $0.fields["callback_id"] } == [SlackCallbackID.reject.rawValue, SlackCallbackID.modify.rawValue])
        #expect(rig.slack.calls("views.open").allSatisfy { $0.fields["trigger_id"] == "T1" })
        #expect(rig.store.stored(approval.id) == approval)
        #expect(rig.store.audit.isEmpty)
    }

    @Test("a stale button and a button naming an unknown request are click refusals, each audited and answered")
    func staleAndUnknownButtons() async throws {
        let rig = Rig()
        let approval = rig.file()
        _ = try await rig.click(.approve, on: approval.id, by: "U1", value: #"{"v":0,"id":"x"}"#)
        let ghost = ApprovalID(rawValue: "apr_doesnotexist00000000")
        _ = try await rig.click(.approve, on: ghost, by: "U1")
        #expect(rig.audited(.clickRefused).map { $0.details["reason"] } == [.string("stale_button"), .string("not_found")])
        #expect(rig.replies.count == 2)
        #expect(rig.replies.last == "Gatehouse has no record of this request.")
        #expect(rig.store.stored(approval.id) == approval)
    }

    @Test("a submitted reject form decides with its reason and code")
    func rejectForm() async throws {
        let rig = Rig()
        let approval = rig.file()
        let values: [String: [String: StateValue]] = [
            SlackInputID.reason.rawValue: [SlackInputID.reason.rawValue: StateValue(type: "plain_text_input", value: "Freeze week")],
            SlackInputID.reasonCode.rawValue: [
                SlackInputID.reasonCode.rawValue: StateValue(type: "static_select", selectedOption: .init(value: "not_now"))
            ],
        ]
        let view = PayloadView(
            id: "V1", callbackID: SlackCallbackID.reject.rawValue, privateMetadata: ButtonValue(approvalID: approval.id).encoded,
            stateValues: values)
        #expect(try await rig.interactions.handle(.viewSubmission(ViewSubmission(user: PayloadUser(id: "U2"), view: view))) == .empty)
        let decision = try #require(rig.store.stored(approval.id)?.decision)
        #expect(decision.outcome == .rejected)
        #expect(decision.reason == "Freeze week")
        #expect(decision.reasonCode == "not_now")
    }

    // MARK: The slash command

    static func command(_ text: String, by user: String) -> SlashCommand {
        SlashCommand(command: "/gatehouse", text: text, userID: user, channelID: "C0APPROVALS", teamID: "T0")
    }

    @Test("an admin's chain set is saved and audited as theirs; anyone else is refused, audited, and told whom to ask")
    func chainSetNeedsAnAdmin() async throws {
        let rig = Rig()
        let set = "chain set docs <@U0ALICE> 30m then hold"
        let refused = try await rig.commands().answer(Self.command(set, by: "U0MALLORY"))
        #expect(refused.hasPrefix("Sorry, only Gatehouse admins can change chains and admins; nothing was changed."))
        #expect(refused.contains("<@U0ADMIN>"))
        #expect(try await rig.store.chains().isEmpty)
        #expect(rig.audited(.requestRefused).map { $0.details["reason"] } == [.string("not_admin")])

        let saved = try await rig.commands().answer(Self.command(set, by: "U0ADMIN"))
        #expect(saved.hasPrefix("Saved chain `docs`"))
        #expect(try await rig.store.chain(named: "docs")?.finalAction == .hold)
        #expect(rig.audited(.configChanged).map(\.actor) == ["U0ADMIN"])

        let nobody = try await rig.commands(admins: []).answer(Self.command("chain delete docs", by: "U0ADMIN"))
        #expect(nobody.contains("none is configured yet"))
        #expect(try await rig.store.chain(named: "docs") != nil)
    }

    @Test("pending lists what waits, each with its message's link, all links read at once")
    func pendingWithLinks() async throws {
        let rig = Rig()
        let first = rig.file()
        let second = rig.file()
        try await rig.store.recordSlackMessage(
            SlackMessageRecord(
                approvalID: first.id, kind: .channel, channel: "C0APPROVALS", ts: "1.1", permalink: "https://x.slack.com/p11",
                postedAt: rig.clock.now),
            audit: nil)
        let answer = try await rig.commands().answer(Self.command("pending", by: "U0ANYONE"))
        let lines = answer.split(separator: "\n")
        #expect(lines.first == "*Pending requests* (newest first):")
        #expect(lines.count == 3)
        #expect(lines.filter { $0.contains("<https://x.slack.com/p11|open>") }.count == 1)
        _ = second
    }

    // MARK: Delivery

    @Test("a post goes to the approvals channel once, is recorded with what it shows and audited, and its link is kept")
    func postRecorded() async throws {
        let rig = Rig()
        let approval = rig.file()
        let item = OutboxItem(
            id: 1, kind: SlackOutboxKind.post, approvalID: approval.id, orderingKey: nil, payload: .object([:]), attempts: 1,
            createdAt: rig.clock.now, nextAttemptAt: rig.clock.now, lastError: nil)
        try await rig.delivery.deliver(item)
        try await rig.delivery.deliver(item)  // delivered again after a stop: nothing is posted twice
        #expect(rig.slack.calls("chat.postMessage").count == 1)
        let message = try #require(rig.store.messages.first)
        #expect(message.kind == .channel)
        #expect(message.shownSHA256 != nil)
        #expect(message.permalink?.hasPrefix("https://example.slack.com/archives/C0APPROVALS/") == true)
        #expect(rig.audited(.posted).count == 1)
    }

    @Test("an escalation replies in the thread and DMs each member of the level's group but the requester")
    func escalationPings() async throws {
        let rig = Rig(groups: ["S1": ["U7", "U8", "U9"]])
        let approval = rig.file(level: 2, requester: "U8")
        try await rig.store.recordSlackMessage(
            SlackMessageRecord(approvalID: approval.id, kind: .channel, channel: "C0APPROVALS", ts: "1.1", postedAt: rig.clock.now),
            audit: nil)
        let item = OutboxItem(
            id: 7, kind: SlackOutboxKind.escalate, approvalID: approval.id, orderingKey: nil,
            payload: .object(["level": .number(2), "repeated": .bool(false)]), attempts: 1, createdAt: rig.clock.now,
            nextAttemptAt: rig.clock.now, lastError: nil)
        try await rig.delivery.deliver(item)
        let posts = rig.slack.calls("chat.postMessage")
        #expect(posts.first?.fields["thread_ts"] == "1.1")
        #expect(posts.dropFirst().map { $0.fields["channel"] } == ["DU7", "DU9"])
        #expect(rig.store.messages.filter { $0.kind == .dm }.map(\.recipient) == ["U7", "U9"])
    }
}
