import ApprovalCore
import Foundation
import GatehouseServer
import ServerTestSupport
import HummingbirdTesting
import SlackAPI
import SlackBridge
import Storage
import Testing

/// Escalation through whole chains against the stand-in Slack server, with the test clock moved past each SLA.
@Suite("Escalation: levels, pings, DMs, final actions, restarts")
struct EscalationFlowTests {
    static let channel = "C0APPROVALS"

    /// `deploy-prod`: alice for 30m, then the SRE group (bob, carol) for 1h, then dave for 2h, then `final`.
    static func threeLevels(_ final: EscalationChain.FinalAction = .reject) -> EscalationChain {
        EscalationChain(
            name: "deploy-prod",
            levels: [
                .init(approvers: [.user("U0ALICE")], sla: 1800),
                .init(approvers: [.group("S0SRE")], sla: 3600),
                .init(approvers: [.user("U0DAVE")], sla: 7200),
            ],
            finalAction: final)
    }

    static func withChain(
        _ chain: EscalationChain = threeLevels(),
        _ body: @escaping @Sendable (TestEnvironment, FakeSlackWebAPI, SlackDriver) async throws -> Void
    ) async throws {
        try await SlackFlowTests.withSlack { env, fake, slack in
            fake.setGroupMembers("S0SRE", ["U0BOB", "U0CAROL"])
            _ = try await env.configuration(admins: ["U0ADMIN"]).setChain(chain, by: .slackUser("U0ADMIN"))
            try await body(env, fake, slack)
        }
    }

