import ApprovalCore
import Foundation
import GatehouseServer
@_spi(StorageCopy) import PostgresStorage
@_spi(StorageCopy) import Storage
import Synchronization

/// Copies a whole Gatehouse database from one storage engine to another (SQLite file or PostgreSQL URL, either way):
/// every table of the schema, rows as they are (the same text, numbers and ids), so the audit chain's hashes verify
/// unchanged on the destination.
///
/// The source is read as one snapshot (a SQLite file no service holds, or one `REPEATABLE READ` transaction on
/// PostgreSQL); the destination is written in one transaction, tables in foreign-key order, and must be empty. On
/// PostgreSQL the identity sequences are then moved past the copied ids. Outbox claims are released in the copy:
/// whoever delivers from the destination takes the items up afresh.
struct StorageCopy: Sendable {
    typealias Value = PostgresDatabase.CopiedValue

    /// One side of the copy.
    enum Store: Sendable {
        case sqlite(GatehouseDatabase)
        case postgres(PostgresDatabase)
    }

    let source: Store
    let destination: Store

    /// Parents before children, so every foreign key finds its row; tables not named here come after, by name.
    static let tableOrder = [
        "api_key", "approval", "vote", "idempotency_key", "audit_log", "outbox", "slack_message", "chain", "admin",
        "slack_signature", "policy_set", "break_glass", "web_login_link", "web_session", "contact_request",
    ]

    /// What a copy did: the rows of each table on both sides, and both audit chains.
    struct Summary: Sendable {
        var tables: [(name: String, source: Int, destination: Int)] = []
        var sourceAudit = AuditChainCheck()
        var destinationAudit = AuditChainCheck()

        var countsMatch: Bool { tables.allSatisfy { $0.source == $0.destination } }
        var auditMatches: Bool {
            sourceAudit.broken == nil && destinationAudit.broken == nil && sourceAudit.count == destinationAudit.count
                && sourceAudit.head?.seq == destinationAudit.head?.seq && sourceAudit.head?.hash == destinationAudit.head?.hash
        }
    }

    /// Why a copy did not start.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Copies, then reads the destination back: its row counts and its audit chain, beside the source's.
    func run() async throws -> Summary {
        let tables = try await Self.tables(of: source)
        let destinationTables = Set(try await Self.tables(of: destination))
        var plan: [(name: String, columns: [String])] = []
        for table in tables {
            guard destinationTables.contains(table) else {
                throw Refusal(description: "the destination has no table '\(table)': is it an older version of Gatehouse?")
            }
            let available = Set(try await Self.columns(of: table, in: destination))
            // A lease is not copied: where the destination cannot hold one, it is left behind.
            let columns = try await Self.columns(of: table, in: source).filter {
                available.contains($0) || !(table == "outbox" && ["claimed_by", "claimed_until"].contains($0))
            }
            if let missing = columns.first(where: { !available.contains($0) }) {
                throw Refusal(description: "the destination's table '\(table)' has no column '\(missing)': is it an older version of Gatehouse?")
            }
            plan.append((table, columns))
        }
        let occupied = try await Self.occupiedTables(of: destination)
        guard occupied.isEmpty else {
            throw Refusal(
                description: "the destination holds data already (\(occupied.joined(separator: ", "))); "
                    + "migrate-storage copies into an empty database only")
        }

        let copied = try await Self.writing(destination) { writer in
            try await Self.reading(source) { reader in
                var counts: [String: Int] = [:]
                var audit = AuditChainCheck()
                for table in plan {
                    let destinationColumns = try await writer.columns(of: table.name)
                    let (columns, release) = Self.released(table.name, columns: table.columns, destinationColumns: destinationColumns)
                    var count = 0
                    try await reader.pages(of: table.name, columns: table.columns) { page in
                        let rows = page.map { row in release(row) }
                        if table.name == "audit_log" { audit.add(page, columns: table.columns) }
                        try await writer.insert(into: table.name, columns: columns, rows: rows)
                        count += page.count
                    }
                    counts[table.name] = count
                }
                return Copied(counts: counts, audit: audit)
            }
        }

        var summary = Summary()
        summary.sourceAudit = copied.audit
        summary.destinationAudit = try await Self.reading(destination) { reader in
            var audit = AuditChainCheck()
            if let columns = plan.first(where: { $0.name == "audit_log" })?.columns {
                try await reader.pages(of: "audit_log", columns: columns) { page in audit.add(page, columns: columns) }
            }
            return audit
        }
        for table in plan {
            summary.tables.append((table.name, copied.counts[table.name] ?? 0, try await Self.count(of: table.name, in: destination)))
        }
        return summary
    }

