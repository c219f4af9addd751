import ApprovalCore
import BuildInfo
import Foundation
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import SlackBridge
import Testing

/// `/metrics` as an operator alerts on it: series that exist from the start and go back to 0, pending by gate,
/// long-poll waits apart from request latency, Slack call latency, the build, and the token that guards it.
@Suite("Metrics an operator can alert on")
struct MetricsTests {
    static func scrape(_ client: some TestClientProtocol, headers: HTTPFields = [:]) async throws -> (status: HTTPResponse.Status, text: String) {
        try await client.execute(uri: "/metrics", method: .get, headers: headers) { ($0.status, String(buffer: $0.body)) }
    }

    /// The value of the sample `series` (name and labels exactly as exported), if it is there.
    static func value(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("every outbox kind reads 0 from the start and after it drains; the build is named by version and commit")
    func backlogAndBuild() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let text = try await Self.scrape(client).text
            for kind in SlackOutboxKind.all + [CallbackOutboxPlanner.kind] {
                #expect(Self.value(#"gatehouse_outbox_backlog{kind="\#(kind)"}"#, in: text) == 0)
            }
            #expect(Self.value(#"gatehouse_build_info{version="\#(BuildInfo.version)",commit="\#(BuildInfo.commit)"}"#, in: text) == 1)
            #expect(BuildInfo.commit == "unknown" || BuildInfo.commit.allSatisfy(\.isHexDigit))
        }
    }

    @Test("pending count and oldest pending age by gate, on the service's clock; a gate that drains reads 0")
    func pendingByGate() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let first = try await client.createApproval(key: env.requestKey, extra: #","gate":"deploy""#)
            env.clock.advance(by: 90)
            _ = try await client.createApproval(key: env.requestKey, extra: #","gate":"deploy""#)
            _ = try await client.createApproval(key: env.requestKey, extra: #","gate":"billing""#)
            env.clock.advance(by: 30)
            var text = try await Self.scrape(client).text
            #expect(Self.value(#"gatehouse_pending{gate="deploy"}"#, in: text) == 2)
            #expect(Self.value(#"gatehouse_pending{gate="billing"}"#, in: text) == 1)
            #expect(Self.value(#"gatehouse_oldest_pending_age_seconds{gate="deploy"}"#, in: text) == 120)
            #expect(Self.value(#"gatehouse_oldest_pending_age_seconds{gate="billing"}"#, in: text) == 30)

            let billing = try await client.call(.get, "/v1/approvals?gate=billing", key: env.requestKey)
            let id = try #require(billing["approvals"]?[0]?["id"]?.stringValue)
            #expect(try await client.call(.post, "/v1/approvals/\(id)/cancel", key: env.requestKey, body: "{}").status == .ok)
            #expect(try await client.call(.post, "/v1/approvals/\(first.id)/cancel", key: env.requestKey, body: "{}").status == .ok)
            text = try await Self.scrape(client).text
            #expect(Self.value(#"gatehouse_pending{gate="billing"}"#, in: text) == 0)
            #expect(Self.value(#"gatehouse_oldest_pending_age_seconds{gate="billing"}"#, in: text) == 0)
            #expect(Self.value(#"gatehouse_pending{gate="deploy"}"#, in: text) == 1)
            #expect(Self.value(#"gatehouse_oldest_pending_age_seconds{gate="deploy"}"#, in: text) == 30)
        }
    }

    @Test("a long-poll's wait is counted as a request but timed in its own histogram, not in request latency")
    func longPollWaitApart() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let poll = Task { try await client.call(.get, "/v1/approvals/\(created.id)?wait=30", key: env.requestKey) }
            // Decided once the poll is held, over a connection of its own: the test client's one is held by the poll.
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            _ = try await TestEnvironment.client(client.port, key: env.decideKey).call(
                "POST", "/v1/approvals/\(created.id)/decision", body: .object(#"{"outcome":"approve","as":"lee"}"#))
            #expect(try await withTimeout { try await poll.value }["status"] == .string("approved"))
            _ = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            let text = try await Self.scrape(client).text
            #expect(Self.value(#"gatehouse_http_requests_total{route="/v1/approvals/{id}",method="GET",status="200"}"#, in: text) == 2)
            #expect(Self.value("gatehouse_long_poll_wait_seconds_count", in: text) == 1)
            #expect(Self.value(#"gatehouse_http_request_duration_seconds_count{route="/v1/approvals/{id}"}"#, in: text) == 1)
        }
    }

    @Test("with metrics_token set, /metrics answers only that bearer token; the refusal never shows the token")
    func token() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        var configuration = GatehouseConfiguration()
        configuration.metricsToken = "scrape-secret-0123456789"
        try await env.application(configuration: configuration).test(.live) { client in
            let bare = try await Self.scrape(client)
            #expect(bare.status == .unauthorized)
            #expect(bare.text.contains("metrics_token"))
            #expect(!bare.text.contains("scrape-secret"))
            let wrong = try await Self.scrape(client, headers: [.authorization: "Bearer scrape-secret-0123456780"])
            #expect(wrong.status == .unauthorized)
            let right = try await Self.scrape(client, headers: [.authorization: "Bearer scrape-secret-0123456789"])
            #expect(right.status == .ok)
            #expect(right.text.contains("gatehouse_build_info"))
            // The probes stay open: a load balancer has no token.
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }

    @Test("each Slack Web API call is timed by method")
    func slackLatency() async throws {
        try await SlackFlowTests.withSlack { env, fake, slack in
            _ = try await slack.client.createApproval(key: env.requestKey)
            _ = try await fake.waitForCalls("chat.postMessage", count: 1)
            try await SlackFlowTests.waitUntil(env.database, fake) {
                let text = try await Self.scrape(slack.client).text
                return (Self.value(#"gatehouse_slack_api_duration_seconds_count{method="chat.postMessage"}"#, in: text) ?? 0) >= 1
            }
        }
    }

    @Test("keys remember when they were last used, written once a minute rather than per request")
    func keyLastUsed() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            _ = try await client.createApproval(key: env.requestKey)
            let usedAt = env.clock.now
            #expect(try await env.database.listKeys().allSatisfy { $0.lastUsedAt == nil })
            env.clock.advance(by: 61)
            try await SlackFlowTests.waitUntil(env.database) {
                try await env.database.listKeys().first { $0.name == "agent" }?.lastUsedAt != nil
            }
            let keys = try await env.database.listKeys()
            #expect(keys.first { $0.name == "agent" }?.lastUsedAt == usedAt)
            #expect(keys.first { $0.name == "other-agent" }?.lastUsedAt == nil)
        }
    }
}
