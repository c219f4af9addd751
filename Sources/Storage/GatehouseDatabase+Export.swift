import ApprovalCore
import Foundation
import GRDB

/// Raw rows in and out of the SQLite file, for `gatehouse migrate-storage`: every table of the schema, each value as
/// SQLite holds it, so that a copy keeps the same text, numbers and ids (and so the same audit hashes).
extension GatehouseDatabase {
    /// One stored value (the same kind on both engines).
    public typealias CopiedValue = StoredValue

    /// A page of a table's rows; pass `next` back for the following page (nil: the table is done).
    public struct CopyPage: Sendable {
        public let rows: [[CopiedValue]]
        public let next: Int64?
    }

    /// Tables that hold no data worth copying: GRDB's migration record and the write probe's scratch table.
    static let uncopiedTables: Set<String> = ["grdb_migrations", "storage_probe"]

    /// The schema's tables, by name.
    @_spi(StorageCopy) public func copyTableNames() async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).filter { !Self.uncopiedTables.contains($0) }
        }
    }

    /// The columns of `table`, in their order.
    @_spi(StorageCopy) public func copyColumns(of table: String) async throws -> [String] {
        try await writer.read { db in try db.columns(in: table).map(\.name) }
    }

    /// How many rows `table` holds.
    @_spi(StorageCopy) public func copyRowCount(of table: String) async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0 }
    }

    /// Up to `limit` rows of `table` (the values of `columns`), in rowid order from `after`; a table without rowid
    /// comes whole, in one page.
    @_spi(StorageCopy) public func copyRows(of table: String, columns: [String], after: Int64?, limit: Int) async throws -> CopyPage {
        try await writer.read { db in
            let selected = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
            let name = table.quotedDatabaseIdentifier
            let hasRowID = (try? db.makeStatement(sql: "SELECT rowid FROM \(name) LIMIT 0")) != nil
            guard hasRowID else {
                let rows = try Row.fetchAll(db, sql: "SELECT \(selected) FROM \(name)")
                return CopyPage(rows: rows.map(Self.copiedValues), next: nil)
            }
            let rows = try Row.fetchAll(
                db, sql: "SELECT rowid, \(selected) FROM \(name) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                arguments: [after ?? Int64.min, limit])
            let values = rows.map { Array(Self.copiedValues($0).dropFirst()) }
            let last: Int64? = rows.last?[0]
            return CopyPage(rows: values, next: rows.count == limit ? last : nil)
        }
    }

    /// Inserts the rows of `tables`, in the order given (parents before children), in one transaction: all or none.
    @_spi(StorageCopy) public func importCopiedTables(
        _ tables: [(name: String, columns: [String], rows: [[CopiedValue]])]
    ) async throws {
        try await writer.write { db in
            for table in tables where !table.rows.isEmpty {
                let columns = table.columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
                let marks = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
                let statement = try db.makeStatement(
                    sql: "INSERT INTO \(table.name.quotedDatabaseIdentifier) (\(columns)) VALUES (\(marks))")
                for row in table.rows {
                    try statement.execute(arguments: StatementArguments(row.map(Self.databaseValue)))
                }
            }
        }
    }

    static func copiedValues(_ row: Row) -> [CopiedValue] {
        row.databaseValues.map { value in
            switch value.storage {
            case .null: .null
            case .int64(let number): .integer(number)
            case .double(let number): .real(number)
            case .string(let text): .text(text)
            case .blob(let data): .blob([UInt8](data))
            }
        }
    }

    static func databaseValue(_ value: CopiedValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }
}