    /// Files a request under `deploy-prod` and waits for its post in the channel.
    static func fileDeploy(_ env: TestEnvironment, _ fake: FakeSlackWebAPI, _ slack: SlackDriver) async throws -> ApprovalID {
        let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
        let id = ApprovalID(rawValue: try #require(created["id"]?.stringValue))
        _ = try await fake.waitForCalls("chat.postMessage", count: 1)
        return id
    }

    static func level(_ env: TestEnvironment, _ id: ApprovalID) async throws -> Int? {
        try await env.database.approval(id)?.escalationLevel
    }

    static func waitForLevel(_ env: TestEnvironment, _ id: ApprovalID, _ level: Int) async throws {
        try await SlackFlowTests.waitUntil(env.database) { try await Self.level(env, id) == level }
    }

    static func threadReplies(_ fake: FakeSlackWebAPI) -> [FakeSlackWebAPI.StoredMessage] {
        fake.messages(in: channel).filter { $0.threadTS != nil }
    }

    static func hasButtons(_ message: FakeSlackWebAPI.StoredMessage?) -> Bool {
        SlackFlowTests.text(of: message).contains("gatehouse.approve")
    }

    @Test("a three-level chain: pings in the thread, DMs with buttons, message updates, then the final action; the API shows level and deadline")
    func wholeChain() async throws {
        try await Self.withChain { env, fake, slack in
            let start = env.clock.now
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
            let id = ApprovalID(rawValue: try #require(created["id"]?.stringValue))
            #expect(created["escalation_level"] == .number(1))
            #expect(created["escalation_levels"] == .number(3))
            #expect(created["deadline"] == .string(RFC3339.string(from: start.addingTimeInterval(1800))))
            // No expires_in: long enough for the whole chain, and at least 24 h.
            #expect(created["expires_at"] == .string(RFC3339.string(from: start.addingTimeInterval(86_400))))
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            let main = try #require(fake.messages(in: Self.channel).first)
            let firstText = SlackFlowTests.text(of: main)
            #expect(firstText.contains("Level 1 of 3"))
            #expect(firstText.contains("<@U0ALICE>"))

            // Level 1's SLA runs out: level 2 (a user group) is asked in the thread and by DM.
            env.clock.advance(by: 1800)
            try await Self.waitForLevel(env, id, 2)
            _ = try await fake.waitForCalls("chat.postMessage", count: 4)  // thread reply + 2 DMs
            let reply = try #require(Self.threadReplies(fake).first)
            #expect(reply.threadTS == main.ts)
            #expect(reply.text?.contains("No decision after 30m; escalated to level 2 of 3: <!subteam^S0SRE>") == true)
            #expect(reply.text?.contains("<!date^") == true)
            #expect(Set(fake.calls("conversations.open").compactMap { $0["users"]?.stringValue }) == ["U0BOB", "U0CAROL"])
            for user in ["U0BOB", "U0CAROL"] {
                let dm = try #require(fake.messages(in: "D" + user).first)
                #expect(Self.hasButtons(dm))
                #expect(SlackFlowTests.text(of: dm).contains("No decision after 30m; escalated to level 2 of 3: <!subteam^S0SRE>."))
            }
            _ = try await fake.waitForCalls("chat.update", count: 1)
            #expect(SlackFlowTests.text(of: fake.message(channel: Self.channel, ts: main.ts)).contains("Level 2 of 3"))
            // The update after the escalation is for the channel message: the DMs were posted showing level 2 already.
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            #expect(fake.calls("chat.update").map { $0["channel"]?.stringValue } == ["C0APPROVALS"])
            let atTwo = try await slack.client.call(.get, "/v1/approvals/\(id)", key: env.requestKey)
            #expect(atTwo["escalation_level"] == .number(2))
            #expect(atTwo["deadline"] == .string(RFC3339.string(from: start.addingTimeInterval(1800 + 3600))))

            // Level 2's SLA runs out: dave is asked.
            env.clock.advance(by: 3600)
            try await Self.waitForLevel(env, id, 3)
            _ = try await fake.waitForCalls("chat.postMessage", count: 6)
            #expect(Self.threadReplies(fake).last?.text?.contains("No decision after 1h; escalated to level 3 of 3: <@U0DAVE>") == true)
            #expect(Self.hasButtons(fake.messages(in: "DU0DAVE").first))
            // Bob's DM, updated for level 3, still says why it was sent; the note below it says what comes next.
            try await SlackFlowTests.waitUntil(env.database, fake) { SlackFlowTests.text(of: fake.messages(in: "DU0BOB").first).contains("Level 3 of 3") }
            #expect(SlackFlowTests.text(of: fake.messages(in: "DU0BOB").first).contains("No decision after 30m; escalated to level 2 of 3"))
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            #expect(fake.messages(in: "DU0DAVE").first?.updateCount == 0)
            #expect(fake.messages(in: "DU0BOB").first?.updateCount == 1)

            // The last SLA runs out: `then reject` expires it, decided by system:timeout, and every message loses its buttons.
            env.clock.advance(by: 7200)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.approval(id)?.status == .expired }
            let expired = try #require(try await env.database.approval(id))
            #expect(expired.decision?.by == "system:timeout")
            #expect(expired.decision?.reason?.contains("then reject") == true)
            try await SlackFlowTests.waitUntil(env.database, fake) {
                let posted = try await env.database.slackMessages(for: id).filter { $0.kind != .thread }
                return posted.count == 4 && posted.allSatisfy { !Self.hasButtons(fake.message(channel: $0.channel, ts: $0.ts)) }
            }
            let audit = try await env.database.auditEntries(approvalID: id)
            let escalations = audit.filter { $0.kind == "escalated" }
            #expect(escalations.map { $0.details["to_level"] } == [.number(2), .number(3)])
            #expect(escalations.allSatisfy { $0.actor == "system:escalation" })
            // Approvers and SLAs as chains are written elsewhere in the log: {"user"|"group": ID}, seconds.
            #expect(escalations.map { $0.details["approvers"] } == [.array([.object(["group": .string("S0SRE")])]), .array([.object(["user": .string("U0DAVE")])])])
            #expect(escalations.map { $0.details["sla"] } == [.number(1800), .number(3600)])
            let metrics = try await slack.client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"gatehouse_escalations_total{repeated="false"} 2"#))
            #expect(audit.last?.kind == "expired" || audit.contains { $0.kind == "expired" })
            guard case .intact = try await env.database.verifyAuditLog() else {
                Issue.record("the audit chain is broken")
                return
            }
        }
    }

    @Test("authority grows level by level: later levels are refused early; group members and earlier levels may decide later")
    func authorityGrows() async throws {
        try await Self.withChain { env, fake, slack in
            let id = try await Self.fileDeploy(env, fake, slack)

            // Level 1: dave (level 3) and bob (the group at level 2) may not decide yet.
            _ = try await slack.click(.approve, on: id, by: "U0DAVE")
            _ = try await slack.click(.approve, on: id, by: "U0BOB")
            let refusals = try await fake.waitForCalls("chat.postEphemeral", count: 2)
            #expect(refusals.allSatisfy { $0["text"]?.stringValue?.contains("not among the approvers of this request at level 1 of 3") == true })
            #expect(refusals.allSatisfy { $0["text"]?.stringValue?.contains("<@U0ALICE>") == true })
            #expect(try await env.database.approval(id)?.status == .pending)
            let refused = try await env.database.auditEntries(approvalID: id).filter { $0.kind == "decision_refused" }
            #expect(refused.map { $0.details["reason"] } == [.string("not_approver"), .string("not_approver")])
            // Reject opens no form for someone who may not decide.
            _ = try await slack.click(.reject, on: id, by: "U0DAVE")
            _ = try await fake.waitForCalls("chat.postEphemeral", count: 3)
            #expect(fake.calls("views.open").isEmpty)

            env.clock.advance(by: 1800)
            try await Self.waitForLevel(env, id, 2)
            // Level 2: bob is in the group now asked; the membership comes from usergroups.users.list.
            _ = try await slack.click(.approve, on: id, by: "U0BOB", name: "bob")
            let decided = try #require(try await env.database.approval(id))
            #expect(decided.status == .approved)
            #expect(decided.decision?.by == "U0BOB")
            #expect(fake.calls("usergroups.users.list").first?["usergroup"]?.stringValue == "S0SRE")

            // A decision during escalation cancels the remaining timers: nothing more is sent or audited.
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            let postsBefore = fake.calls("chat.postMessage").count
            env.clock.advance(by: 3600 + 7200 + 86_400)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            #expect(fake.calls("chat.postMessage").count == postsBefore)
            #expect(try await env.database.auditEntries(approvalID: id).filter { $0.kind == "escalated" }.count == 1)
            #expect(try await env.database.approval(id)?.status == .approved)
        }
    }

    @Test("level 1 may still decide at level 2, and a Slack error reading a group fails closed")
    func earlierLevelsKeepAuthority() async throws {
        try await Self.withChain { env, fake, slack in
            let first = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
            let second = try await slack.client.createApproval(key: env.requestKey, action: "Second", extra: #","gate":"deploy-prod""#)
            let firstID = ApprovalID(rawValue: try #require(first["id"]?.stringValue))
            let secondID = ApprovalID(rawValue: try #require(second["id"]?.stringValue))
            env.clock.advance(by: 1800)
            try await Self.waitForLevel(env, firstID, 2)
            try await Self.waitForLevel(env, secondID, 2)
            _ = try await slack.click(.approve, on: firstID, by: "U0ALICE")
            #expect(try await env.database.approval(firstID)?.status == .approved)

            // The escalation's DMs read the group; once that list is older than the directory keeps it, Slack is asked
            // again, and when Slack fails nobody outside the named users may decide.
            // Every delivery of both escalations is finished first, so none of them can take the failure meant for bob.
            _ = try await fake.waitForCalls("usergroups.users.list", count: 1)
            for id in [firstID, secondID] {
                try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            }
            let listsBefore = fake.calls("usergroups.users.list").count
            fake.fail("usergroups.users.list", with: .serverError, times: 1)
            env.clock.advance(by: 120)
            _ = try await slack.click(.approve, on: secondID, by: "U0BOB")
            #expect(try await env.database.approval(secondID)?.status == .pending)
            let reply = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(reply["user"]?.stringValue == "U0BOB")
            #expect(reply["text"]?.stringValue?.contains("could not check") == true)
            #expect(reply["text"]?.stringValue?.contains("try again in a moment") == true)
            let refused = try await env.database.auditEntries(approvalID: secondID).filter { $0.kind == "click_refused" }
            #expect(refused.map { $0.details["reason"] } == [.string("membership_unknown")])
            #expect(refused.first?.actor == "U0BOB")
            #expect(fake.calls("usergroups.users.list").count == listsBefore + 1)

            // A group Slack does not know: retrying cannot help, and the reply says whom to ask.
            fake.fail("usergroups.users.list", with: .error("no_such_subteam"), times: 5)
            env.clock.advance(by: 120)
            _ = try await slack.click(.approve, on: secondID, by: "U0CAROL")
            let permanent = try await fake.waitForCalls("chat.postEphemeral", count: 2)[1]
            #expect(permanent["text"]?.stringValue?.contains("Trying again will not help: ask a Gatehouse admin to check the chain's user groups. Slack's hint: ") == true, "\(permanent)")
            #expect(try await env.database.approval(secondID)?.status == .pending)
            // Both failures are counted, as a delivery's are.
            let metrics = try await slack.client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"gatehouse_slack_api_errors_total{method="usergroups.users.list",error="http_500",permanent="false"} 1"#))
            #expect(metrics.contains(#"gatehouse_slack_api_errors_total{method="usergroups.users.list",error="no_such_subteam",permanent="true"} 1"#), "\(metrics)")
        }
    }

    @Test("a group at a level not yet reached stands in nobody's way: with Slack failing, level 1 may still open Reject and Modify, others are told they are not approvers")
    func unreachedGroupsAreNotRead() async throws {
        try await Self.withChain { env, fake, slack in
            let id = try await Self.fileDeploy(env, fake, slack)
            fake.fail("usergroups.users.list", with: .serverError, times: 10)

            _ = try await slack.click(.reject, on: id, by: "U0ALICE")
            _ = try await slack.click(.modify, on: id, by: "U0ALICE")
            #expect(fake.calls("views.open").count == 2)
            // Bob is only in level 2's group: at level 1 he is simply not an approver, whatever Slack says about groups.
            _ = try await slack.click(.reject, on: id, by: "U0BOB")
            let refusal = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(refusal["user"]?.stringValue == "U0BOB")
            #expect(refusal["text"]?.stringValue?.contains("not among the approvers of this request at level 1 of 3") == true)
            #expect(fake.calls("views.open").count == 2)
            #expect(fake.calls("usergroups.users.list").isEmpty)
            #expect(try await env.database.approval(id)?.status == .pending)
        }
    }

    @Test("a click that is refused for another reason (own request, already decided) says so even when Slack cannot list a group")
    func otherRefusalsBeforeGroups() async throws {
        try await Self.withChain { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod","requester":"U0REQ""#)
            let id = ApprovalID(rawValue: try #require(created["id"]?.stringValue))
            env.clock.advance(by: 1800)
            try await Self.waitForLevel(env, id, 2)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            fake.fail("usergroups.users.list", with: .error("no_such_subteam"), times: 20)
            env.clock.advance(by: 120)  // past the group directory's minute

            _ = try await slack.click(.approve, on: id, by: "U0REQ")
            _ = try await slack.click(.reject, on: id, by: "U0REQ")
            let own = try await fake.waitForCalls("chat.postEphemeral", count: 2)
            #expect(own.allSatisfy { $0["text"]?.stringValue == "You filed this request, so someone else has to decide it." })

            _ = try await slack.click(.approve, on: id, by: "U0ALICE", name: "alice")
            #expect(try await env.database.approval(id)?.status == .approved)
            _ = try await slack.click(.approve, on: id, by: "U0ZED")
            _ = try await slack.click(.modify, on: id, by: "U0ZED")
            let late = try await fake.waitForCalls("chat.postEphemeral", count: 4).suffix(2)
            #expect(late.allSatisfy { $0["text"]?.stringValue?.contains("already approved by <@U0ALICE>") == true }, "\(late)")
            let refused = try await env.database.auditEntries(approvalID: id).filter { $0.kind == "click_refused" || $0.kind == "decision_refused" }
            #expect(refused.map { $0.details["reason"] } == [.string("self_approval"), .string("self_approval"), .string("already_decided"), .string("already_decided")])
            // Approve or a form button: the same refusal is the same kind of entry.
            #expect(refused.allSatisfy { $0.kind == "decision_refused" })
            #expect(fake.calls("views.open").isEmpty)
        }
    }

    @Test("a decision made while an escalation's DMs go out stops the rest: nobody is asked for what is done")
    func decisionDuringDMs() async throws {
        try await Self.withChain { env, fake, slack in
            let id = try await Self.fileDeploy(env, fake, slack)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.slackMessages(for: id).count == 1 }
            // Slack is slow to open the first DM; meanwhile someone rejects the request through the API.
            let slowOpen = fake.hold("conversations.open")
            defer { slowOpen.release() }
            env.clock.advance(by: 1800)
            await slowOpen.arrived()
            let decided = try await slack.client.call(
                .post, "/v1/approvals/\(id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"carol","reason":"not now"}"#)
            #expect(decided.status == .ok)
            slowOpen.release()
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            // The thread reply went out before the decision; no DM after it.
            #expect(Self.threadReplies(fake).count == 1)
            #expect(fake.messages(in: "DU0BOB").isEmpty && fake.messages(in: "DU0CAROL").isEmpty)
            #expect(try await env.database.slackMessages(for: id).filter { $0.kind == .dm }.isEmpty)
            let main = SlackFlowTests.text(of: fake.messages(in: Self.channel).first)
            #expect(main.contains("Rejected") && !Self.hasButtons(fake.messages(in: Self.channel).first))
        }
    }

    @Test("someone Slack refuses for good (a bot in the group, a deactivated account) is skipped; the others still get their DMs")
    func recipientRefused() async throws {
        try await Self.withChain { env, fake, slack in
            fake.setGroupMembers("S0SRE", ["U0ABOT", "U0BOB", "U0CAROL"])
            let id = try await Self.fileDeploy(env, fake, slack)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.slackMessages(for: id).count == 1 }
            fake.fail("conversations.open", with: .error("cannot_dm_bot"), times: 1)
            env.clock.advance(by: 1800)
            try await Self.waitForLevel(env, id, 2)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil || $0.failedAt != nil } }
            #expect(try await env.database.outboxItems(approvalID: id).allSatisfy { $0.failedAt == nil })
            #expect(fake.calls("conversations.open").compactMap { $0["users"]?.stringValue } == ["U0ABOT", "U0BOB", "U0CAROL"])
            #expect(Self.hasButtons(fake.messages(in: "DU0BOB").first) && Self.hasButtons(fake.messages(in: "DU0CAROL").first))
            #expect(Set(try await env.database.slackMessages(for: id).compactMap(\.recipient)) == ["U0BOB", "U0CAROL"])
            let metrics = try await slack.client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"gatehouse_slack_api_errors_total{method="conversations.open",error="cannot_dm_bot",permanent="true"} 1"#))
        }
    }

    @Test("then approve applies to low risk only; other risks expire")
    func thenApprove() async throws {
        let chain = EscalationChain(name: "docs", levels: [.init(approvers: [.user("U0ALICE")], sla: 600)], finalAction: .approve)
        try await Self.withChain(chain) { env, fake, slack in
            let low = try await slack.client.createApproval(key: env.requestKey, action: "Low", extra: #","gate":"docs","risk":"low""#)
            let high = try await slack.client.createApproval(key: env.requestKey, action: "High", extra: #","gate":"docs","risk":"high""#)
            let lowID = ApprovalID(rawValue: try #require(low["id"]?.stringValue))
            let highID = ApprovalID(rawValue: try #require(high["id"]?.stringValue))
            env.clock.advance(by: 600)
            try await SlackFlowTests.waitUntil(env.database, fake) {
                let lowStatus = try await env.database.approval(lowID)?.status
                let highStatus = try await env.database.approval(highID)?.status
                return lowStatus != .pending && highStatus != .pending
            }
            let approved = try #require(try await env.database.approval(lowID))
            #expect(approved.status == .approved)
            #expect(approved.decision?.by == "policy:then-approve")
            let expired = try #require(try await env.database.approval(highID))
            #expect(expired.status == .expired)
            #expect(expired.decision?.by == "system:timeout")
            #expect(expired.decision?.reason?.hasSuffix("it ends with `then approve`, which approves low-risk requests only, and this one is high risk.") == true)
            // Both channel messages show the outcome, without buttons (posted before it and updated, or posted after).
            try await SlackFlowTests.waitUntil(env.database, fake) {
                let messages = fake.messages(in: Self.channel).filter { $0.threadTS == nil }.map { SlackFlowTests.text(of: $0) }
                return messages.count == 2 && messages.allSatisfy { !$0.contains("gatehouse.approve") }
            }
            let texts = fake.messages(in: Self.channel).filter { $0.threadTS == nil }.map { SlackFlowTests.text(of: $0) }
            #expect(texts.contains { $0.contains("Low") && $0.contains("Approved") })
            #expect(texts.contains { $0.contains("High") && $0.contains("Expired") })
        }
    }

    @Test("then hold asks the last level again every SLA until the request expires")
    func holdRepings() async throws {
        let chain = EscalationChain(name: "db", levels: [.init(approvers: [.user("U0ALICE")], sla: 600)], finalAction: .hold)
        try await Self.withChain(chain) { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"db","expires_in":2700"#)
            let id = ApprovalID(rawValue: try #require(created["id"]?.stringValue))
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            for ping in 1...4 {
                env.clock.advance(by: 600)
                // One thread reply and one DM to alice per ping.
                _ = try await fake.waitForCalls("chat.postMessage", count: 1 + 2 * ping)
                #expect(Self.threadReplies(fake).count == ping)
                #expect(try await env.database.approval(id)?.status == .pending)
                try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
                // Asking again changes nothing the messages show (their note names no time for the next ask), so
                // neither the channel message nor the DM is updated; until the last ask, after which it expires.
                #expect(fake.calls("chat.update").count == (ping < 4 ? 0 : 2), "ping \(ping)")
            }
            // Each ask says how long level 1 has waited.
            #expect(Self.threadReplies(fake).map { $0.text?.components(separatedBy: ";").first } == [10, 20, 30, 40].map {
                "Still no decision after \($0)m at level 1 of 1"
            })
            #expect(Self.threadReplies(fake).allSatisfy { $0.text?.contains("; asking again: <@U0ALICE>.") == true })
            // One DM with the buttons, then plain reminders that are never updated: updates do not grow with each ping.
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            let dms = fake.messages(in: "DU0ALICE")
            #expect(dms.count == 4)
            #expect(Self.hasButtons(dms.first))
            #expect(dms.dropFirst().allSatisfy { $0.blocks == nil && $0.updateCount == 0 })
            #expect(dms.dropFirst().allSatisfy { $0.text?.contains("Decide with the buttons of my first message about") == true })
            // The last ask updated the channel message and the DM with buttons: no more asks, it expires.
            #expect(dms[0].updateCount == 1)
            let expiresAt = try #require(try await env.database.approval(id)).expiresAt
            for message in [fake.messages(in: Self.channel).first, dms[0]] {
                let text = SlackFlowTests.text(of: message)
                #expect(text.contains("expires <!date^\(Int(expiresAt.timeIntervalSince1970))^"), "\(text)")
                #expect(text.contains(" if nobody decides"))
                #expect(!text.contains("again every"))
            }
            #expect(SlackFlowTests.text(of: dms[0]).contains("Still no decision after 10m at level 1 of 1; asking again"))
            env.clock.advance(by: 300)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.approval(id)?.status == .expired }
            #expect(try await env.database.auditEntries(approvalID: id).filter { $0.kind == "escalated" }.count == 4)
            try await SlackFlowTests.waitUntil(env.database, fake) { !Self.hasButtons(fake.message(channel: "DU0ALICE", ts: dms[0].ts)) }
            let decidedDM = fake.message(channel: "DU0ALICE", ts: dms[0].ts)
            #expect(SlackFlowTests.text(of: decidedDM).contains("Still no decision after 10m at level 1 of 1"))
            // The latest reminder, the one alice's DM shows last, no longer asks for a decision: it is changed once, to
            // say none is needed and why. The older ones are left as they are.
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            let reminders = Array(fake.messages(in: "DU0ALICE").dropFirst())
            #expect(reminders.count == 3)
            #expect(reminders.map(\.updateCount) == [0, 0, 1])
            #expect(reminders.allSatisfy { $0.blocks == nil })
            let settled = try #require(reminders.last?.text)
            #expect(settled.hasPrefix("“Deploy api to production” is no longer waiting for you. :hourglass: *Expired* · <!date^"), "\(settled)")
            // Thread replies are a record of what happened: never changed.
            #expect(Self.threadReplies(fake).allSatisfy { $0.updateCount == 0 })
        }
    }

    @Test("a request keeps the chain it was filed under: later edits and deletion change nothing in flight")
    func snapshotIsolation() async throws {
        try await Self.withChain { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
            let id = ApprovalID(rawValue: try #require(created["id"]?.stringValue))
            let replaced = EscalationChain(name: "deploy-prod", levels: [.init(approvers: [.user("U0MALLORY")], sla: 60)], finalAction: .approve)
            _ = try await env.configuration(admins: ["U0ADMIN"]).setChain(replaced, by: .slackUser("U0ADMIN"))
            #expect(try await env.database.approval(id)?.chain == Self.threeLevels())
            env.clock.advance(by: 60)
            _ = try await slack.click(.approve, on: id, by: "U0MALLORY")
            #expect(try await env.database.approval(id)?.status == .pending)
            #expect(try await Self.level(env, id) == 1)
            let deleted = try await env.configuration(admins: ["U0ADMIN"]).deleteChain(named: "deploy-prod", by: .slackUser("U0ADMIN"))
            #expect(deleted.pending == 1)
            env.clock.advance(by: 1740)
            try await Self.waitForLevel(env, id, 2)
            #expect(try await env.database.approval(id)?.chain == Self.threeLevels())
            // A request filed now gets the default chain: anyone but the requester decides.
            let later = try await slack.client.createApproval(key: env.requestKey, action: "Later", extra: #","gate":"deploy-prod""#)
            let laterID = ApprovalID(rawValue: try #require(later["id"]?.stringValue))
            _ = try await slack.click(.approve, on: laterID, by: "U0MALLORY")
            #expect(try await env.database.approval(laterID)?.status == .approved)
        }
    }

    @Test("a request whose whole chain ran out while the service was down expires at the restart and pings nobody")
    func restartPastTheWholeChain() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        fake.setGroupMembers("S0SRE", ["U0BOB", "U0CAROL"])
        let configuration = env.slackConfiguration(fake)
        _ = try await env.configuration(admins: ["U0ADMIN"]).setChain(Self.threeLevels(), by: .slackUser("U0ADMIN"))
        let id = try await env.application(configuration: configuration).test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
            let id = ApprovalID(rawValue: try #require(created["id"]?.stringValue))
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.slackMessages(for: id).count == 1 }
            return id
        }
        try env.database.close()
        env.clock.advance(by: 1800 + 3600 + 7200 + 60)
        let reopened = try env.reopenDatabase()
        try await env.application(configuration: configuration, database: reopened).test(.live) { _ in
            try await SlackFlowTests.waitUntil(reopened, fake) { try await reopened.approval(id)?.status == .expired }
            try await SlackFlowTests.waitUntil(reopened, fake) { try await reopened.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
        }
        let audit = try await reopened.auditEntries(approvalID: id).map(\.kind)
        try reopened.close()
        #expect(audit.filter { $0 == "escalated" }.count == 2)
        #expect(audit.last == "expired")
        // One post before the restart; after it, no thread reply, no DM, and one update showing the outcome.
        #expect(fake.calls("chat.postMessage").count == 1)
        #expect(fake.calls("conversations.open").isEmpty)
        #expect(fake.calls("chat.update").count == 1)
        await fake.stop()
    }

    /// Files a request under `chain` while the service runs, stops it, lets `downFor` pass, and starts it again on the
    /// same file; `body` runs while it is back up, with the filing time.
    static func downAfterFiling(
        _ chain: EscalationChain, downFor: TimeInterval,
        _ body: @escaping @Sendable (TestEnvironment, FakeSlackWebAPI, GatehouseDatabase, ApprovalID, Date) async throws -> Void
    ) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        let configuration = env.slackConfiguration(fake)
        _ = try await env.configuration(admins: ["U0ADMIN"]).setChain(chain, by: .slackUser("U0ADMIN"))
        let start = env.clock.now
        let id = try await env.application(configuration: configuration).test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","gate":"\#(chain.name)""#)
            let id = ApprovalID(rawValue: try #require(created["id"]?.stringValue))
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.slackMessages(for: id).count == 1 }
            return id
        }
        try env.database.close()
        env.clock.advance(by: downFor)
        let reopened = try env.reopenDatabase()
        defer { try? reopened.close() }
        try await env.application(configuration: configuration, database: reopened).test(.live) { _ in
            try await body(env, fake, reopened, id, start)
        }
        await fake.stop()
    }

    @Test("a held request that missed many asks while the service was down is asked once at the restart, saying how long it waited, then on its rhythm")
    func restartWithMissedHoldAsks() async throws {
        let chain = EscalationChain(name: "db", levels: [.init(approvers: [.user("U0ALICE")], sla: 600)], finalAction: .hold)
        // Down for 3h5m: 18 asks were due meanwhile.
        try await Self.downAfterFiling(chain, downFor: 3 * 3600 + 5 * 60) { env, fake, reopened, id, start in
            _ = try await fake.waitForCalls("chat.postMessage", count: 3)  // a thread reply and a DM
            try await SlackFlowTests.waitUntil(reopened, fake) { try await reopened.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            #expect(Self.threadReplies(fake).map { $0.text?.components(separatedBy: ";").first } == ["Still no decision after 3h5m at level 1 of 1"])
            // The next ask keeps the rhythm of the level, not of the restart.
            #expect(try await reopened.approval(id)?.nextDeadline == start.addingTimeInterval(3 * 3600 + 10 * 60))
            env.clock.advance(by: 5 * 60)
            _ = try await fake.waitForCalls("chat.postMessage", count: 5)
            #expect(Self.threadReplies(fake).last?.text?.hasPrefix("Still no decision after 3h10m at level 1 of 1; asking again") == true)
            let escalations = try await reopened.auditEntries(approvalID: id).filter { $0.kind == "escalated" }
            #expect(escalations.count == 2)
            #expect(escalations.allSatisfy { $0.details["repeated"] == .bool(true) })
        }
    }

    @Test("a late escalation to a held last level and the re-ask that fell due after it make one ask at the restart, not a DM and a reminder")
    func restartWithLateEscalationAndAsk() async throws {
        let chain = EscalationChain(
            name: "db", levels: [.init(approvers: [.user("U0ALICE")], sla: 600), .init(approvers: [.user("U0BOB")], sla: 600)],
            finalAction: .hold)
        // Down for 25m: level 2 was due at 10m, its first re-ask at 20m.
        try await Self.downAfterFiling(chain, downFor: 25 * 60) { _, fake, reopened, id, _ in
            try await SlackFlowTests.waitUntil(reopened, fake) { try await reopened.approval(id)?.escalationLevel == 2 }
            try await SlackFlowTests.waitUntil(reopened, fake) { try await reopened.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
            let kinds = try await reopened.auditEntries(approvalID: id).filter { $0.kind == "escalated" }.map { $0.details["repeated"] }
            #expect(kinds == [nil, .bool(true)])  // both steps audited
            #expect(Self.threadReplies(fake).count == 1)
            #expect(Self.threadReplies(fake).first?.text?.hasPrefix("No decision after 10m; escalated to level 2 of 2: <@U0BOB>.") == true)
            let dms = fake.messages(in: "DU0BOB")
            #expect(dms.count == 1)
            #expect(Self.hasButtons(dms.first))
        }
    }

    @Test("after a restart every overdue escalation fires at once, in order, and none fires twice")
    func restartWithOverdueDeadlines() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        fake.setGroupMembers("S0SRE", ["U0BOB"])
        let configuration = env.slackConfiguration(fake)
        _ = try await env.configuration(admins: ["U0ADMIN"]).setChain(Self.threeLevels(), by: .slackUser("U0ADMIN"))
        let id = try await env.application(configuration: configuration).test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.slackMessages(for: ApprovalID(rawValue: created["id"]!.stringValue!)).count == 1 }
            return ApprovalID(rawValue: try #require(created["id"]?.stringValue))
        }
        try env.database.close()
        // Down through levels 1 and 2: both deadlines pass while nothing runs.
        env.clock.advance(by: 1800 + 3600 + 60)
        let reopened = try env.reopenDatabase()
        try await env.application(configuration: configuration, database: reopened).test(.live) { _ in
            try await SlackFlowTests.waitUntil(reopened, fake) { try await reopened.approval(id)?.escalationLevel == 3 }
            // Two thread replies (levels 2 and 3), a DM to bob and one to dave.
            _ = try await fake.waitForCalls("chat.postMessage", count: 5)
            try await SlackFlowTests.waitUntil(reopened, fake) { try await reopened.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
        }
        try reopened.close()
        let again = try env.reopenDatabase()
        try await env.application(configuration: configuration, database: again).test(.live) { client in
            _ = try await client.call(.get, "/healthz")
            try await SlackFlowTests.waitUntil(env.database, fake) { try await again.outboxItems(approvalID: id).allSatisfy { $0.doneAt != nil } }
        }
        let escalations = try await again.auditEntries(approvalID: id).filter { $0.kind == "escalated" }
        try again.close()
        #expect(escalations.map { $0.details["to_level"] } == [.number(2), .number(3)])
        // Level 3 started when level 2's SLA ended, not at the restart.
        #expect(escalations.last?.details["next_deadline"] == .string(RFC3339.string(from: Date(timeIntervalSince1970: 1_795_309_200 + 1800 + 3600 + 7200))))
        let replies = fake.messages(in: Self.channel).filter { $0.threadTS != nil }.compactMap(\.text)
        #expect(replies.count == 2)
        #expect(replies.first?.contains("level 2 of 3") == true)
        #expect(replies.last?.contains("level 3 of 3") == true)
        #expect(fake.messages(in: "DU0BOB").count == 1)
        #expect(fake.messages(in: "DU0DAVE").count == 1)
        await fake.stop()
    }
}
