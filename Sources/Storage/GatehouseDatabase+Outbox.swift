import ApprovalCore
import Foundation
import GRDB

extension GatehouseDatabase: OutboxStore {
    /// How long a claimed item is left alone before it may be tried again (a crash mid-delivery).
    static let claimLease: TimeInterval = 300

    /// Claims items that are due, oldest first, skipping any whose ordering key has an earlier unfinished item.
    public func claimDueOutboxItems(now: Date, limit: Int = 32, kinds: [String]? = nil) async throws -> [OutboxItem] {
        let nowMS = now.millisecondsSince1970
        let leaseEnd = now.addingTimeInterval(Self.claimLease).millisecondsSince1970
        // Look first without a write transaction: most wake-ups find nothing, and a write costs an fsync.
        let candidates: [OutboxItem] = try await writer.read { db in
            var kindFilter = ""
            var arguments: StatementArguments = [nowMS]
            if let kinds {
                kindFilter = " AND o.kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))"
                arguments += StatementArguments(kinds)
            }
            arguments += [limit]
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT o.* FROM outbox o
                    WHERE o.done_at IS NULL AND o.failed_at IS NULL AND o.claimed = 0 AND o.next_attempt_at <= ?\(kindFilter)
                      AND (o.ordering_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM outbox e WHERE e.ordering_key = o.ordering_key AND e.id < o.id
                          AND e.done_at IS NULL AND e.failed_at IS NULL))
                    ORDER BY o.next_attempt_at, o.id LIMIT ?
                    """,
                arguments: arguments
            ).map(Self.outboxItem)
        }
        if candidates.isEmpty { return [] }
        return try await write { db in
            var items: [OutboxItem] = []
            for var item in candidates {
                item.attempts += 1
                try db.execute(
                    sql: "UPDATE outbox SET claimed = 1, attempts = ?, next_attempt_at = ? WHERE id = ? AND claimed = 0",
                    arguments: [item.attempts, leaseEnd, item.id]
                )
                if db.changesCount == 1 { items.append(item) }
            }
            return items
        }
    }

    /// The item was delivered.
    public func completeOutboxItem(_ id: Int64, at now: Date, audit: AuditEvent? = nil) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET claimed = 0, done_at = ?, last_error = NULL WHERE id = ?",
                           arguments: [now.millisecondsSince1970, id])
            if let audit { try AuditLog.append(audit, at: now, in: db) }
        }
    }

    /// The attempt failed; try again at `retryAt`.
    public func rescheduleOutboxItem(_ id: Int64, error: String, retryAt: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET claimed = 0, next_attempt_at = ?, last_error = ? WHERE id = ?",
                           arguments: [retryAt.millisecondsSince1970, String(error.prefix(500)), id])
        }
    }

    /// The item will never succeed (a permanent error, or retried for too long); it stays for inspection.
    public func failOutboxItem(_ id: Int64, error: String, at now: Date, audit: AuditEvent? = nil) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET claimed = 0, failed_at = ?, last_error = ? WHERE id = ?",
                           arguments: [now.millisecondsSince1970, String(error.prefix(500)), id])
            if let audit { try AuditLog.append(audit, at: now, in: db) }
        }
    }

    /// Adds items outside any approval change (follow-up work planned by a delivery).
    public func enqueueOutboxItems(_ items: [NewOutboxItem]) async throws {
        let now = clock.now
        try await write { db in
            for item in items { try Self.enqueue(item, at: now, in: db) }
        }
        if !items.isEmpty { outboxEnqueued.signal() }
    }

    /// Makes items claimed by a process that is gone available again; called once at start.
    public func releaseOutboxClaims(now: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET claimed = 0, next_attempt_at = ? WHERE claimed = 1",
                           arguments: [now.millisecondsSince1970])
        }
    }

    /// When the next unfinished, unclaimed item is due.
    public func nextOutboxAttempt() async throws -> Date? {
        try await writer.read { db in
            // Items waiting behind an earlier one with the same ordering key are not due on their own.
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(o.next_attempt_at) FROM outbox o
                    WHERE o.done_at IS NULL AND o.failed_at IS NULL AND o.claimed = 0
                      AND (o.ordering_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM outbox e WHERE e.ordering_key = o.ordering_key AND e.id < o.id
                          AND e.done_at IS NULL AND e.failed_at IS NULL))
                    """
            ).map(Date.init(millisecondsSince1970:))
        }
    }

    /// Unfinished items, by kind.
    public func outboxBacklog() async throws -> [String: Int] {
        try await writer.read { db in
            var backlog: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT kind, COUNT(*) AS n FROM outbox WHERE done_at IS NULL AND failed_at IS NULL GROUP BY kind"
            ) {
                backlog[row["kind"]] = row["n"]
            }
            return backlog
        }
    }

    /// Every item, for inspection and tests.
    public func outboxItems(approvalID: ApprovalID? = nil) async throws -> [(item: OutboxItem, doneAt: Date?, failedAt: Date?)] {
        try await writer.read { db in
            let rows: [Row]
            if let approvalID {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE approval_id = ? ORDER BY id", arguments: [approvalID.rawValue])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id")
            }
            return try rows.map { row in
                (try Self.outboxItem(row), (row["done_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
                 (row["failed_at"] as Int64?).map(Date.init(millisecondsSince1970:)))
            }
        }
    }

    static func outboxItem(_ row: Row) throws -> OutboxItem {
        OutboxItem(
            id: row["id"], kind: row["kind"], approvalID: (row["approval_id"] as String?).map(ApprovalID.init(rawValue:)),
            orderingKey: row["ordering_key"], payload: try JSONValue.parse(row["payload"] as String),
            attempts: row["attempts"], createdAt: Date(millisecondsSince1970: row["created_at"]),
            nextAttemptAt: Date(millisecondsSince1970: row["next_attempt_at"]), lastError: row["last_error"]
        )
    }
}
