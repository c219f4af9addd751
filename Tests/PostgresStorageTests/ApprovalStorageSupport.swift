import ApprovalCore
import DomainTestSupport
import Foundation
import GRDB
import PostgresNIO
import Testing

@testable import PostgresStorage
@testable import Storage

/// The ports of approvals, their audit log, policies, break-glass and function calls, as one store.
typealias ApprovalStorePorts = ApprovalRepository & AuditArchive & PolicyStore & BreakGlassPosts & FunctionCallIndex

/// What the approval storage suites share: requests to file, and SQL behind the store's back (as a test may, to set up
/// a row another port writes, or to tamper with the audit log).
enum ApprovalStorageSupport {
    static func sample(_ n: Int = 0, at now: Date, expiresIn: Int = 3600, gate: String = "default") -> Approval {
        ApprovalRequest(
            action: "Job \(n)", payload: .object(["n": .number(Double(n))]), gate: gate, requester: "agent:test",
            expiresIn: expiresIn
        ).approval(id: .random(at: now), ownerKey: "agent", at: now)
    }

    /// The transition with the outbox rows the service plans for it by default: a callback delivery when decided.
    static func planned(_ transition: ApprovalTransition) -> PlannedChange {
        PlannedChange(transition, outbox: CallbackOutboxPlanner().outboxItems(for: transition))
    }

    /// Stores an approval built beforehand, whatever the policies and chains.
    @discardableResult
    static func insert(
        _ approval: Approval, into store: any ApprovalRepository, idempotency: IdempotencyKey? = nil
    ) async throws -> InsertResult {
        try await store.insert(idempotency: idempotency) { _ in planned(approval.submitted()) }
    }

    static func commit(_ transition: ApprovalTransition, to store: any ApprovalRepository) async throws -> Bool {
        try await store.commit(planned(transition))
    }

    /// Runs statements in one transaction on either engine.
    static func execute(_ statements: [String], on raw: Opened<any ApprovalStorePorts>.Raw) async throws {
        switch raw {
        case .sqlite(let database):
            try await database.writer.write { db in
                for statement in statements { try db.execute(sql: statement) }
            }
        case .postgres(let database):
            try await database.write { connection in
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: database.logger)
                }
            }
        }
    }

    /// The rows of a query whose columns are all text (cast them), on either engine.
    static func texts(_ sql: String, on raw: Opened<any ApprovalStorePorts>.Raw) async throws -> [[String?]] {
        switch raw {
        case .sqlite(let database):
            return try await database.writer.read { db in
                try Row.fetchAll(db, sql: sql).map { row in (0..<row.count).map { row[$0] as String? } }
            }
        case .postgres(let database):
            return try await database.read { connection in
                var rows: [[String?]] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: database.logger) {
                    rows.append(try row.map { try $0.decode(String?.self) })
                }
                return rows
            }
        }
    }

    /// How many rows `table` holds.
    static func count(_ table: String, on raw: Opened<any ApprovalStorePorts>.Raw) async throws -> Int {
        let value = try await texts("SELECT CAST(COUNT(*) AS TEXT) FROM \(table)", on: raw).first?.first ?? nil
        return Int(value ?? "") ?? -1
    }

    /// An API key row with identity `id`, for approvals that name their key (`owner_key_id` references it).
    static func addKey(_ id: Int64, on raw: Opened<any ApprovalStorePorts>.Raw) async throws {
        let digest = String(repeating: String(id % 10), count: 64)
        try await execute(
            ["INSERT INTO api_key (id, name, scope, key_sha256, created_at) VALUES (\(id), 'key\(id)', 'request', '\(digest)', 0)"], on: raw)
    }

    /// A chain row, as an admin would store it.
    static func storeChain(_ chain: EscalationChain, on raw: Opened<any ApprovalStorePorts>.Raw) async throws {
        let definition = ChainCoding.encode(chain).replacingOccurrences(of: "'", with: "''")
        try await execute(
            ["INSERT INTO chain (name, definition, updated_at, updated_by) VALUES ('\(chain.name)', '\(definition)', 0, 'U0ADMIN')"],
            on: raw)
    }

    /// A pending quorum request: two people, one of them a lead and one a director (U3 is both).
    static let quorum = AppliedPolicy(
        name: "big-spend", then: .require(approvals: 2, roles: ["lead", "director"], chain: nil),
        roles: [Role(name: "lead", users: ["U1", "U3"]), Role(name: "director", users: ["U2", "U3"], groups: ["S9"])])
}
