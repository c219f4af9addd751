import ApprovalCore
import Foundation
import GatehouseServer
import ServerTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Signing
import Storage
import Testing

@Suite("Callbacks and restarts")
struct CallbackAndRestartTests {
    @Test("a decided approval is delivered to its callback_url, signed, and retried with backoff until a 2xx")
    func callbackDeliveredSignedWithRetry() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let receiver = CallbackReceiver()
        let url = try await receiver.start(statuses: [500])
        var configuration = GatehouseConfiguration()
        configuration.webhookSecret = "whsec-0123456789abcdef"
        try await env.application(configuration: configuration).test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","callback_url":"\#(url.absoluteString)""#)
            _ = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"alice"}"#)
            try await withTimeout { await receiver.waitForDeliveries(1) }
            // The first attempt got 500: the item is rescheduled on the clock, not retried at once.
            try await SlackFlowTests.waitUntil(env.database) {
                try await env.database.outboxItems(approvalID: created.id).first?.item.lastError != nil
            }
            let item = try #require(try await env.database.outboxItems(approvalID: created.id).first)
            #expect(item.item.attempts == 1)
            #expect(item.doneAt == nil)
            #expect(item.item.nextAttemptAt > env.clock.now)
            env.clock.set(to: item.item.nextAttemptAt)
            try await withTimeout { await receiver.waitForDeliveries(2) }
            try await SlackFlowTests.waitUntil(env.database) { try await env.database.outboxItems(approvalID: created.id).first?.doneAt != nil }
            let delivery = receiver.deliveries[1]
            let body = try JSONValue.parse(delivery.body)
            #expect(body["id"] == .string(created.id.rawValue))
            #expect(body["status"] == .string("rejected"))
            let timestamp = try #require(delivery.headers["x-gatehouse-timestamp"])
            #expect(timestamp == String(Int64(env.clock.now.timeIntervalSince1970)))
            let expected = "v1=" + HMACSHA256.authenticate(
                key: Array("whsec-0123456789abcdef".utf8), message: Array("v1:\(timestamp):".utf8) + Array(delivery.body)
            ).hexString
            #expect(delivery.headers["x-gatehouse-signature"] == expected)
            #expect(receiver.deliveries.count == 2)
        }
        await receiver.stop()
    }

    @Test("callbacks stop after 24 hours of failures, and the give-up is audited")
    func callbackGivesUp() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let receiver = CallbackReceiver()
        let url = try await receiver.start(statuses: Array(repeating: 503, count: 100))
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","callback_url":"\#(url.absoluteString)""#)
            _ = try await client.call(.post, "/v1/approvals/\(created.id)/cancel", key: env.requestKey)
            try await withTimeout { await receiver.waitForDeliveries(1) }
            try await SlackFlowTests.waitUntil(env.database) {
                try await env.database.outboxItems(approvalID: created.id).first?.item.lastError != nil
            }
            env.clock.advance(by: 86_400)
            try await SlackFlowTests.waitUntil(env.database) { try await env.database.outboxItems(approvalID: created.id).first?.failedAt != nil }
        }
        let failures = try await env.database.auditEntries().filter { $0.kind == "delivery_failed" }
        #expect(failures.count == 1)
        #expect(receiver.deliveries.count == 2)
        await receiver.stop()
    }

    @Test("after a restart on the same file nothing acknowledged is lost and pending deadlines still fire")
    func restartKeepsEverything() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let ids = try await env.application().test(.live) { client in
            var ids: [ApprovalID] = []
            for n in 0..<3 {
                ids.append(try await client.createApproval(key: env.requestKey, action: "Job \(n)", extra: #","expires_in":\#(60 * (n + 1))"#).id)
            }
            _ = try await client.call(
                .post, "/v1/approvals/\(ids[2])/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"alice"}"#)
            return ids
        }
        try env.database.close()

        // A new process: the same file opened again, with the clock past the first two deadlines.
        let reopened = try env.reopenDatabase()
        defer { try? reopened.close() }
        env.clock.advance(by: 150)
        try await env.application(database: reopened).test(.live) { client in
            try await SlackFlowTests.waitUntil(reopened) { try await reopened.countsByStatus()[.expired, default: 0] >= 2 }
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for (n, id) in ids.enumerated() {
                    group.addTask { (n, try await client.call(.get, "/v1/approvals/\(id)", key: env.requestKey)["status"]?.stringValue) }
                }
                return try await group.reduce(into: [Int: String?]()) { $0[$1.0] = $1.1 }
            }
            #expect(statuses == [0: "expired", 1: "expired", 2: "approved"])
        }
        #expect(try await reopened.verifyAuditLog() == .intact(entries: try await reopened.auditEntries().count))
        #expect(try await reopened.auditEntries().filter { $0.kind == "expired" }.count == 2)
    }

    @Test("a callback still due when the service stopped is delivered after the restart")
    func outboxSurvivesRestart() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let receiver = CallbackReceiver()
        let url = try await receiver.start()
        // Decided while no service runs: only the outbox row remembers the delivery.
        let service = env.service
        let created = try await service.submit(
            ApprovalRequest(action: "x", payload: .object([:]), callbackURL: url.absoluteString),
            by: .key(try #require(try await env.database.authenticate(env.requestKey))))
        _ = try await service.decide(created.approval.id, DecisionCommand(.approve, by: .slackUser("U1")))
        #expect(try await env.database.outboxBacklog()[CallbackOutboxPlanner.kind] == 1)
        try await env.application().test(.live) { _ in
            try await withTimeout { await receiver.waitForDeliveries(1) }
            try await SlackFlowTests.waitUntil(env.database) { try await env.database.outboxBacklog()[CallbackOutboxPlanner.kind, default: 0] == 0 }
        }
        #expect(receiver.deliveries.count == 1)
        await receiver.stop()
    }
}
