import ApprovalCore
import Foundation
@testable import GatehouseServer
import ServerTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import GatehouseTestSupport
import Logging
import DomainTestSupport
import NIOCore
import Synchronization
import Testing

@Suite("Request log lines")
struct RequestLogTests {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        /// Counts the lines written: something to wait on.
        let changes = ChangeCounter()
        var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) {
            lines.withLock { $0.append(line) }
            changes.increment()
        }
        /// Each line as the JSON object it is.
        func objects() throws -> [JSONValue] { try all.map { try JSONValue.parse(Data($0.utf8)) } }
    }

    /// The application over `env` with `configuration`, logging JSON lines at info level into `lines`.
    static func application(
        _ env: TestEnvironment, _ configuration: GatehouseConfiguration = GatehouseConfiguration(), lines: Lines
    ) -> GatehouseApplication {
        let sink = LogSink { lines.append($0) }
        let logger = Logger(label: "gatehouse") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        return buildApplication(
            configuration: configuration,
            dependencies: GatehouseDependencies(database: env.database, clock: env.clock, logger: logger, longPolls: env.longPolls))
    }

    @Test("one JSON object per request: request id, route, method, status and latency as numbers; never the key")
    func requestLine() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lines = Lines()
        let app = Self.application(env, lines: lines)
        try await app.test(.live) { client in
            let created = try await client.call(
                .post, "/v1/approvals", key: env.requestKey, body: #"{"action":"Deploy","payload":{"a":1}}"#,
                headers: [.requestID: "ci-run-7"])
            #expect(created.status == .created)
            let missing = try await client.call(.get, "/v1/approvals/apr_nothere", key: env.requestKey)
            #expect(missing.status == .notFound)
        }
        let requests = try lines.objects().filter { $0["msg"] == .string("request") }
        #expect(requests.count == 2)
        let create = try #require(requests.first { $0["request_id"] == .string("ci-run-7") })
        #expect(create["route"] == .string("/v1/approvals"))
        #expect(create["method"] == .string("POST"))
        #expect(create["status"] == .number(201))
        #expect(create["latency_ms"]?.numberValue.map { $0 >= 0 } == true)
        #expect(create["hb.request.id"] == nil)
        #expect(create["level"] == .string("info"))
        let refused = try #require(requests.first { $0["status"] == .number(404) })
        #expect(refused["route"] == .string("/v1/approvals/{id}"))
        #expect(refused["request_id"]?.stringValue?.isEmpty == false)
        #expect(!lines.all.joined().contains(env.requestKey))
        // The key by name, the approval by id, and the error by its code.
        #expect(create["key"] == .string("agent"))
        #expect(create["approval_id"]?.stringValue?.hasPrefix("apr_") == true)
        #expect(create["error"] == nil)
        #expect(refused["key"] == .string("agent"))
        #expect(refused["approval_id"] == .string("apr_nothere"))
        #expect(refused["error"] == .string("not_found"))
    }

    @Test("a delivery that succeeds after retries logs one line with its attempts and the approval; each failure before it a warning")
    func deliveredAfterRetries() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        let lines = Lines()
        let sink = LogSink { lines.append($0) }
        let logger = Logger(label: "gatehouse") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        let app = buildApplication(
            configuration: env.slackConfiguration(fake),
            dependencies: GatehouseDependencies(
                database: env.database, clock: env.clock, logger: logger, longPolls: env.longPolls, slackPacing: 0))
        fake.fail("chat.postMessage", with: .serverError, times: 2)
        try await app.test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            // Each retry waits on the service's clock: once a failure is rescheduled, move the clock past its backoff.
            for failures in 1...2 {
                try await SlackFlowTests.waitUntil(env.database, fake) {
                    try lines.objects().filter { $0["msg"] == .string("delivery failed; will retry") }.count == failures
                }
                env.clock.advance(by: 60)
            }
            try await SlackFlowTests.waitUntil(env.database, fake) {
                try lines.objects().contains { $0["msg"] == .string("delivered after retries") }
            }
            let objects = try lines.objects()
            let retries = objects.filter { $0["msg"] == .string("delivery failed; will retry") }
            #expect(retries.count == 2)
            #expect(retries.allSatisfy { $0["level"] == .string("warning") && $0["approval_id"] == .string(created.id.rawValue) })
            let done = try #require(objects.first { $0["msg"] == .string("delivered after retries") })
            #expect(done["attempts"] == .number(3))
            #expect(done["approval_id"] == .string(created.id.rawValue))
            #expect(done["kind"] == .string("slack.post"))
        }
        await fake.stop()
    }

    @Test("probes and scrapes (/healthz, /readyz, /metrics) log at debug level, so an info log is not flooded by them")
    func probesAtDebug() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lines = Lines()
        try await Self.application(env, lines: lines).test(.live) { client in
            for path in ["/healthz", "/readyz", "/metrics"] {
                let answer = try await client.call(.get, path)
                #expect(answer.status == .ok)
            }
            let refused = try await client.call(.get, "/v1/approvals", key: "wrong")
            #expect(refused.status == .unauthorized)
        }
        let requests = try lines.objects().filter { $0["msg"] == .string("request") }
        #expect(requests.map { $0["route"] } == [.string("/v1/approvals")])
        #expect(requests.first?["error"] == .string("unauthorized"))
    }

    @Test("a refused Slack signature is logged as a warning with its reason and path, never the signature or secret")
    func signatureRefusalLogged() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lines = Lines()
        var configuration = GatehouseConfiguration()
        configuration.slackSigningSecret = "shh-signing-secret"
        let app = Self.application(env, configuration, lines: lines)
        let body = "command=%2Fgatehouse&text=help&user_id=U1"
        let forged = SlackRequestSigner(secret: "not-the-secret").headers(body: body, timestamp: env.clock.now)
        try await app.test(.live) { client in
            var headers = HTTPFields()
            headers[.contentType] = "application/x-www-form-urlencoded"
            for (name, value) in forged { headers[HTTPField.Name(name)!] = value }
            let response = try await client.execute(uri: "/slack/commands", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(response.status == .unauthorized)
        }
        let refused = try lines.objects().filter { $0["msg"] == .string("Slack request refused") }
        #expect(refused.count == 1)
        #expect(refused.first?["level"] == .string("warning"))
        #expect(refused.first?["reason"] == .string("the Slack signature does not match the request body"))
        #expect(refused.first?["path"] == .string("/slack/commands"))
        let all = lines.all.joined()
        #expect(!all.contains("shh-signing-secret"))
        #expect(!all.contains(forged.first { $0.0 == "X-Slack-Signature" }!.1))
    }

    @Test("a bot token without a signing secret is a warning at startup: buttons and the slash command would get 503")
    func tokenWithoutSecretWarned() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lines = Lines()
        var configuration = GatehouseConfiguration()
        configuration.slackBotToken = "xoxb-not-a-real-token"
        configuration.slackAPIURL = URL(string: "http://127.0.0.1:9/")!
        _ = Self.application(env, configuration, lines: lines)
        let warning = try lines.objects().first { $0["msg"]?.stringValue?.hasPrefix("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not") == true }
        #expect(warning?["level"] == .string("warning"))
        #expect(!lines.all.joined().contains("xoxb-not-a-real-token"))
    }
}
