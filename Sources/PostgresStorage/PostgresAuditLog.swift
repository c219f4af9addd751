import ApprovalCore
import Foundation
import Logging
import PostgresNIO

/// The hash-chained, append-only audit log on PostgreSQL: the same entries and hashes as on SQLite.
enum PostgresAuditLog {
    static let genesis = String(repeating: "0", count: 64)

    /// Appends `events` in order, in the caller's transaction. Takes the chain's advisory lock first: it is held
    /// until the transaction ends, so each transaction extends the chain from the head the previous one committed,
    /// whichever replica wrote it. Call it after the transaction's other writes.
    static func append(_ events: [AuditEvent], at now: Date, on connection: PostgresConnection, logger: Logger) async throws {
        guard !events.isEmpty else { return }
        try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresDatabase.auditLockKey))", logger: logger)
        var head: (seq: Int64, hash: String) = (0, genesis)
        for try await (seq, hash) in try await connection.query(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", logger: logger
        ).decode((Int64, String).self) {
            head = (seq, hash)
        }
        let at = now.millisecondsSince1970
        for event in events {
            let seq = head.seq + 1
            let kind = event.kind.rawValue
            let approvalID = event.approvalID?.rawValue
            let details = CanonicalJSON.serialize(event.details)
            let hash = AuditEntry.hash(
                seq: seq, at: at, kind: kind, approvalID: approvalID, actor: event.actor, details: details, prevHash: head.hash)
            try await connection.query(
                """
                INSERT INTO audit_log (seq, at, kind, approval_id, actor, details, prev_hash, hash)
                VALUES (\(seq), \(at), \(kind), \(approvalID), \(event.actor), \(details), \(head.hash), \(hash))
                """, logger: logger)
            head = (seq, hash)
        }
    }
}

extension PostgresDatabase {
    /// Adds outbox items in the caller's transaction, and announces them to every replica on commit.
    static func enqueue(_ items: [NewOutboxItem], at now: Date, on connection: PostgresConnection, logger: Logger) async throws {
        guard !items.isEmpty else { return }
        for item in items {
            let due = max(item.notBefore ?? now, now).millisecondsSince1970
            try await connection.query(
                """
                INSERT INTO outbox (kind, approval_id, ordering_key, payload, created_at, next_attempt_at)
                VALUES (\(item.kind), \(item.approvalID?.rawValue), \(item.orderingKey), \(CanonicalJSON.serialize(item.payload)),
                        \(now.millisecondsSince1970), \(due))
                """, logger: logger)
        }
        try await connection.query("SELECT pg_notify(\(PostgresDatabase.outboxChannel), '')", logger: logger)
    }

    /// The notification channel that says outbox items were added.
    static let outboxChannel = "gatehouse_outbox"
    /// The notification channel that names an approval that changed (its id as the payload).
    static let approvalChannel = "gatehouse_approval"
}
