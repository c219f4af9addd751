import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresStorage
import PostgresTestSupport
import Storage
import Testing

/// The two storage engines, for suites that run the same tests on both: `@Test(arguments: Engine.all)`.
/// PostgreSQL is there whenever its binaries are (always in `.ci/run`).
enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var all: [Engine] { PostgresServer.available ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// A new, empty, migrated store on this engine, as the port (or composition of ports) `Store` a test needs.
    func open<Store>(_: Store.Type, clock: any WallClock = TestClock()) async throws -> Opened<Store> {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            let database = try GatehouseDatabase(path: directory.path("gatehouse.sqlite"), clock: clock)
            let store = try #require(database as? Store, "GatehouseDatabase is not a \(Store.self)")
            return Opened(store: store, raw: .sqlite(database)) {
                try? database.close()
                directory.remove()
            }
        case .postgres:
            let database = try await PostgresDatabase(url: try PostgresServer.freshDatabaseURL(), clock: clock)
            let store = try #require(database as? Store, "PostgresDatabase is not a \(Store.self)")
            return Opened(store: store, raw: .postgres(database)) { database.close() }
        }
    }
}

/// Two replicas over one new, migrated PostgreSQL database, on `clock`: close both at the end.
func postgresReplicas(clock: any WallClock = TestClock()) async throws -> (PostgresDatabase, PostgresDatabase) {
    let url = try PostgresServer.freshDatabaseURL()
    return (try await PostgresDatabase(url: url, clock: clock), try await PostgresDatabase(url: url, clock: clock))
}

/// A store a test opened: `close()` it at the end.
struct Opened<Store>: @unchecked Sendable {
    let store: Store
    let raw: Raw
    let close: @Sendable () -> Void

    enum Raw {
        case sqlite(GatehouseDatabase)
        case postgres(PostgresDatabase)
    }
}
