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
}