    private struct Copied: Sendable {
        var counts: [String: Int]
        var audit: AuditChainCheck
    }

    /// The columns to write for `table`, and how each row becomes the row written: outbox items lose their claims
    /// (`claimed` 0, and on PostgreSQL no `claimed_by` or `claimed_until`), everything else is kept as it is.
    static func released(
        _ table: String, columns: [String], destinationColumns: [String]
    ) -> (columns: [String], transform: @Sendable ([Value]) -> [Value]) {
        guard table == "outbox" else { return (columns, { $0 }) }
        var written = columns
        for extra in ["claimed_by", "claimed_until"] where destinationColumns.contains(extra) && !written.contains(extra) {
            written.append(extra)
        }
        let names = written
        let sourceCount = columns.count
        return (
            names,
            { row in
                var values = row + Array(repeating: Value.null, count: names.count - sourceCount)
                for (index, name) in names.enumerated() {
                    switch name {
                    case "claimed": values[index] = .integer(0)
                    case "claimed_by", "claimed_until": values[index] = .null
                    default: break
                    }
                }
                return values
            }
        )
    }

    // MARK: - Reading and writing either engine

    static func tables(of store: Store) async throws -> [String] {
        let names: [String]
        switch store {
        case .sqlite(let database): names = try await database.copyTableNames()
        case .postgres(let database): names = try await database.copyTableNames()
        }
        let known = tableOrder.filter(names.contains)
        return known + names.filter { !tableOrder.contains($0) }.sorted()
    }

    static func columns(of table: String, in store: Store) async throws -> [String] {
        switch store {
        case .sqlite(let database): try await database.copyColumns(of: table)
        case .postgres(let database): try await database.copyColumns(of: table)
        }
    }

    static func count(of table: String, in store: Store) async throws -> Int {
        switch store {
        case .sqlite(let database): try await database.copyRowCount(of: table)
        case .postgres(let database): try await database.copyRowCount(of: table)
        }
    }

    /// `table: rows` for each table of `store` that holds rows.
    static func occupiedTables(of store: Store) async throws -> [String] {
        var occupied: [String] = []
        for table in try await tables(of: store) {
            let count = try await count(of: table, in: store)
            if count > 0 { occupied.append("\(count) \(table == "audit_log" ? "audit entries" : "rows in \(table)")") }
        }
        return occupied
    }

    /// Reads tables page by page from one snapshot of `store`.
    struct Reader: Sendable {
        let sqlite: GatehouseDatabase?
        let postgres: PostgresDatabase.CopyReader?

        func pages(of table: String, columns: [String], _ page: ([[Value]]) async throws -> Void) async throws {
            if let postgres {
                try await postgres.rows(of: table, columns: columns, page)
            } else if let sqlite {
                var after: Int64?
                repeat {
                    let next = try await sqlite.copyRows(of: table, columns: columns, after: after, limit: 500)
                    if !next.rows.isEmpty { try await page(next.rows) }
                    after = next.next
                } while after != nil
            }
        }
    }

    static func reading<T: Sendable>(_ store: Store, _ body: (Reader) async throws -> T) async throws -> T {
        switch store {
        case .sqlite(let database): try await body(Reader(sqlite: database, postgres: nil))
        case .postgres(let database): try await database.readingSnapshot { try await body(Reader(sqlite: nil, postgres: $0)) }
        }
    }

    /// Writes tables into `store` in one transaction. On SQLite the rows are gathered first and written at the end
    /// (GRDB's transaction is one synchronous closure).
    struct Writer: Sendable {
        let postgres: PostgresDatabase.CopyWriter?
        let sqlite: GatehouseDatabase?
        let gathered = Gathered()

