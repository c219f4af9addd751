import ApprovalCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GatehouseCLI
import GatehouseServer
import ServerTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SlackAPI
import SlackBridge
import Storage
import Synchronization
import Testing

/// Builds signed Slack requests for the application under test.
struct SlackDriver {
    let env: TestEnvironment
    let client: any TestClientProtocol

    private static let triggers = Atomic<Int>(0)

    /// A `trigger_id` of its own for each interaction, as Slack gives: two clicks are never the same signed request.
    static func nextTrigger() -> String {
        "\(triggers.add(1, ordering: .relaxed).newValue).1700000000.abcdef"
    }

    func post(_ path: String, body: String, at time: Date? = nil, signer: SlackRequestSigner? = nil, signed: Bool = true) async throws -> JSONResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if signed {
            for (name, value) in (signer ?? env.slackSigner).headers(body: body, timestamp: time ?? env.clock.now) {
                headers[HTTPField.Name(name)!] = value
            }
        }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            JSONResponse(
                status: response.status, headers: response.headers,
                json: response.body.readableBytes > 0 ? try? JSONValue.parse(Data(response.body.readableBytesView)) : nil)
        }
    }

    func click(
        _ action: SlackActionID, on id: ApprovalID, by user: String, name: String = "someone", value: String? = nil,
        trigger: String? = nil
    ) async throws -> JSONResponse {
        let payload: JSONValue = .object([
            "type": .string("block_actions"), "trigger_id": .string(trigger ?? Self.nextTrigger()),
            "user": .object(["id": .string(user), "username": .string(name), "team_id": .string("T1")]),
            "channel": .object(["id": .string("C0APPROVALS")]),
            "container": .object(["type": .string("message"), "message_ts": .string("1700000000.000100"), "channel_id": .string("C0APPROVALS")]),
            "actions": .array([.object([
                "action_id": .string(action.rawValue), "type": .string("button"),
                "value": .string(value ?? ButtonValue(approvalID: id).encoded), "action_ts": .string("1700000001.0"),
            ])]),
        ])
        return try await post("/slack/interactions", body: SlackRequestSigner.interactionBody(json: CanonicalJSON.serialize(payload)))
    }

    func submit(_ callback: SlackCallbackID, on id: ApprovalID, by user: String, values: JSONValue) async throws -> JSONResponse {
        let payload: JSONValue = .object([
            "type": .string("view_submission"), "trigger_id": .string(Self.nextTrigger()),
            "user": .object(["id": .string(user), "username": .string("approver")]),
            "view": .object([
                "id": .string("V1"), "callback_id": .string(callback.rawValue),
                "private_metadata": .string(ButtonValue(approvalID: id).encoded), "state": .object(["values": values]),
            ]),
        ])
        return try await post("/slack/interactions", body: SlackRequestSigner.interactionBody(json: CanonicalJSON.serialize(payload)))
    }
}

