import ApprovalCore
import Foundation
import GRDB

#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

// MARK: - For benchmarks and tests only

/// The scheduler's two reads, as SQL text, for `gatehouse-bench escalations`: the very text that
/// ``GatehouseDatabase/pendingDue(asOf:limit:)`` and ``GatehouseDatabase/nextDeadline()`` run, so the benchmark can
/// check their query plans. `due` takes `now` (milliseconds) and a limit; `nextDeadline` takes none.
@_spi(Benchmark) public enum SchedulerSQLForBenchmark {
    public static let due = GatehouseDatabase.dueSQL
    public static let nextDeadline = GatehouseDatabase.nextDeadlineSQL
}

/// What SQLite did to run one statement: the rows it returned and the work behind them.
@_spi(Benchmark) public struct StatementCostForBenchmark: Sendable {
    public let rows: Int
    /// Virtual-machine instructions run: grows with every row visited, returned or not.
    public let vmSteps: Int
    /// Steps forward in a full table scan (0 when every table was reached through an index).
    public let fullScanSteps: Int
    /// Sort operations (an `ORDER BY` not satisfied by an index).
    public let sorts: Int
}

/// One approval's scheduling state, to compare the table before and after a scheduler pass.
@_spi(Benchmark) public struct SchedulerStateForBenchmark: Sendable, Equatable {
    public let status: String
    public let level: Int
    public let levelStartedAt: Int64?
    public let nextDeadline: Int64?

    public init(status: String, level: Int, levelStartedAt: Int64?, nextDeadline: Int64?) {
        self.status = status
        self.level = level
        self.levelStartedAt = levelStartedAt
        self.nextDeadline = nextDeadline
    }
}

extension GatehouseDatabase {
    /// For benchmarks and tests only: stores `approvals` as they are, in one transaction, with no audit entries and no
    /// outbox rows (so the audit chain does not record them). Use it to fill a throwaway database quickly; a service
    /// must file requests through ``insert(gate:idempotency:build:)``.
    @_spi(Benchmark) public func bulkInsertForBenchmark(_ approvals: [Approval]) async throws {
        let rows = approvals.map(ApprovalRow.arguments)
        try await writer.write { db in
            let statement = try db.cachedStatement(sql: ApprovalRow.insertSQL)
            for row in rows {
                try statement.execute(arguments: row)
            }
        }
    }

    /// For benchmarks and tests only: the `detail` lines of `EXPLAIN QUERY PLAN` for `sql`.
    @_spi(Benchmark) public func queryPlanForBenchmark(_ sql: String, arguments: [Int64] = []) async throws -> [String] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(arguments))
                .map { $0["detail"] as String? ?? "" }
        }
    }

    /// For benchmarks and tests only: runs `sql` to the end on a reader and reports how much work SQLite did.
    @_spi(Benchmark) public func statementCostForBenchmark(_ sql: String, arguments: [Int64] = []) async throws -> StatementCostForBenchmark {
        try await writer.read { db in
            let statement = try db.makeStatement(sql: sql)
            statement.arguments = StatementArguments(arguments)
            let cursor = try Row.fetchCursor(statement)
            var rows = 0
            while try cursor.next() != nil { rows += 1 }
            let handle = statement.sqliteStatement
            return StatementCostForBenchmark(
                rows: rows,
                vmSteps: Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_VM_STEP, 0)),
                fullScanSteps: Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0)),
                sorts: Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_SORT, 0)))
        }
    }

    /// For benchmarks and tests only: the single integer `sql` returns (`nil` for NULL or no row).
    @_spi(Benchmark) public func int64ForBenchmark(_ sql: String, arguments: [Int64] = []) async throws -> Int64? {
        try await writer.read { db in try Int64.fetchOne(db, sql: sql, arguments: StatementArguments(arguments)) }
    }

    /// For benchmarks and tests only: every approval's scheduling state, by id.
    @_spi(Benchmark) public func schedulerStateForBenchmark() async throws -> [String: SchedulerStateForBenchmark] {
        try await writer.read { db in
            var states: [String: SchedulerStateForBenchmark] = [:]
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT id, status, escalation_level, level_started_at, next_deadline FROM approval")
            while let row = try cursor.next() {
                states[row["id"]] = SchedulerStateForBenchmark(
                    status: row["status"], level: row["escalation_level"], levelStartedAt: row["level_started_at"],
                    nextDeadline: row["next_deadline"])
            }
            return states
        }
    }
}