        final class Gathered: Sendable {
            let tables = Mutex<[(name: String, columns: [String], rows: [[GatehouseDatabase.CopiedValue]])]>([])
        }

        func columns(of table: String) async throws -> [String] {
            if let postgres { return try await postgres.columns(of: table) }
            if let sqlite { return try await sqlite.copyColumns(of: table) }
            return []
        }

        func insert(into table: String, columns: [String], rows: [[Value]]) async throws {
            if let postgres {
                try await postgres.insert(into: table, columns: columns, rows: rows)
            } else {
                let converted = rows
                gathered.tables.withLock { tables in
                    if let last = tables.indices.last, tables[last].name == table {
                        tables[last].rows += converted
                    } else {
                        tables.append((table, columns, converted))
                    }
                }
            }
        }
    }

    static func writing<T: Sendable>(_ store: Store, _ body: (Writer) async throws -> T) async throws -> T {
        switch store {
        case .postgres(let database):
            return try await database.importing { try await body(Writer(postgres: $0, sqlite: nil)) }
        case .sqlite(let database):
            let writer = Writer(postgres: nil, sqlite: database)
            let value = try await body(writer)
            try await database.importCopiedTables(writer.gathered.tables.withLock { $0 })
            return value
        }
    }
}

/// Walks an audit log in order and checks its hash chain as `gatehouse audit verify` does: each entry numbered one
/// after the last, linked to the previous hash, and hashing to what it says.
struct AuditChainCheck: Sendable, Equatable {
    private(set) var count = 0
    private(set) var head: (seq: Int64, hash: String)? = nil
    /// The first entry that breaks the chain, and why.
    private(set) var broken: (seq: Int64, reason: String)? = nil

    static func == (lhs: AuditChainCheck, rhs: AuditChainCheck) -> Bool {
        lhs.count == rhs.count && lhs.head?.seq == rhs.head?.seq && lhs.head?.hash == rhs.head?.hash
            && lhs.broken?.seq == rhs.broken?.seq
    }

    mutating func add(_ rows: [[PostgresDatabase.CopiedValue]], columns: [String]) {
        func index(_ name: String) -> Int? { columns.firstIndex(of: name) }
        guard let seqAt = index("seq"), let atAt = index("at"), let kindAt = index("kind"), let approvalAt = index("approval_id"),
            let actorAt = index("actor"), let detailsAt = index("details"), let prevAt = index("prev_hash"), let hashAt = index("hash")
        else {
            if broken == nil { broken = (0, "the audit log lacks columns") }
            return
        }
        for row in rows {
            count += 1
            guard broken == nil else { continue }
            guard case .integer(let seq) = row[seqAt], case .integer(let at) = row[atAt], case .text(let kind) = row[kindAt],
                case .text(let actor) = row[actorAt], case .text(let details) = row[detailsAt],
                case .text(let prevHash) = row[prevAt], case .text(let hash) = row[hashAt]
            else {
                broken = ((head?.seq ?? 0) + 1, "an entry's values are not of their types")
                continue
            }
            let approvalID: String? = if case .text(let id) = row[approvalAt] { id } else { nil }
            let expectedSeq = (head?.seq ?? 0) + 1
            let expectedPrev = head?.hash ?? String(repeating: "0", count: 64)
            if seq != expectedSeq {
                broken = (seq, "entry #\(expectedSeq) is missing")
            } else if prevHash != expectedPrev {
                broken = (seq, "it does not link to the entry before it")
            } else if AuditEntry.hash(
                seq: seq, at: at, kind: kind, approvalID: approvalID, actor: actor, details: details, prevHash: prevHash) != hash
            {
                broken = (seq, "its hash does not match its contents")
            }
            head = (seq, hash)
        }
    }

    /// `12 entries, head #12 3f…` or why the chain is broken.
    var sentence: String {
        if let broken { return "\(count) entries, BROKEN at #\(broken.seq): \(broken.reason)" }
        guard let head else { return "0 entries" }
        return "\(count) \(count == 1 ? "entry" : "entries"), head #\(head.seq) \(head.hash)"
    }
}
