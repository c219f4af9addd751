import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresStorage
import PostgresTestSupport
import Testing

@Suite("Write health, on both engines")
struct WriteHealthTests {
    @Test("a database that takes writes is healthy", arguments: Engine.all)
    func healthy(engine: Engine) async throws {
        let opened = try await engine.open((any WriteHealthProbe).self)
        defer { opened.close() }
        #expect(await opened.store.writeHealth() == .writing)
    }

    /// The probe's answers until one satisfies `done` (a reconnecting pool may first answer with the connection it
    /// lost), at most `attempts`.
    static func probe(
        _ database: PostgresDatabase, attempts: Int = 5, until done: (WriteHealth, PostgresWriteFailure?) -> Bool
    ) async -> (WriteHealth, PostgresWriteFailure?) {
        var last = (await database.writeHealth(), database.lastWriteFailure)
        for _ in 1..<attempts where !done(last.0, last.1) {
            last = (await database.writeHealth(), database.lastWriteFailure)
        }
        return last
    }

    @Test("PostgreSQL refusing writes is unhealthy with its SQLSTATE, since the first failure; healthy again once it writes", .enabled(if: PostgresServer.available))
    func readOnly() async throws {
        let clock = TestClock()
        let url = try PostgresServer.freshDatabaseURL()
        let name = String(try #require(URLComponents(string: url)?.path.dropFirst()))
        let database = try await PostgresDatabase(url: url, clock: clock)
        defer { database.close() }
        let server = try PostgresServer.shared()
        let disconnect = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()"
        try server.psql("ALTER DATABASE \(name) SET default_transaction_read_only = on")
        try server.psql(disconnect)
        let firstFailure = clock.now
        let (health, failure) = await Self.probe(database) { _, failure in failure?.code == "25006" }
        #expect(health == .failing(since: firstFailure, code: "25006"))
        #expect(failure?.code == "25006")
        #expect(failure?.location.contains("read-only") == true)
        clock.advance(by: 30)
        #expect(await database.writeHealth() == .failing(since: firstFailure, code: "25006"))

        try server.psql("ALTER DATABASE \(name) RESET default_transaction_read_only")
        try server.psql(disconnect)
        let (recovered, none) = await Self.probe(database) { health, _ in health == .writing }
        #expect(recovered == .writing)
        #expect(none == nil)
    }

    @Test("PostgreSQL out of reach is unhealthy, and the failure names no password", .enabled(if: PostgresServer.available))
    func unreachable() async throws {
        let url = try PostgresServer.freshDatabaseURL()
        let name = String(try #require(URLComponents(string: url)?.path.dropFirst()))
        let database = try await PostgresDatabase(url: url, clock: TestClock())
        defer { database.close() }
        #expect(await database.writeHealth() == .writing)
        try PostgresServer.shared().psql("DROP DATABASE \(name) WITH (FORCE)")
        // The pool keeps trying to connect: the probe answers with what the server said, or that it timed out.
        let (health, failure) = await Self.probe(database) { _, failure in failure != nil }
        #expect(health != .writing)
        let described = try #require(failure)
        #expect(["3D000", "timeout"].contains(described.code))
        #expect(!described.description.contains("password"))
    }
}
