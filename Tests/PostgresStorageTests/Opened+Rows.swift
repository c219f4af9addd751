import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresNIO
import Storage
import Testing

@testable import PostgresStorage

/// Rows the suites of the outbox, Slack and contact ports need beside their own (a key, an approval), and what the
/// audit log holds, written and read on either engine without the ports other suites test.
extension Opened {
    /// A new `request` key named `name`: its identity.
    func addKey(_ name: String, at now: Date) async throws -> Int64 {
        switch raw {
        case .sqlite(let database):
            _ = try await database.createKey(name: name, scope: .request)
            return try #require(try await database.listKeys().first { $0.name == name }?.id)
        case .postgres(let database):
            let digest = SHA256Hex.of(name)
            return try await database.write { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO api_key (name, scope, key_sha256, created_at) VALUES (\(name), 'request', \(digest), \(now.ms))
                    RETURNING id
                    """, logger: database.logger
                ).collect()
                return try rows[0].decode(Int64.self)
            }
        }
    }

    /// A new pending approval: its id.
    func addApproval(at now: Date) async throws -> ApprovalID {
        let approval = ApprovalRequest(action: "Job", payload: .object(["n": .number(1)]), requester: "agent:test", expiresIn: 3600)
            .approval(id: .random(), ownerKey: "agent", at: now)
        switch raw {
        case .sqlite(let database):
            _ = try await database.insert(idempotency: nil) { _ in PlannedChange(approval.submitted()) }
        case .postgres(let database):
            try await database.write { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO approval (id, status, action, payload, payload_sha256, risk, gate, created_at, expires_at)
                    VALUES (\(approval.id.rawValue), 'pending', 'Job', '{"n":1}', \(approval.payloadSHA256), 'low', 'default',
                            \(now.ms), \(approval.expiresAt.ms))
                    """, logger: database.logger)
            }
        }
        return approval.id
    }

    /// The audit log's entries, oldest first, as kind and actor.
    func auditTrail() async throws -> [(kind: String, actor: String)] {
        switch raw {
        case .sqlite(let database):
            return try await database.auditEntries().map { ($0.kind, $0.actor) }
        case .postgres(let database):
            return try await database.read { connection in
                try await connection.query("SELECT kind, actor FROM audit_log ORDER BY seq", logger: database.logger)
                    .collect().map { try $0.decode((String, String).self) }.map { (kind: $0.0, actor: $0.1) }
            }
        }
    }

    /// Every outbox item with when it was finished.
    func outboxRows() async throws -> [(item: OutboxItem, doneAt: Date?, failedAt: Date?)] {
        switch raw {
        case .sqlite(let database): try await database.outboxItems()
        case .postgres(let database): try await database.outboxItems()
        }
    }
}
