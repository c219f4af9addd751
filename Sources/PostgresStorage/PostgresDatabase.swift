import ApprovalCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The service's storage on PostgreSQL: the same ports as `GatehouseDatabase` on SQLite, for several replicas over
/// one database.
///
/// Every method that changes something is one transaction, as on SQLite. What SQLite gets from having one writer,
/// this gets from the database: the audit chain is extended under a transaction-scoped advisory lock (one chain, in
/// commit order, whichever replica writes), approvals change by compare-and-set on their `revision`, and outbox items
/// are claimed with `FOR UPDATE SKIP LOCKED` and a lease. Nothing a replica must agree on is cached in memory.
public final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let clock: any WallClock
    let logger: Logger
    /// This process's name in outbox leases (`claimed_by`), so that it releases its own claims alone.
    public let replicaID: String
    private let running: Mutex<Task<Void, Never>?>
    /// Signalled after every commit that added outbox items, here or (through notifications) on another replica.
    public let outboxEnqueued = Wakeup()
    /// Counts the write transactions this process committed, and those other replicas announced.
    public let commits = ChangeCounter()

    /// How long a claimed outbox item stays claimed by a replica that neither finishes nor releases it.
    public static let outboxLease: TimeInterval = 60

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]`) and brings its schema up to
    /// date (migrations run under an advisory lock, so replicas starting together apply each once).
    public init(url: String, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "gatehouse.postgres"))
        async throws
    {
        let configuration = try PostgresURL.configuration(url)
        // The pool's own log says little an operator can act on (failures reach the callers as errors), and warns of
        // a lease asked for in the instant before `run()` starts.
        var poolLogger = logger
        poolLogger.logLevel = .error
        self.client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        self.clock = clock
        self.logger = logger
        self.replicaID = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))"
        let client = self.client
        self.running = Mutex(Task { await client.run() })
        do {
            try await PostgresSchema.migrate(client, logger: logger)
        } catch {
            close()
            throw error
        }
    }

    /// Stops the connections; later calls fail.
    public func close() {
        let task = running.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
    }

    /// Names of the migrations applied, in order.
    public func appliedMigrations() async throws -> [String] {
        try await read { connection in
            var names: [String] = []
            for try await name in try await connection.query(
                "SELECT name FROM schema_migration ORDER BY applied_order", logger: self.logger
            ).decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    // MARK: - Transactions

    /// Runs `work` in one transaction (READ COMMITTED), committed when it returns and rolled back when it throws.
    /// Throws what failed itself: the error `work` threw (a `StorageError`, `ApprovalError.idempotencyConflict`, a
    /// unique violation), else that of `COMMIT` or `BEGIN`, rather than postgres-nio's `PostgresTransactionError`
    /// around it, so callers see the same errors as on SQLite.
    @discardableResult
    func write<T: Sendable>(_ work: (PostgresConnection) async throws -> T) async throws -> T {
        let value: T
        do {
            value = try await client.withTransaction(logger: logger) { connection in try await work(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error.beginError ?? error
        }
        commits.increment()
        return value
    }

    /// Runs `work` on a connection from the pool, outside any explicit transaction.
    func read<T: Sendable>(_ work: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await work(connection) }
    }

    /// Serialises extensions of the audit chain across replicas until the transaction ends: take it after the
    /// transaction's other writes, just before appending, so no transaction waits on a row while holding it.
    static let auditLockKey: Int64 = 0x6761_7465_6175_6469  // "gateaudi"

    /// Whether `error` is PostgreSQL's unique-constraint violation (23505).
    static func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }
}

extension Date {
    /// The millisecond timestamps the schema keeps (`BIGINT`), as on SQLite.
    var ms: Int64 { millisecondsSince1970 }
}

extension AsyncSequence {
    /// Every element, in order: for the small answers (a few rows) that are read whole, raw rows or decoded ones alike.
    func allElements() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}
