import Foundation
import GatehouseTestSupport
import SlackAPI
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("The fake Slack Web API")
struct FakeSlackWebAPITests {
    @Test("channel names resolve to IDs; IDs stay")
    func channelIDs() {
        #expect(FakeSlackWebAPI.channelID("#approvals") == "C0APPROVALS")
        #expect(FakeSlackWebAPI.channelID("approvals") == "C0APPROVALS")
        #expect(FakeSlackWebAPI.channelID("C0APPROVALS") == "C0APPROVALS")
        #expect(FakeSlackWebAPI.channelID("D0U1") == "D0U1")
        #expect(FakeSlackWebAPI.channelID("#ops-alerts") == "C0OPSALERTS")
    }

    @Test("waitForCalls returns once enough calls arrived")
    func waitForCalls() async throws {
        try await SlackClientHarness.run { h in
            async let waited = h.fake.waitForCalls("chat.postMessage", count: 2)
            _ = try await h.client.postMessage(channel: "#approvals", text: "1", blocks: nil, threadTS: nil)
            _ = try await h.client.openConversation(users: ["U1"])
            _ = try await h.client.postMessage(channel: "#approvals", text: "2", blocks: nil, threadTS: nil)
            let calls = try await waited
            #expect(calls.map { $0["text"] } == [.string("1"), .string("2")])
            #expect(try await h.fake.waitForCalls("conversations.open", count: 1).count == 1)
        }
    }

    @Test("waitForCalls gives up after its timeout")
    func waitForCallsTimeout() async throws {
        try await SlackClientHarness.run { h in
            await #expect(throws: FakeSlackWebAPI.TimeoutError.self) {
                try await h.fake.waitForCalls("chat.update", count: 1, timeout: .milliseconds(50))
            }
        }
    }

    @Test("form bodies are recorded like JSON bodies, with JSON-valued fields parsed")
    func formBodies() async throws {
        try await SlackClientHarness.run { h in
            let blocks = #"[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]"#
            var request = URLRequest(url: h.fake.baseURL.appendingPathComponent("chat.postMessage"))
            request.httpMethod = "POST"
            request.setValue("Bearer \(SlackClientHarness.token)", forHTTPHeaderField: "Authorization")
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(SlackRequestSigner.formBody([("channel", "#approvals"), ("text", "a b"), ("blocks", blocks)]).utf8)
            let (data, _) = try await URLSession.shared.data(for: request)
            #expect(String(decoding: data, as: UTF8.self).contains(#""ok":true"#))
            let call = try #require(h.fake.calls.first)
            #expect(call["text"] == .string("a b"))
            #expect(call["blocks"]?[0]?["type"] == .string("section"))
            #expect(h.fake.messages(in: "approvals").first?.blocks == [.section(text: .mrkdwn("hi"))])
        }
    }

    @Test("scripted failures apply in order, the given number of times")
    func scriptedFailures() async throws {
        try await SlackClientHarness.run { h in
            h.fake.fail("users.info", with: .error("user_not_found"), times: 2)
            h.fake.fail("users.info", with: .error("account_inactive"))
            for expected in ["user_not_found", "user_not_found", "account_inactive"] {
                await #expect(throws: SlackAPIError.api(expected)) { try await h.client.userInfo("U1") }
            }
            _ = try await h.client.userInfo("U1")
            #expect(h.fake.calls("users.info").map(\.error) == ["user_not_found", "user_not_found", "account_inactive", nil])
        }
    }

    @Test("a missing Authorization header is not_authed")
    func notAuthed() async throws {
        try await SlackClientHarness.run { h in
            var request = URLRequest(url: h.fake.baseURL.appendingPathComponent("users.info"))
            request.httpMethod = "GET"
            let (data, _) = try await URLSession.shared.data(for: request)
            #expect(String(decoding: data, as: UTF8.self) == #"{"error":"not_authed","ok":false}"#)
        }
    }
}
