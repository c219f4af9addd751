import ApprovalCore
import DomainTestSupport
import Foundation
import GatehouseServer
import HummingbirdTesting
import Logging
import PostgresStorage
import PostgresTestSupport
import GatehouseTestSupport
import ServerTestSupport
import Testing

/// Two applications, as two `serve` replicas would be, on one PostgreSQL database and one test clock.
@Suite("Two replicas on one PostgreSQL database", .enabled(if: PostgresServer.available))
struct ReplicaTests {
    struct Replica {
        let store: any GatehouseStore
        let longPolls: LongPolls
        let application: GatehouseApplication
    }

    static func replicas(clock: TestClock, configuration: GatehouseConfiguration = GatehouseConfiguration()) async throws
        -> (Replica, Replica, request: String, decide: String)
    {
        let url = try PostgresServer.freshDatabaseURL()
        var replicas: [Replica] = []
        for _ in 0..<2 {
            let store: any GatehouseStore = try await PostgresDatabase(url: url, clock: clock)
            let longPolls = LongPolls(clock: clock)
            var logger = Logger(label: "gatehouse-test")
            logger.logLevel = .error
            let application = buildApplication(
                configuration: configuration,
                dependencies: GatehouseDependencies(database: store, clock: clock, logger: logger, longPolls: longPolls))
            replicas.append(Replica(store: store, longPolls: longPolls, application: application))
        }
        let request = try await replicas[0].store.createKey(name: "agent", scope: .request, boundTo: nil, breakGlass: false, by: "test")
        let decide = try await replicas[1].store.createKey(name: "lead", scope: .decide, boundTo: nil, breakGlass: false, by: "test")
        return (replicas[0], replicas[1], request, decide)
    }

    @Test("requests alternate between the replicas: each is read and decided on the other, and both see the decision")
    func alternate() async throws {
        let (a, b, request, decide) = try await Self.replicas(clock: TestClock())
        defer { try? a.store.close(); try? b.store.close() }
        try await a.application.test(.live) { clientA in
            try await b.application.test(.live) { clientB in
                for n in 0..<6 {
                    let (filer, other) = n % 2 == 0 ? (clientA, clientB) : (clientB, clientA)
                    let created = try await filer.createApproval(key: request, action: "Deploy \(n)")
                    #expect(created.status == .created)
                    let read = try await other.call(.get, "/v1/approvals/\(created.id.rawValue)", key: request)
                    #expect(read["action"] == .string("Deploy \(n)"))
                    let decided = try await other.call(
                        .post, "/v1/approvals/\(created.id.rawValue)/decision", key: decide,
                        body: #"{"outcome":"approve","as":"U0ALICE"}"#)
                    #expect(decided.status == .ok)
                    #expect(try await filer.call(.get, "/v1/approvals/\(created.id.rawValue)", key: request)["status"] == .string("approved"))
                }
                // A second decision on the first replica of one already decided on the other is refused: one decision.
                let created = try await clientA.createApproval(key: request)
                _ = try await clientB.call(
                    .post, "/v1/approvals/\(created.id.rawValue)/decision", key: decide, body: #"{"outcome":"reject","as":"U0ALICE"}"#)
                let again = try await clientA.call(
                    .post, "/v1/approvals/\(created.id.rawValue)/decision", key: decide, body: #"{"outcome":"approve","as":"U0BOB"}"#)
                #expect(again.status == .conflict)
            }
        }
        #expect(try await b.store.verifyAuditLog(expectedHead: nil) == .intact(entries: try await a.store.auditEntries(since: nil, approvalID: nil).count))
    }

    @Test("a long-poll held on one replica is answered by a decision taken on the other")
    func crossReplicaWakeUp() async throws {
        let (a, b, request, decide) = try await Self.replicas(clock: TestClock())
        defer { try? a.store.close(); try? b.store.close() }
        try await a.application.test(.live) { clientA in
            try await b.application.test(.live) { clientB in
                let created = try await clientA.createApproval(key: request)
                let held = Task { try await clientA.call(.get, "/v1/approvals/\(created.id.rawValue)?wait=30", key: request) }
                try await withTimeout { await a.longPolls.whenCount { $0 == 1 } }
                let decided = try await clientB.call(
                    .post, "/v1/approvals/\(created.id.rawValue)/decision", key: decide, body: #"{"outcome":"approve","as":"U0ALICE"}"#)
                #expect(decided.status == .ok)
                // Long before the poll's own 30 s: the other replica's decision woke it.
                let answer = try await withTimeout(.seconds(10)) { try await held.value }
                #expect(answer["status"] == .string("approved"))
            }
        }
    }

    @Test("a request filed on a replica that then stopped expires on time on the other")
    func deadlinesOfAStoppedReplica() async throws {
        let clock = TestClock()
        let (a, b, request, _) = try await Self.replicas(clock: clock)
        defer { try? b.store.close() }
        try await b.application.test(.live) { _ in
            let created = try await a.application.test(.live) { clientA in
                try await clientA.createApproval(key: request, extra: #","expires_in":600"#).id
            }
            try? a.store.close()
            // The other replica hears of it through its change feed, which re-arms its timer; whether that happens
            // before or after the clock moves, the timer then finds the request due.
            clock.advance(by: 601)
            try await withTimeout {
                try await waitUntil([b.store.commits]) { try await b.store.approval(created)?.status == .expired }
            }
        }
    }

    @Test("a signed Slack request accepted by one replica is refused as a replay by the other, and changes nothing there")
    func replayAcrossReplicas() async throws {
        let env = try await TestEnvironment()  // the signer and the clock of the Slack requests
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        defer { Task { await fake.stop() } }
        var configuration = env.slackConfiguration(fake)
        configuration.admins = ["U0ADMIN"]
        let (a, b, _, _) = try await Self.replicas(clock: env.clock, configuration: configuration)
        defer { try? a.store.close(); try? b.store.close() }
        let addMallory = SlackDriver.commandBody("admin add <@U0MALLORY>", by: "U0ADMIN")
        let signedAt = env.clock.now
        try await a.application.test(.live) { clientA in
            try await b.application.test(.live) { clientB in
                // The other replica has seen a Slack request already, so it holds its own memory of signatures.
                _ = try await SlackDriver(env: env, client: clientB).command("help", by: "U0ADMIN")
                #expect(try await SlackDriver(env: env, client: clientA).post("/slack/commands", body: addMallory, at: signedAt).status == .ok)
                #expect(try await b.store.storedAdmins() == ["U0MALLORY"])
                #expect(try await SlackDriver(env: env, client: clientB).command("admin remove <@U0MALLORY>", by: "U0ADMIN").hasPrefix("Removed"))
                let replay = try await SlackDriver(env: env, client: clientB).post("/slack/commands", body: addMallory, at: signedAt)
                #expect(replay.status == .unauthorized)
                #expect(replay.errorCode == "bad_signature")
                #expect(try await a.store.storedAdmins().isEmpty)
            }
        }
    }
}
