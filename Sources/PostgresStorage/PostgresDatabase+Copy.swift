import ApprovalCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Raw rows in and out of PostgreSQL, for `gatehouse migrate-storage`: every table of the schema, each value as it
/// is stored (the same text and numbers as on SQLite, so the audit hashes verify unchanged).
extension PostgresDatabase {
    /// One stored value (the same kind on both engines).
    public typealias CopiedValue = StoredValue

    /// The schema's tables, by name (not the migration record).
    @_spi(StorageCopy) public func copyTableNames() async throws -> [String] {
        try await read { connection in
            try await connection.query(
                """
                SELECT table_name::text FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migration'
                ORDER BY table_name COLLATE "C"
                """, logger: self.logger
            ).decode(String.self).allElements()
        }
    }

    /// The columns of `table`, in their order.
    @_spi(StorageCopy) public func copyColumns(of table: String) async throws -> [String] {
        try await read { connection in
            try await Self.columns(of: table, on: connection, logger: self.logger).map(\.name)
        }
    }

    /// How many rows `table` holds.
    @_spi(StorageCopy) public func copyRowCount(of table: String) async throws -> Int {
        try await read { connection in
            Int(
                try await connection.query("SELECT COUNT(*) FROM \(unescaped: Self.quoted(table))", logger: self.logger)
                    .decode(Int64.self).allElements().first ?? 0)
        }
    }

