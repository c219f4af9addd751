import ApprovalCore
import DomainTestSupport
import Foundation
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import SlackBridge
import Storage
import Testing

@Suite("Policies end to end: auto, evaluate, quorum in Slack and over the API, break-glass")
struct PolicyFlowTests {
    static let policies = PolicySet(
        roles: [Role(name: "lead", users: ["U0LEAD"]), Role(name: "director", users: ["U0DIR"]), Role(name: "oncall", users: ["U0ONCALL"])],
        rules: [
            PolicyRule(name: "docs-low", when: PolicyCondition(gate: "docs", risk: [.low]), then: .auto),
            PolicyRule(
                name: "big-spend", when: PolicyCondition(payload: [PayloadCondition(path: "cost", [.gt(1000)])]),
                then: .require(approvals: 2, roles: ["lead", "director"], chain: "spend")),
            PolicyRule(name: "pair", when: PolicyCondition(gate: "pair"), then: .require(approvals: 2, roles: [], chain: nil)),
            PolicyRule(name: "quiet-window", when: PolicyCondition(gate: "quiet"), then: .notify(window: 600)),
        ],
        breakGlass: BreakGlassPolicy(roles: ["oncall"], reviewWithin: 3600, maxPer30Days: 1))

    static func withSlack(_ body: @escaping @Sendable (TestEnvironment, FakeSlackWebAPI, SlackDriver) async throws -> Void) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        _ = try await env.database.changePolicies(by: "cli:test") { _ in Self.policies }
        _ = try await env.database.changeChains(by: "cli:test") { _ in
            [ChainChange(name: "spend", kind: .added, before: nil,
                         after: EscalationChain(name: "spend", levels: [.init(approvers: [.user("U0CHAIN")], sla: 3600)]))]
        }
        let fake = try await FakeSlackWebAPI.start()
        var configuration = env.slackConfiguration(fake)
        configuration.admins = ["U0ADMIN", "U0ONCALL"]
        try await env.application(configuration: configuration).test(.live) { client in
            try await body(env, fake, SlackDriver(env: env, client: client))
        }
        await fake.stop()
    }

    @Test("auto: a low-risk docs request is approved at submit by policy:docs-low, nothing is posted, and it verifies")
    func auto() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"docs","risk":"low""#)
            #expect(created.status == .created)
            #expect(created["status"] == .string("approved"))
            #expect(created["decision"]?["by"] == .string("policy:docs-low"))
            #expect(created["policy"] == .string("docs-low"))
            let verified = try await slack.client.call(
                .post, "/v1/approvals/\(created.id)/verify", key: env.requestKey,
                body: #"{"payload":{"service":"api","environment":"production","commit":"4f2a9c1"},"consume":true}"#)
            #expect(verified.status == .ok)
            // The same request at medium risk is not auto: the rule is skipped, and the request is posted.
            let medium = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"docs","risk":"medium""#)
            #expect(medium["status"] == .string("pending"))
            #expect(medium["policy"] == .null)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            #expect(fake.calls("chat.postMessage").count == 1)
            let entries = try await env.database.auditEntries(approvalID: created.id).map(\.kind)
            #expect(entries.prefix(2) == ["created", "decided"])
        }
    }

    @Test("POST /v1/policy/evaluate answers the rule and the trace, and stores nothing")
    func evaluate() async throws {
        try await Self.withSlack { env, _, slack in
            let before = try await env.database.countsByStatus()
            let answer = try await slack.client.call(
                .post, "/v1/policy/evaluate", key: env.requestKey,
                body: #"{"action":"Buy","payload":{"cost":1500},"risk":"high","gate":"purchases"}"#)
            #expect(answer.status == .ok)
            #expect(answer["policy"] == .string("big-spend"))
            #expect(answer["outcome"] == .string("require"))
            #expect(answer["approvals"] == .number(2))
            #expect(answer["chain"] == .string("spend"))
            #expect(answer["trace"]?[0]?["matched"] == .bool(false) || answer["trace"] != nil)
            let bad = try await slack.client.call(.post, "/v1/policy/evaluate", key: env.requestKey, body: #"{"action":"","payload":{}}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(try await env.database.countsByStatus() == before)
        }
    }

    @Test("a quorum in Slack: votes show on the message, a second vote and an outsider change nothing, the last role completes it")
    func quorumInSlack() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(
                key: env.requestKey, payload: #"{"cost":1500}"#, extra: #","gate":"purchases","risk":"high""#)
            #expect(created["quorum"]?["required"] == .number(2))
            #expect(created["quorum"]?["missing_roles"] == .array([.string("lead"), .string("director")]))
            let posted = try await fake.waitForCalls("chat.postMessage", count: 1)[0]
            #expect(posted.problems.isEmpty)

            #expect(try await slack.click(.approve, on: created.id, by: "U0LEAD", name: "lee").status == .ok)
            var stored = try #require(try await env.database.approval(created.id))
            #expect(stored.status == .pending)
            #expect(stored.votes.map(\.roles) == [["lead"]])
            let update = try await fake.waitForCalls("chat.update", count: 1)[0]
            #expect(update.problems.isEmpty)
            let message = try #require(fake.messages(in: "C0APPROVALS").first)
            let shown = SlackFlowTests.text(of: message)
            #expect(shown.contains("Still needed"))
            #expect(shown.contains("director"))

            // The same person again, and someone outside the roles and the chain: nothing changes, each is told why.
            _ = try await slack.click(.approve, on: created.id, by: "U0LEAD", name: "lee")
            _ = try await slack.click(.approve, on: created.id, by: "U0OUTSIDER")
            let replies = try await fake.waitForCalls("chat.postEphemeral", count: 2)
            #expect(replies[0]["text"]?.stringValue?.contains("already approved") == true)
            #expect(replies[1]["text"]?.stringValue?.contains("not among the approvers") == true)
            stored = try #require(try await env.database.approval(created.id))
            #expect(stored.votes.count == 1)
            let refusals = try await env.database.auditEntries(approvalID: created.id).filter { $0.kind == "decision_refused" }
            #expect(refusals.map { $0.details["reason"] } == [.string("already_voted"), .string("not_approver")])

            #expect(try await slack.click(.approve, on: created.id, by: "U0DIR", name: "dee").status == .ok)
            let done = try await slack.client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(done["status"] == .string("approved"))
            #expect(done["votes"]?[1]?["roles"] == .array([.string("director")]))
            #expect(done["quorum"]?["approvals"] == .number(2))
            #expect(done["quorum"]?["missing_roles"] == .array([]))
        }
    }

    @Test("two people casting the last needed vote at once: one decides, the other is told it was decided; no vote is lost")
    func concurrentLastVotes() async throws {
        try await Self.withSlack { env, _, slack in
            let second = try await env.database.createKey(name: "second", scope: .decide)
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"pair""#)
            let first = try await slack.client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.adminKey, body: #"{"outcome":"approve","as":"ann"}"#)
            #expect(first["status"] == .string("pending"))
            // One key is one voter, whoever its `as` names.
            let sameKey = try await slack.client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.adminKey, body: #"{"outcome":"approve","as":"zed"}"#)
            #expect(sameKey.status == .conflict)
            #expect(sameKey.errorCode == "already_voted")
            async let a = slack.client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"bob"}"#)
            async let b = slack.client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: second, body: #"{"outcome":"approve","as":"cat"}"#)
            let answers = try await [a, b]
            #expect(answers.map(\.status.code).sorted() == [200, 409])
            #expect(answers.contains { $0.errorCode == "already_decided" })
            let stored = try #require(try await env.database.approval(created.id))
            #expect(stored.status == .approved)
            #expect(stored.votes.count == 2)
            #expect(try await env.database.auditEntries(approvalID: created.id).filter { $0.kind == "decided" }.count == 1)
        }
    }

    @Test("break-glass: refused without the key flag (audited); with it, approved at once, posted loudly, reviewed by another admin")
    func breakGlass() async throws {
        try await Self.withSlack { env, fake, slack in
            let pager = try await env.database.createKey(name: "pager", scope: .decide, breakGlass: true)
            let created = try await slack.client.createApproval(
                key: env.requestKey, payload: #"{"cost":5000}"#, extra: #","gate":"purchases","risk":"critical""#)
            let refused = try await slack.client.call(
                .post, "/v1/approvals/\(created.id)/break-glass", key: env.decideKey, body: #"{"reason":"down","as":"bob"}"#)
            #expect(refused.status == .forbidden)
            #expect(try await env.database.approval(created.id)?.status == .pending)
            let noReason = try await slack.client.call(
                .post, "/v1/approvals/\(created.id)/break-glass", key: pager, body: #"{"reason":"  ","as":"U0ONCALL"}"#)
            #expect(noReason.status == .unprocessableContent)

            let broken = try await slack.client.call(
                .post, "/v1/approvals/\(created.id)/break-glass", key: pager, body: #"{"reason":"checkout is down","as":"U0ONCALL"}"#)
            #expect(broken.status == .ok)
            #expect(broken["status"] == .string("approved"))
            #expect(broken["decision"]?["break_glass"] == .bool(true))
            let kinds = try await env.database.auditEntries(approvalID: created.id).map(\.kind)
            #expect(kinds.contains("break_glass"))
            #expect(kinds.contains("decision_refused"))

            // The loud post, with Mark reviewed; the breaker's key acted for nobody who is an admin, so U0ADMIN reviews.
            try await SlackFlowTests.waitUntil(env.database, fake) { fake.calls("chat.postMessage").count >= 2 }
            let loud = try #require(fake.messages(in: "C0APPROVALS").first { SlackFlowTests.text(of: $0).contains("gatehouse.mark_reviewed") })
            #expect(SlackFlowTests.text(of: loud).contains("checkout is down"))
            _ = try await slack.click(.markReviewed, on: created.id, by: "U0LEAD")
            let notAdmin = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(notAdmin["text"]?.stringValue?.contains("Only a Gatehouse admin") == true)
            _ = try await slack.click(.markReviewed, on: created.id, by: "U0ADMIN")
            try await SlackFlowTests.waitUntil(env.database, fake) {
                SlackFlowTests.text(of: fake.message(channel: loud.channel, ts: loud.ts)).contains("Reviewed by")
            }
            #expect(try await env.database.breakGlassUses(unreviewedOnly: true).isEmpty)
            #expect(try await env.database.auditEntries(approvalID: created.id).contains { $0.kind == "break_glass_reviewed" })
        }
    }

    @Test("an unreviewed break-glass approval: the admins get a DM once past review_within and again a day later, then none once it is reviewed")
    func breakGlassReminders() async throws {
        try await Self.withSlack { env, fake, slack in
            let pager = try await env.database.createKey(name: "pager", scope: .decide, breakGlass: true)
            let created = try await slack.client.createApproval(
                key: env.requestKey, payload: #"{"cost":5000}"#, extra: #","gate":"purchases","risk":"critical""#)
            let broken = try await slack.client.call(
                .post, "/v1/approvals/\(created.id)/break-glass", key: pager, body: #"{"reason":"checkout is down","as":"U0ONCALL"}"#)
            #expect(broken.status == .ok)
            @Sendable func reminders() -> [String] {
                fake.calls("chat.postMessage").filter { ["DU0ADMIN", "DU0ONCALL"].contains($0["channel"]?.stringValue) }
                    .compactMap { $0["text"]?.stringValue }.filter { $0.contains("still unreviewed") }
            }
            // review_within is 1 h; the reminder pass runs every 10 minutes on the service's clock.
            env.clock.advance(by: 4200)
            try await SlackFlowTests.waitUntil(env.database, fake) { reminders().count == 2 }
            #expect(reminders().allSatisfy { $0.contains(created.id.rawValue) && $0.contains("checkout is down") })
            env.clock.advance(by: 86_400)
            try await SlackFlowTests.waitUntil(env.database, fake) { reminders().count == 4 }

            // Reviewed, it is never mentioned again: the next reminder, for another break-glass, names only that one.
            _ = try await slack.click(.markReviewed, on: created.id, by: "U0ADMIN")
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.breakGlassUses(unreviewedOnly: true).isEmpty }
            let other = try await slack.client.createApproval(
                key: env.requestKey, payload: #"{"cost":7000}"#, extra: #","gate":"purchases","risk":"critical""#)
            #expect(try await slack.client.call(
                .post, "/v1/approvals/\(other.id)/break-glass", key: pager, body: #"{"reason":"payments are down","as":"U0ONCALL"}"#
            ).status == .ok)
            env.clock.advance(by: 86_400)
            try await SlackFlowTests.waitUntil(env.database, fake) { reminders().count == 6 }
            #expect(reminders().suffix(2).allSatisfy { $0.contains(other.id.rawValue) && !$0.contains(created.id.rawValue) })
        }
    }

    @Test("break-glass in Slack: a member of the break-glass roles approves with a reason; anyone else is refused; review by the breaker is refused")
    func breakGlassInSlack() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(
                key: env.requestKey, payload: #"{"cost":5000}"#, extra: #","gate":"purchases","risk":"critical""#)
            let body = { (user: String, text: String) in
                "command=%2Fgatehouse&text=\(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&user_id=\(user)&channel_id=C1&team_id=T1&trigger_id=t1"
            }
            let outsider = try await slack.post("/slack/commands", body: body("U0LEAD", "break-glass \(created.id.rawValue) please"))
            #expect(outsider.json?["text"]?.stringValue?.contains("break-glass roles") == true)
            #expect(try await env.database.approval(created.id)?.status == .pending)
            let member = try await slack.post("/slack/commands", body: body("U0ONCALL", "break-glass \(created.id.rawValue) checkout is down"))
            #expect(member.json?["text"]?.stringValue?.contains("You broke the glass") == true)
            let stored = try #require(try await env.database.approval(created.id))
            #expect(stored.decision?.breakGlass == true)
            #expect(stored.decision?.reason == "checkout is down")
            #expect(stored.decision?.by == "U0ONCALL")
            try await SlackFlowTests.waitUntil(env.database, fake) { fake.calls("chat.postMessage").count >= 2 }
            _ = try await slack.click(.markReviewed, on: created.id, by: "U0ONCALL")
            let own = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(own["text"]?.stringValue?.contains("another admin") == true)
            #expect(try await env.database.breakGlassUses(unreviewedOnly: true).count == 1)
            let list = try await slack.post("/slack/commands", body: body("U0LEAD", "break-glass list"))
            #expect(list.json?["text"]?.stringValue?.contains("not reviewed") == true)
        }
    }

    @Test("notify in Slack: Reject and Approve now, when it goes ahead; at the window's end approved by policy:NAME, once, and a waiting long-poll and the message learn it; a rejection before then wins")
    func notifyInSlack() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"quiet","risk":"medium""#)
            #expect(created["policy"] == .string("quiet-window"))
            #expect(created["status"] == .string("pending"))
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            let posted = try #require(fake.messages(in: "C0APPROVALS").first)
            let shown = SlackFlowTests.text(of: posted)
            #expect(shown.contains("Approve now"))
            #expect(shown.contains("gatehouse.reject"))
            #expect(!shown.contains("gatehouse.modify"))
            #expect(shown.contains("goes ahead by itself"))

            // A second one is rejected inside its window: that wins, and the window's end changes nothing.
            let stopped = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"quiet","risk":"medium""#)
            _ = try await slack.click(.reject, on: stopped.id, by: "U0BOB")
            let reason: JSONValue = .object([
                "reason": .object(["reason": .object(["type": .string("plain_text_input"), "value": .string("not during the freeze")])]),
            ])
            #expect(try await slack.submit(.reject, on: stopped.id, by: "U0BOB", values: reason).status == .ok)
            #expect(try await env.database.approval(stopped.id)?.status == .rejected)

            let poll = Task { try await slack.client.call(.get, "/v1/approvals/\(created.id)?wait=60", key: env.requestKey) }
            env.clock.advance(by: 599)
            #expect(try await env.database.approval(created.id)?.status == .pending)
            env.clock.advance(by: 1)
            let answered = try await poll.value
            #expect(answered["status"] == .string("approved"))
            #expect(answered["decision"]?["by"] == .string("policy:quiet-window"))
            try await SlackFlowTests.waitUntil(env.database, fake) {
                !SlackFlowTests.text(of: fake.message(channel: posted.channel, ts: posted.ts)).contains("Approve now")
            }
            #expect(SlackFlowTests.text(of: fake.message(channel: posted.channel, ts: posted.ts)).contains("Approved"))
            env.clock.advance(by: 3600)
            try await SlackFlowTests.waitUntil(env.database, fake) {
                try await env.database.outboxItems(approvalID: created.id).allSatisfy { $0.doneAt != nil }
            }
            #expect(try await env.database.auditEntries(approvalID: created.id).filter { $0.kind == "decided" }.count == 1)
            let rejected = try #require(try await env.database.approval(stopped.id))
            #expect(rejected.status == .rejected)
            #expect(rejected.decision?.by == "U0BOB")
        }
    }

    @Test("quorum in Slack: the requester may not vote; Modify withdraws the approval given and counts as the modifier's; one rejection vetoes")
    func quorumModifyAndVeto() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(
                key: env.requestKey, payload: #"{"cost":1500}"#, extra: #","gate":"purchases","risk":"high","requester":"U0REQ""#)
            #expect(try await fake.waitForCalls("chat.postMessage", count: 1)[0].problems.isEmpty)
            let posted = try #require(fake.messages(in: "C0APPROVALS").first)
            _ = try await slack.click(.approve, on: created.id, by: "U0REQ")
            let own = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(own["text"]?.stringValue?.contains("You filed this request") == true)
            #expect(try await env.database.approval(created.id)?.votes.isEmpty == true)

            #expect(try await slack.click(.approve, on: created.id, by: "U0LEAD", name: "lee").status == .ok)
            _ = try await slack.click(.modify, on: created.id, by: "U0DIR")
            #expect(fake.openedViews.count == 1)
            let edit: JSONValue = .object(["payload": .object(["payload": .object([
                "type": .string("plain_text_input"), "value": .string(#"{"cost":1200}"#),
            ])])])
            #expect(try await slack.submit(.modify, on: created.id, by: "U0DIR", values: edit).status == .ok)
            let amended = try await slack.client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(amended["status"] == .string("pending"))
            #expect(amended["amended_payload"] == .object(["cost": .number(1200)]))
            #expect(amended["payload"] == .object(["cost": .number(1500)]))
            #expect(amended["votes"]?[0]?["withdrawn_at"] != .null)
            #expect(amended["votes"]?[1]?["outcome"] == .string("modify"))
            #expect(amended["quorum"]?["approvals"] == .number(1))
            #expect(amended["quorum"]?["missing_roles"] == .array([.string("lead")]))
            let withdrawals = try await env.database.auditEntries(approvalID: created.id).filter { $0.kind == "vote_withdrawn" }
            #expect(withdrawals.map { $0.details["voter"] } == [.string("U0LEAD")])
            try await SlackFlowTests.waitUntil(env.database, fake) {
                let text = SlackFlowTests.text(of: fake.message(channel: posted.channel, ts: posted.ts))
                return text.contains("Payload now put to the vote") && text.contains("withdrawn")
            }

            // The lead approves the edited payload: the quorum is met, and the decision is bound to the edit.
            #expect(try await slack.click(.approve, on: created.id, by: "U0LEAD", name: "lee").status == .ok)
            let decided = try #require(try await env.database.approval(created.id))
            #expect(decided.status == .modified)
            #expect(decided.decision?.payload == .object(["cost": .number(1200)]))
            #expect(decided.decision?.payloadSHA256 == CanonicalJSON.sha256(of: .object(["cost": .number(1200)])))

            // Veto: an approval, then one rejection, rejects at once.
            let second = try await slack.client.createApproval(key: env.requestKey, payload: #"{"cost":9000}"#, extra: #","gate":"purchases""#)
            #expect(try await slack.click(.approve, on: second.id, by: "U0DIR").status == .ok)
            _ = try await slack.click(.reject, on: second.id, by: "U0LEAD")
            let reason: JSONValue = .object([
                "reason": .object(["reason": .object(["type": .string("plain_text_input"), "value": .string("over budget")])]),
            ])
            #expect(try await slack.submit(.reject, on: second.id, by: "U0LEAD", values: reason).status == .ok)
            let vetoed = try #require(try await env.database.approval(second.id))
            #expect(vetoed.status == .rejected)
            #expect(vetoed.decision?.by == "U0LEAD")
            #expect(vetoed.decision?.reason == "over budget")
            #expect(vetoed.votes.map(\.verdict) == [.approve, .reject])
        }
    }

    @Test("roles and policies in Slack: admins list, set and delete roles (audited, refused while a rule uses one); others are refused; policies lists the rules")
    func rolesInSlack() async throws {
        try await Self.withSlack { env, _, slack in
            let listed = try await slack.command("roles", by: "U0LEAD")
            #expect(listed.contains("`lead`: <@U0LEAD>"))
            #expect(listed.contains("`director`: <@U0DIR>"))

            let refused = try await slack.command("role set lead <@U0LEE>", by: "U0LEAD")
            #expect(refused.contains("admin"))
            #expect(try await env.database.policies().role(named: "lead")?.users == ["U0LEAD"])

            let changed = try await slack.command("role set lead <@U0LEAD> <@U0LEE|lee> <!subteam^S0LEADS|@leads>", by: "U0ADMIN")
            #expect(changed.contains("Changed the role `lead`"))
            #expect(changed.contains("(was <@U0LEAD>)"))
            let lead = try #require(try await env.database.policies().role(named: "lead"))
            #expect(lead.users == ["U0LEAD", "U0LEE"])
            #expect(lead.groups == ["S0LEADS"])
            let added = try await slack.command("role set spare <@U0SPARE>", by: "U0ADMIN")
            #expect(added.contains("Added the role `spare`"))

            let inUse = try await slack.command("role delete director", by: "U0ADMIN")
            #expect(inUse.contains("nothing was changed"))
            #expect(inUse.contains("big-spend"))
            #expect(try await env.database.policies().role(named: "director") != nil)
            #expect(try await slack.command("role delete spare", by: "U0ADMIN").contains("Deleted the role `spare`"))
            #expect(try await env.database.policies().role(named: "spare") == nil)
            #expect(try await slack.command("role delete spare", by: "U0ADMIN").contains("There is no role `spare`"))

            let changes = try await env.database.auditEntries().filter { $0.kind == "config_changed" }
            #expect(changes.count >= 3)
            let rules = try await slack.command("policies", by: "U0LEAD")
            let order = ["docs-low", "big-spend", "pair", "quiet-window"].compactMap { rules.range(of: "`\($0)`")?.lowerBound }
            #expect(order.count == 4)
            #expect(order == order.sorted())
            #expect(rules.contains("Break-glass: `oncall`"))
        }
    }
}
