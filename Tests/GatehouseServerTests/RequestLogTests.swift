import ApprovalCore
import Foundation
@testable import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@Suite("Request log lines")
struct RequestLogTests {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    @Test("one JSON object per request: request id, route, method, status and latency as numbers; never the key")
    func requestLine() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lines = Lines()
        let sink = LogSink { lines.append($0) }
        let logger = Logger(label: "gatehouse") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        let app = buildApplication(
            configuration: GatehouseConfiguration(),
            dependencies: GatehouseDependencies(database: env.database, clock: env.clock, logger: logger, waiters: env.waiters))
        try await app.test(.live) { client in
            let created = try await client.call(
                .post, "/v1/approvals", key: env.requestKey, body: #"{"action":"Deploy","payload":{"a":1}}"#,
                headers: [.requestID: "ci-run-7"])
            #expect(created.status == .created)
            let missing = try await client.call(.get, "/v1/approvals/apr_nothere", key: env.requestKey)
            #expect(missing.status == .notFound)
        }
        let requests = try lines.all.map { try JSONValue.parse(Data($0.utf8)) }.filter { $0["msg"] == .string("request") }
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
    }
}