@Suite("Slack: messages, clicks, modals and updates")
struct SlackFlowTests {
    /// Runs `body` with Slack on, against a fresh stand-in Slack server.
    static func withSlack(_ body: @escaping @Sendable (TestEnvironment, FakeSlackWebAPI, SlackDriver) async throws -> Void) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        try await env.application(configuration: env.slackConfiguration(fake)).test(.live) { client in
            try await body(env, fake, SlackDriver(env: env, client: client))
        }
        await fake.stop()
    }

    static func text(of message: FakeSlackWebAPI.StoredMessage?) -> String {
        guard let blocks = message?.blocks, let data = try? JSONEncoder().encode(blocks) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Waits until `condition` holds, looking again after each commit to the database and each call to the Slack
    /// stand-in.
    static func waitUntil(
        _ database: GatehouseDatabase, _ fake: FakeSlackWebAPI? = nil, _ condition: @escaping @Sendable () async throws -> Bool
    ) async throws {
        let signals = [database.commits] + (fake.map { [$0.changes] } ?? [])
        try await withTimeout { try await DomainTestSupport.waitUntil(signals, condition) }
    }

    @Test("a request is posted with its buttons; an approve click decides it, answers the long-poll and updates the message")
    func approveFromSlack() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(
                key: env.requestKey, extra: #","risk":"high","reasoning":"Fixes *checkout* <now>","requester":"agent:deploy-bot""#)
            let post = try await fake.waitForCalls("chat.postMessage", count: 1)[0]
            #expect(post.problems.isEmpty)
            #expect(post.error == nil)
            let posted = try #require(fake.messages(in: "C0APPROVALS").first)
            let blocksText = Self.text(of: posted)
            for word in ["gatehouse.approve", "gatehouse.reject", "gatehouse.modify", "Deploy api to production", "confirm", "&lt;now&gt;"] {
                #expect(blocksText.contains(word), "missing \(word)")
            }
            try await Self.waitUntil(env.database, fake) { try await env.database.slackMessages(for: created.id).count == 1 }
            let withLink = try await slack.client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(withLink["links"]?["slack"]?.stringValue?.hasPrefix("https://fake.slack.test/archives/C0APPROVALS/p") == true)

            async let polled = TestEnvironment.client(slack.client.port, key: env.requestKey).call("GET", "v1/approvals/\(created.id)?wait=60")
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            let click = try await slack.click(.approve, on: created.id, by: "U0ALICE", name: "alice")
            #expect(click.status == .ok)
            let answer = try await polled
            #expect(answer["status"] == .string("approved"))
            #expect(answer["decision"]?["by"] == .string("U0ALICE"))
            #expect(answer["decision"]?["by_name"] == .string("alice"))

            let update = try await fake.waitForCalls("chat.update", count: 1)[0]
            #expect(update.problems.isEmpty)
            let updated = Self.text(of: fake.message(channel: posted.channel, ts: posted.ts))
            #expect(updated.contains("Approved"))
            #expect(updated.contains("<@U0ALICE>"))
            #expect(!updated.contains("gatehouse.approve"))
            #expect(fake.calls("chat.postMessage").count == 1)
        }
    }

    @Test("reject opens a modal inside the request; its submission records the reason and code and updates the message")
    func rejectWithModal() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            let click = try await slack.click(.reject, on: created.id, by: "U0BOB", trigger: "trigger-U0BOB")
            #expect(click.status == .ok)
            let opened = try #require(fake.calls("views.open").first)
            #expect(opened["trigger_id"]?.stringValue == "trigger-U0BOB")
            #expect(opened.problems.isEmpty)
            #expect(try await env.database.approval(created.id)?.status == .pending)

            let empty = try await slack.submit(.reject, on: created.id, by: "U0BOB", values: .object([:]))
            #expect(empty["response_action"] == .string("errors"))
            #expect(empty["errors"]?["reason"] != nil)

            let values: JSONValue = .object([
                "reason": .object(["reason": .object(["type": .string("plain_text_input"), "value": .string("wrong commit")])]),
                "reason_code": .object(["reason_code": .object([
                    "type": .string("static_select"), "selected_option": .object(["value": .string("wrong_target")]),
                ])]),
            ])
            let submitted = try await slack.submit(.reject, on: created.id, by: "U0BOB", values: values)
            #expect(submitted.status == .ok)
            #expect(submitted.json == nil)
            let decided = try #require(try await env.database.approval(created.id))
            #expect(decided.status == .rejected)
            #expect(decided.decision?.reason == "wrong commit")
            #expect(decided.decision?.reasonCode == "wrong_target")
            #expect(decided.decision?.by == "U0BOB")
            _ = try await fake.waitForCalls("chat.update", count: 1)
            let message = Self.text(of: fake.messages(in: "C0APPROVALS").first)
            #expect(message.contains("Rejected"))
            #expect(message.contains("wrong commit"))
        }
    }

    @Test("modify opens the payload for editing; invalid JSON and non-objects are refused inline; a valid edit is recorded as modified")
    func modifyWithModal() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey, payload: #"{"service":"api","replicas":3}"#)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            _ = try await slack.click(.modify, on: created.id, by: "U0CAROL")
            let view = try #require(fake.openedViews.first?.view)
            #expect(String(describing: view).contains("replicas"))

            func edit(_ text: String) -> JSONValue {
                .object(["payload": .object(["payload": .object(["type": .string("plain_text_input"), "value": .string(text)])])])
            }
            let invalid = try await slack.submit(.modify, on: created.id, by: "U0CAROL", values: edit(#"{"service": "api", "replicas": }"#))
            #expect(invalid["response_action"] == .string("errors"))
            #expect(invalid["errors"]?["payload"]?.stringValue?.contains("not valid JSON") == true)
            let array = try await slack.submit(.modify, on: created.id, by: "U0CAROL", values: edit("[1, 2]"))
            #expect(array["errors"]?["payload"]?.stringValue?.contains("JSON object") == true)
            #expect(try await env.database.approval(created.id)?.status == .pending)

            let ok = try await slack.submit(.modify, on: created.id, by: "U0CAROL", values: edit(#"{"service":"api","replicas":2}"#))
            #expect(ok.status == .ok)
            #expect(ok.json == nil)
            let decided = try #require(try await env.database.approval(created.id))
            #expect(decided.status == .modified)
            #expect(decided.decision?.payload == .object(#"{"service":"api","replicas":2}"#))
            #expect(decided.decision?.payloadSHA256 == CanonicalJSON.sha256(of: .object(#"{"service":"api","replicas":2}"#)))
            _ = try await fake.waitForCalls("chat.update", count: 1)
            let message = Self.text(of: fake.messages(in: "C0APPROVALS").first)
            #expect(message.contains("~ replicas: 3 → 2"))
        }
    }

    @Test("an update is sent only to a message that does not show the request's state yet: queued updates send a change once")
    func queuedUpdatesCoalesce() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey)
            try await Self.waitUntil(env.database, fake) { try await env.database.slackMessages(for: created.id).count == 1 }
            let key = "slack:\(created.id.rawValue)"
            let updates = Array(repeating: NewOutboxItem(
                kind: SlackOutboxKind.update, approvalID: created.id, orderingKey: key, payload: .object([:])), count: 3)
            // Nothing changed since the post: the message already shows it.
            try await env.database.enqueueOutboxItems(updates)
            try await Self.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: created.id).allSatisfy { $0.doneAt != nil } }
            #expect(fake.calls("chat.update").isEmpty)

            _ = try await slack.click(.approve, on: created.id, by: "U0ALICE")
            try await env.database.enqueueOutboxItems(updates)
            try await Self.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: created.id).allSatisfy { $0.doneAt != nil } }
            #expect(fake.calls("chat.update").count == 1)
            #expect(Self.text(of: fake.messages(in: "C0APPROVALS").first).contains("Approved"))
            // Each message remembers what it shows, not just whether it was updated.
            let shown = try #require(try await env.database.slackMessages(for: created.id).first?.shownSHA256)
            #expect(shown.count == 64)
        }
    }

    @Test("refused clicks change nothing and get an ephemeral reply saying why: own request, already decided, stale button")
    func refusedClicks() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey, extra: #","requester":"U0REQ""#)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            _ = try await slack.click(.approve, on: created.id, by: "U0REQ")
            _ = try await slack.click(.reject, on: created.id, by: "U0REQ")
            let selfReplies = try await fake.waitForCalls("chat.postEphemeral", count: 2)
            #expect(selfReplies.allSatisfy { $0["user"]?.stringValue == "U0REQ" && $0["text"]?.stringValue?.contains("someone else") == true })
            #expect(fake.calls("views.open").isEmpty)
            #expect(try await env.database.approval(created.id)?.status == .pending)

            _ = try await slack.click(.approve, on: created.id, by: "U0ALICE", name: "alice")
            _ = try await slack.click(.approve, on: created.id, by: "U0DAVE")
            let late = try await fake.waitForCalls("chat.postEphemeral", count: 3)[2]
            #expect(late["user"]?.stringValue == "U0DAVE")
            #expect(late["text"]?.stringValue?.contains("already approved by <@U0ALICE>") == true)

            _ = try await slack.click(.approve, on: created.id, by: "U0EVE", value: #"{"v":0,"id":"x"}"#)
            let stale = try await fake.waitForCalls("chat.postEphemeral", count: 4)[3]
            #expect(stale["text"]?.stringValue?.contains("older message") == true)
            #expect(try await env.database.approval(created.id)?.decision?.by == "U0ALICE")

            // Buttons naming a request Gatehouse has no record of: told so, and audited like an unknown id on the API.
            let ghost = ApprovalID(rawValue: "apr_doesnotexist00000000")
            _ = try await slack.click(.approve, on: ghost, by: "U0EVE")
            _ = try await slack.click(.reject, on: ghost, by: "U0EVE")
            let ghostReplies = try await fake.waitForCalls("chat.postEphemeral", count: 6).suffix(2)
            #expect(ghostReplies.allSatisfy { $0["text"]?.stringValue == "Gatehouse has no record of this request." })
            let refusals = try await env.database.auditEntries().filter { $0.kind == "decision_refused" || $0.kind == "click_refused" }
            #expect(refusals.map { $0.details["reason"]?.stringValue }
                == ["self_approval", "self_approval", "already_decided", "stale_button", "not_found", "not_found"])
            #expect(refusals.suffix(2).allSatisfy { $0.details["id"] == .string(ghost.rawValue) && $0.actor == "U0EVE" })
        }
    }

    @Test("two approvers clicking at once: exactly one decision, the other is told who decided")
    func concurrentClicks() async throws {
        try await Self.withSlack { env, fake, slack in
            let created = try await slack.client.createApproval(key: env.requestKey)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            let port = slack.client.port
            try await withThrowingTaskGroup(of: Void.self) { group in
                for user in ["U0ONE", "U0TWO", "U0THREE"] {
                    group.addTask {
                        // Separate connections so the clicks really race.
                        try await withTimeout {
                            _ = try await SlackFlowTests.rawClick(port: port, env: env, id: created.id, user: user)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let refusals = try await fake.waitForCalls("chat.postEphemeral", count: 2)
            #expect(refusals.allSatisfy { $0["text"]?.stringValue?.contains("already approved") == true })
            let decided = try await env.database.auditEntries().filter { $0.kind == "decided" }
            #expect(decided.count == 1)
        }
    }

    static func rawClick(port: Int?, env: TestEnvironment, id: ApprovalID, user: String) async throws -> Int {
        let payload = #"{"type":"block_actions","user":{"id":"\#(user)"},"channel":{"id":"C0APPROVALS"},"container":{"type":"message","channel_id":"C0APPROVALS"},"actions":[{"action_id":"gatehouse.approve","type":"button","value":\#(CanonicalJSON.serialize(.string(ButtonValue(approvalID: id).encoded)))}]}"#
        let body = SlackRequestSigner.interactionBody(json: payload)
        var request = URLRequest(url: URL(string: "http://localhost:\(port ?? 0)/slack/interactions")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        for (name, value) in env.slackSigner.headers(body: body, timestamp: env.clock.now) { request.setValue(value, forHTTPHeaderField: name) }
        return try await URLSessionHTTPPoster(timeout: 10).send(request).status
    }

    @Test("a decision made elsewhere (API, expiry) updates the Slack message too")
    func updatesFromEveryPath() async throws {
        try await Self.withSlack { env, fake, slack in
            let byAPI = try await slack.client.createApproval(key: env.requestKey, action: "By API")
            let byExpiry = try await slack.client.createApproval(key: env.requestKey, action: "By expiry", extra: #","expires_in":60"#)
            _ = try await fake.waitForCalls("chat.postMessage", count: 2)
            _ = try await slack.client.call(
                .post, "/v1/approvals/\(byAPI.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"carol","reason":"not today"}"#)
            env.clock.advance(by: 60)
            _ = try await fake.waitForCalls("chat.update", count: 2)
            let texts = fake.messages(in: "C0APPROVALS").map { Self.text(of: $0) }
            #expect(texts.contains { $0.contains("By API") && $0.contains("Rejected") && $0.contains("carol") && !$0.contains("gatehouse.approve") })
            #expect(texts.contains { $0.contains("By expiry") && $0.contains("Expired") && !$0.contains("gatehouse.approve") })
            _ = byExpiry
        }
    }

    @Test("Slack down for a while, then back: every message is posted and updated exactly once")
    func slackOutageThenRecovery() async throws {
        try await Self.withSlack { env, fake, slack in
            fake.fail("chat.postMessage", with: .serverError, times: 2)
            fake.fail("chat.update", with: .rateLimited(retryAfter: 30))
            let created = try await slack.client.createApproval(key: env.requestKey)
            for attempt in 1...2 {
                _ = try await fake.waitForCalls("chat.postMessage", count: attempt)
                try await Self.waitUntil(env.database, fake) {
                    try await env.database.outboxItems(approvalID: created.id).first.map { $0.item.attempts == attempt && $0.item.lastError != nil && $0.doneAt == nil } ?? false
                }
                env.clock.advance(by: 3600)
            }
            _ = try await fake.waitForCalls("chat.postMessage", count: 3)
            try await Self.waitUntil(env.database, fake) { try await env.database.slackMessages(for: created.id).count == 1 }
            _ = try await slack.click(.approve, on: created.id, by: "U0ALICE")
            _ = try await fake.waitForCalls("chat.update", count: 1)
            let updateItem: @Sendable () async throws -> (item: OutboxItem, doneAt: Date?, failedAt: Date?)? = { try await env.database.outboxItems(approvalID: created.id).first { $0.item.kind == SlackOutboxKind.update } }
            try await Self.waitUntil(env.database, fake) { try await updateItem()?.item.lastError != nil }
            // Retry-After is honoured: 30 s later, not at once.
            #expect(try await updateItem()?.item.nextAttemptAt == env.clock.now.addingTimeInterval(30))
            env.clock.advance(by: 30)
            _ = try await fake.waitForCalls("chat.update", count: 2)
            try await Self.waitUntil(env.database, fake) { try await updateItem()?.doneAt != nil }
            #expect(fake.messages(in: "C0APPROVALS").count == 1)
            #expect(fake.calls("chat.postMessage").filter { $0.status == 200 && $0.error == nil }.count == 1)
            #expect(fake.calls("chat.update").filter { $0.status == 200 && $0.error == nil }.count == 1)
        }
    }

    @Test("a permanent Slack error stops retrying, is audited, and shows in /metrics")
    func permanentErrorStops() async throws {
        try await Self.withSlack { env, fake, slack in
            fake.fail("chat.postMessage", with: .error("channel_not_found"), times: 5)
            let created = try await slack.client.createApproval(key: env.requestKey)
            try await Self.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: created.id).first?.failedAt != nil }
            let failed = try #require(try await env.database.outboxItems(approvalID: created.id).first)
            #expect(failed.item.lastError?.contains("channel_not_found") == true)
            #expect(fake.calls("chat.postMessage").count == 1)
            #expect(try await env.database.auditEntries().contains { $0.kind == "delivery_failed" })
            let metrics = try await slack.client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"gatehouse_slack_api_errors_total{method="chat.postMessage",error="channel_not_found",permanent="true"} 1"#))
        }
    }

    @Test("items queued while the service was down are delivered after a restart, and none twice")
    func restartWithPendingSlackWork() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        let configuration = env.slackConfiguration(fake)
        fake.fail("chat.postMessage", with: .serverError, times: 1)
        let id = try await env.application(configuration: configuration).test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            try await Self.waitUntil(env.database, fake) { try await env.database.outboxItems(approvalID: created.id).first?.item.lastError != nil }
            return created.id
        }
        try env.database.close()
        let reopened = try env.reopenDatabase()
        defer { try? reopened.close() }
        env.clock.advance(by: 3600)
        try await env.application(configuration: configuration, database: reopened).test(.live) { _ in
            _ = try await fake.waitForCalls("chat.postMessage", count: 2)
            try await Self.waitUntil(reopened, fake) { try await reopened.slackMessages(for: id).count == 1 }
        }
        let reopenedAgain = try env.reopenDatabase()
        try await env.application(configuration: configuration, database: reopenedAgain).test(.live) { client in
            _ = try await client.call(.get, "/healthz")
        }
        try reopenedAgain.close()
        #expect(fake.calls("chat.postMessage").count == 2)
        #expect(fake.messages(in: "C0APPROVALS").count == 1)
        await fake.stop()
    }

    @Test("missing, forged, altered and stale signatures get 401 and an audit entry; ±300 s is accepted")
    func signatures() async throws {
        try await Self.withSlack { env, fake, slack in
            let body = SlackRequestSigner.formBody([("command", "/gatehouse"), ("text", "help"), ("user_id", "U1"), ("channel_id", "C1"), ("team_id", "T1")])
            #expect(try await slack.post("/slack/commands", body: body).status == .ok)
            #expect(try await slack.post("/slack/commands", body: body, signed: false).status == .unauthorized)
            #expect(try await slack.post("/slack/commands", body: body, signer: SlackRequestSigner(secret: "another-secret")).status == .unauthorized)
            for offset in [-301.0, 301] {
                #expect(try await slack.post("/slack/commands", body: body, at: env.clock.now.addingTimeInterval(offset)).status == .unauthorized)
            }
            for offset in [-300.0, 300] {
                #expect(try await slack.post("/slack/commands", body: body, at: env.clock.now.addingTimeInterval(offset)).status == .ok)
            }
            // Altered by one byte after signing.
            var headers: HTTPFields = [:]
            for (name, value) in env.slackSigner.headers(body: body, timestamp: env.clock.now) { headers[HTTPField.Name(name)!] = value }
            let altered = try await slack.client.execute(
                uri: "/slack/commands", method: .post, headers: headers, body: ByteBuffer(string: body.replacingOccurrences(of: "help", with: "helq"))) { $0.status }
            #expect(altered == .unauthorized)
            try await env.flushRefusals("signature_refused", expecting: 5)
            #expect(try await env.refusalCount("signature_refused") == 5)
            #expect(fake.calls.filter { $0.method != "chat.postMessage" }.isEmpty)
        }
    }

    @Test("url_verification is answered with the challenge, ssl_check with 200, and the slash command with help and pending")
    func eventsAndCommands() async throws {
        try await Self.withSlack { env, fake, slack in
            let challenge = try await slack.post("/slack/events", body: #"{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#)
            #expect(challenge["challenge"] == .string("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
            #expect(try await slack.post("/slack/commands", body: "ssl_check=1&token=x").status == .ok)
            _ = try await slack.client.createApproval(key: env.requestKey, action: "Rotate keys")
            let pending = try await slack.post(
                "/slack/commands",
                body: SlackRequestSigner.formBody([("command", "/gatehouse"), ("text", "pending"), ("user_id", "U1"), ("channel_id", "C1"), ("team_id", "T1")]))
            #expect(pending["response_type"] == .string("ephemeral"))
            #expect(pending["text"]?.stringValue?.contains("Rotate keys") == true)
            let unknown = try await slack.post(
                "/slack/commands",
                body: SlackRequestSigner.formBody([("command", "/gatehouse"), ("text", "frobnicate"), ("user_id", "U1"), ("channel_id", "C1"), ("team_id", "T1")]))
            #expect(unknown["text"]?.stringValue?.contains("frobnicate") == true)
        }
    }

    @Test("without a signing secret the Slack routes answer 503")
    func noSigningSecret() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let response = try await SlackDriver(env: env, client: client).post("/slack/commands", body: "text=help")
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "slack_not_configured")
        }
    }
}
