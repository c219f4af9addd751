import ApprovalCore
import Foundation
import GatehouseCLI
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import SlackBridge
import Storage
import Testing

@Suite("Cosignet-compatible API: one named person confirms, long-polled, failing closed")
struct CosignetTests {
    static let body = #"{"username":"U0ALICE","action":"Deploy api","payload":{"service":"api","commit":"4f2a9c1"}}"#
    static let xAPIKey = HTTPField.Name("X-Api-Key")!

    @Test("a confirmation is asked of the named person alone: posted mentioning them, another's click refused, theirs approves")
    func namedPersonAlone() async throws {
        try await SlackFlowTests.withSlack { env, fake, slack in
            let created = try await slack.client.call(.post, "/api/confirmations", body: Self.body, headers: [Self.xAPIKey: env.requestKey])
            #expect(created.status == .created)
            let id = try #require(created["id"]?.stringValue)
            #expect(created["status"] == .string("pending"))
            #expect(created["username"] == .string("U0ALICE"))
            #expect(created["payloadHash"] == .string(CanonicalJSON.sha256(of: .object(#"{"service":"api","commit":"4f2a9c1"}"#))))
            #expect(created["url"]?.stringValue?.hasSuffix("/ui/approvals/\(id)") == true)
            #expect(created["expiresAt"] == .string(RFC3339.string(from: env.clock.now.addingTimeInterval(86_400))))
            let stored = try #require(try await env.database.approval(ApprovalID(rawValue: id)))
            #expect(stored.chain.levels.map(\.approvers) == [[.user("U0ALICE")]])
            #expect(stored.requester == "agent")  // the key's name

            let posted = try await fake.waitForCalls("chat.postMessage", count: 1)[0]
            #expect(posted.rawBody.contains("<@U0ALICE>"))
            _ = try await slack.click(.approve, on: ApprovalID(rawValue: id), by: "U0BOB")
            let refusal = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(refusal["user"]?.stringValue == "U0BOB")
            #expect(try await env.database.approval(ApprovalID(rawValue: id))?.status == .pending)

            _ = try await slack.click(.approve, on: ApprovalID(rawValue: id), by: "U0ALICE", name: "alice")
            let answer = try await slack.client.call(.get, "/api/confirmations/\(id)", key: env.requestKey)
            #expect(answer["status"] == .string("approved"))
            #expect(answer["decidedBy"] == .string("alice"))
            #expect(answer["payload"] == .object(#"{"service":"api","commit":"4f2a9c1"}"#))
        }
    }

    @Test("?wait holds until the decision, which wakes it; a rejection says why, a modification is a refusal with the payload approved instead")
    func waitRejectModify() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let rejected = try #require(try await client.call(.post, "/api/confirmations", key: env.requestKey, body: Self.body)["id"]?.stringValue)
            let before = env.longPolls.count
            let held = Task { try await client.call(.get, "/api/confirmations/\(rejected)?wait=25", key: env.requestKey) }
            try await withTimeout { await env.longPolls.whenCount { $0 == before + 1 } }
            // The test client's one connection is held by the poll: the decision goes over another.
            _ = try await TestEnvironment.client(client.port, key: env.decideKey).call(
                "POST", "/v1/approvals/\(rejected)/decision", body: .object(#"{"outcome":"reject","reason":"freeze","as":"U0ALICE"}"#))
            let answer = try await withTimeout { try await held.value }
            #expect(answer["status"] == .string("rejected"))
            #expect(answer["reason"] == .string("freeze"))

            let modified = try #require(try await client.call(.post, "/api/confirmations", key: env.requestKey, body: Self.body)["id"]?.stringValue)
            _ = try await client.call(
                .post, "/v1/approvals/\(modified)/decision", key: env.decideKey,
                body: #"{"outcome":"modify","payload":{"service":"api","commit":"0000000"},"as":"U0ALICE"}"#)
            let changed = try await client.call(.get, "/api/confirmations/\(modified)?wait=25", key: env.requestKey)
            #expect(changed["status"] == .string("rejected"))
            #expect(changed["modifiedPayload"] == .object(#"{"service":"api","commit":"0000000"}"#))
            #expect(changed["payload"] == .object(#"{"service":"api","commit":"4f2a9c1"}"#))
            #expect(changed["reason"]?.stringValue?.contains("different payload") == true)

            let cancelled = try #require(try await client.call(.post, "/api/confirmations", key: env.requestKey, body: Self.body)["id"]?.stringValue)
            _ = try await client.call(.post, "/v1/approvals/\(cancelled)/cancel", key: env.requestKey)
            #expect(try await client.call(.get, "/api/confirmations/\(cancelled)", key: env.requestKey)["status"] == .string("rejected"))

            let expiring = try #require(
                try await client.call(
                    .post, "/api/confirmations", key: env.requestKey,
                    body: #"{"username":"U0ALICE","action":"x","payload":{},"expires_in":600}"#)["id"]?.stringValue)
            env.clock.advance(by: 601)
            try await env.service.escalateDue(asOf: env.clock.now)
            #expect(try await client.call(.get, "/api/confirmations/\(expiring)", key: env.requestKey)["status"] == .string("expired"))
        }
    }

    @Test("username is a Slack user ID in any mention form or a role of one member; anything else is refused and files nothing")
    func usernames() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        _ = try await env.database.changePolicies(by: "cli:test") { _ in
            PolicySet(roles: [Role(name: "alice", users: ["U0ALICE"]), Role(name: "leads", users: ["U0A", "U0B"])], rules: [])
        }
        try await env.application().test(.live) { client in
            for username in ["U0ALICE", "<@U0ALICE>", "<@U0ALICE|alice>", "@U0ALICE", "alice"] {
                let created = try await client.call(
                    .post, "/api/confirmations", key: env.requestKey, body: #"{"username":"\#(username)","action":"x","payload":{}}"#)
                #expect(created.status == .created, "\(username)")
                #expect(created["username"] == .string("U0ALICE"), "\(username)")
            }
            let before = try await env.database.countsByStatus()
            for (body, field) in [
                (#"{"username":"leads","action":"x","payload":{}}"#, "username"),
                (#"{"username":"bob","action":"x","payload":{}}"#, "username"),
                (#"{"username":"U0ALICE","action":"x","payload":[1]}"#, "payload"),
                (#"{"username":"U0ALICE","action":"","payload":{}}"#, "action"),
            ] {
                let refused = try await client.call(.post, "/api/confirmations", key: env.requestKey, body: body)
                #expect(refused.status == .unprocessableContent, "\(body)")
                #expect(refused["error"]?["code"] == .string("invalid_field"), "\(body)")
                #expect(refused["error"]?["message"]?.stringValue?.contains("`\(field)`") == true, "\(body)")
            }
            let missing = try await client.call(.post, "/api/confirmations", key: env.requestKey, body: #"{"action":"x","payload":{}}"#)
            #expect(missing.status.code >= 400 && missing.status.code < 500)
            #expect(try await client.call(.post, "/api/confirmations", key: env.requestKey, body: "{").status == .badRequest)
            #expect(try await client.call(.post, "/api/confirmations", body: Self.body).status == .unauthorized)
            #expect(try await client.call(.get, "/api/confirmations/apr_unknown", key: env.requestKey).status == .notFound)
            #expect(try await client.call(.get, "/api/confirmations/apr_unknown?wait=99", key: env.requestKey).status.code >= 400)
            let wrongMethod = try await client.call(.delete, "/api/confirmations", key: env.requestKey)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")
            #expect(try await env.database.countsByStatus() == before)
        }
    }
}
