import ApprovalCore
import Foundation
import PostgresNIO
import PostgresStorage
import PostgresTestSupport
import Testing

@Suite("PostgreSQL schema", .enabled(if: PostgresServer.available))
struct PostgresSchemaTests {
    @Test("a new database is migrated once, and opening it again applies nothing twice")
    func migratesOnce() async throws {
        let url = try PostgresServer.freshDatabaseURL()
        let first = try await PostgresDatabase(url: url)
        let applied = try await first.appliedMigrations()
        first.close()
        let second = try await PostgresDatabase(url: url)
        #expect(try await second.appliedMigrations() == applied)
        #expect(applied == ["v1-schema", "v2-outbox-leases"])
        second.close()
    }

    @Test("replicas starting together on a new database migrate it once")
    func concurrentStarts() async throws {
        let url = try PostgresServer.freshDatabaseURL()
        let databases = try await withThrowingTaskGroup(of: PostgresDatabase.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresDatabase(url: url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for database in databases {
            #expect(try await database.appliedMigrations() == ["v1-schema", "v2-outbox-leases"])
            database.close()
        }
    }

    @Test("a URL without a database, user or host is refused with what is missing, and never shows its password")
    func badURLs() async throws {
        for (url, missing) in [("postgres://u:secret@127.0.0.1:1/", "no database"), ("postgres://127.0.0.1/db", "no user"),
                               ("postgres://u@127.0.0.1/db?sslmode=sometimes", "sslmode")] {
            do {
                _ = try await PostgresDatabase(url: url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect("\(error)".contains(missing))
                #expect(!"\(error)".contains("secret"))
            }
        }
    }
}