    /// Runs `body` with a reader over one snapshot of the database (a `REPEATABLE READ READ ONLY` transaction), so
    /// that a copy taken beside running replicas is consistent across tables.
    @_spi(StorageCopy) public func readingSnapshot<T: Sendable>(_ body: (CopyReader) async throws -> T) async throws -> T {
        let logger = logger
        return try await read { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let value = try await body(CopyReader(connection: connection, logger: logger))
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` with a writer in one transaction: all its rows are committed together, or none.
    ///
    /// The transaction first locks every table of the schema against writes (`EXCLUSIVE`: reads go on) and refuses
    /// to go on when one holds rows, so a replica started on the destination meanwhile cannot interleave its own.
    /// When `body` returns, each identity sequence is moved past the largest id copied, so new rows get new ids.
    @_spi(StorageCopy) public func importing<T: Sendable>(_ body: (CopyWriter) async throws -> T) async throws -> T {
        let logger = logger
        return try await write { connection in
            let writer = CopyWriter(connection: connection, logger: logger)
            let tables = try await connection.query(
                """
                SELECT table_name::text FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migration'
                """, logger: logger
            ).decode(String.self).allElements()
            for table in tables {
                try await connection.query("LOCK TABLE \(unescaped: Self.quoted(table)) IN EXCLUSIVE MODE", logger: logger)
            }
            var occupied: [String] = []
            for table in tables.sorted() {
                let count = try await connection.query("SELECT COUNT(*) FROM \(unescaped: Self.quoted(table))", logger: logger)
                    .decode(Int64.self).allElements().first ?? 0
                if count > 0 { occupied.append("\(table): \(count)") }
            }
            guard occupied.isEmpty else { throw CopyRefusal.destinationNotEmpty(occupied) }
            let value = try await body(writer)
            try await writer.advanceSequences(of: tables)
            return value
        }
    }

    /// Why a copy into this database was refused.
    public enum CopyRefusal: Error, CustomStringConvertible {
        /// The destination holds rows already (`table: count`).
        case destinationNotEmpty([String])

        public var description: String {
            switch self {
            case .destinationNotEmpty(let tables):
                "the destination holds data already (\(tables.joined(separator: ", "))); copy into an empty database"
            }
        }
    }

    /// Reads tables page by page inside `readingSnapshot`.
    public struct CopyReader: Sendable {
        let connection: PostgresConnection
        let logger: Logger

        /// The rows of `table` (the values of `columns`), in the order of its first column, `pageSize` at a time.
        public func rows(
            of table: String, columns: [String], pageSize: Int = 500, _ page: ([[CopiedValue]]) async throws -> Void
        ) async throws {
            let selected = columns.map(PostgresDatabase.quoted).joined(separator: ", ")
            try await connection.query(
                "DECLARE gatehouse_copy NO SCROLL CURSOR FOR SELECT \(unescaped: selected) FROM \(unescaped: PostgresDatabase.quoted(table)) ORDER BY 1",
                logger: logger)
            while true {
                var rows: [[CopiedValue]] = []
                for try await row in try await connection.query("FETCH \(unescaped: String(pageSize)) FROM gatehouse_copy", logger: logger) {
                    rows.append(try row.map(PostgresDatabase.copiedValue))
                }
                if !rows.isEmpty { try await page(rows) }
                if rows.count < pageSize { break }
            }
            try await connection.query("CLOSE gatehouse_copy", logger: logger)
        }
    }

    /// Inserts rows inside `importing`'s transaction.
    public struct CopyWriter: Sendable {
        let connection: PostgresConnection
        let logger: Logger

        /// The columns of `table`, in their order.
        public func columns(of table: String) async throws -> [String] {
            try await PostgresDatabase.columns(of: table, on: connection, logger: logger).map(\.name)
        }

        /// Inserts `rows` (values of `columns`) into `table` as they are, ids included. Each value is cast to its
        /// column's type, so an integer SQLite kept as text arrives as the number it stands for.
        public func insert(into table: String, columns: [String], rows: [[CopiedValue]]) async throws {
            guard !rows.isEmpty else { return }
            let types = Dictionary(
                uniqueKeysWithValues: try await PostgresDatabase.columns(of: table, on: connection, logger: logger).map {
                    ($0.name, $0.type)
                })
            let casts = try columns.map { column in
                guard let type = types[column] else { throw StorageError.corrupt("copy: no column \(table).\(column) here") }
                return type
            }
            let names = columns.map(PostgresDatabase.quoted).joined(separator: ", ")
            // PostgreSQL takes at most 65,535 parameters in one statement.
            let perStatement = max(1, 20_000 / max(1, columns.count))
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                var bindings = PostgresBindings()
                var tuples: [String] = []
                for row in rows[start..<min(start + perStatement, rows.count)] {
                    var marks: [String] = []
                    for (value, type) in zip(row, casts) {
                        switch value {
                        case .null: bindings.appendNull()
                        case .integer(let number): bindings.append(number)
                        case .real(let number): bindings.append(number)
                        case .text(let text): bindings.append(text)
                        case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
                        }
                        marks.append("CAST($\(bindings.count) AS \(type))")
                    }
                    tuples.append("(" + marks.joined(separator: ", ") + ")")
                }
                let sql = "INSERT INTO \(PostgresDatabase.quoted(table)) (\(names)) VALUES " + tuples.joined(separator: ", ")
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            }
        }

        /// Moves each identity sequence past the largest id its table holds.
        func advanceSequences(of tables: [String]) async throws {
            let identities = try await connection.query(
                """
                SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND is_identity = 'YES'
                """, logger: logger
            ).decode((String, String).self).allElements()
            for (table, column) in identities where tables.contains(table) {
                let name = PostgresDatabase.quoted(table)
                let id = PostgresDatabase.quoted(column)
                try await connection.query(
                    """
                    SELECT setval(pg_get_serial_sequence(\(name), \(column)), GREATEST(MAX(\(unescaped: id)), 1), MAX(\(unescaped: id)) IS NOT NULL)
                    FROM \(unescaped: name)
                    """, logger: logger)
            }
        }
    }

    static func columns(of table: String, on connection: PostgresConnection, logger: Logger) async throws -> [(name: String, type: String)] {
        try await connection.query(
            """
            SELECT column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table) ORDER BY ordinal_position
            """, logger: logger
        ).decode((String, String).self).allElements().map { (name: $0.0, type: $0.1) }
    }

    /// What went wrong, for a person: PostgreSQL's SQLSTATE and message, or what kept the client from the server.
    /// PSQLError's own description says nothing, and its debug description may carry a query's values.
    public static func failureDescription(_ error: any Error) -> String {
        guard error is PSQLError else { return "\(error)" }
        let (code, location) = describe(error)
        return "\(location) (\(code))"
    }

    /// `name` as an SQL identifier.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func copiedValue(_ cell: PostgresCell) throws -> CopiedValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8, .numeric: return .real(try cell.decode(Double.self))
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }
}
