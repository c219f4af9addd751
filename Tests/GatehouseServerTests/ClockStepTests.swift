import ApprovalCore
import DomainTestSupport
import Foundation
import GatehouseServer
import HummingbirdTesting
import Logging
import ServerTestSupport
import Storage
import Testing

@Suite("A step of the wall clock, seen by the running service")
struct ClockStepTests {
    @Test("after the wall clock steps forward past their deadlines, the scheduler expires and the sweeper answers at once, not hours later")
    func stepForward() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let wall = SteppedWall()
        // The system clock but for the wall reading, re-read every 10 ms instead of every 2 s.
        let clock = SystemWallClock(recheck: .milliseconds(10), readWall: wall.read)
        let database = try GatehouseDatabase(path: dir.path("gatehouse.sqlite"), clock: clock)
        defer { try? database.close() }
        let key = try await database.createKey(name: "agent", scope: .request)
        let longPolls = LongPolls(clock: clock)
        var logger = Logger(label: "gatehouse-test")
        logger.logLevel = .error
        let app = buildApplication(
            configuration: GatehouseConfiguration(),
            dependencies: GatehouseDependencies(database: database, clock: clock, logger: logger, longPolls: longPolls))
        try await app.test(.live) { client in
            let created = try await client.call(
                .post, "/v1/approvals", key: key, body: #"{"action":"Deploy","payload":{"a":1},"expires_in":3600}"#)
            #expect(created.status == .created)
            let poll = Task { try await client.call(.get, "/v1/approvals/\(created.id.rawValue)?wait=60", key: key) }
            await longPolls.whenCount { $0 == 1 }
            wall.step(by: 7200)
            let answered = try await withTimeout { try await poll.value }
            #expect(answered.status == .ok)
            try await withTimeout {
                try await waitUntil([database.commits]) { try await database.approval(created.id)?.status == .expired }
            }
        }
    }
}
