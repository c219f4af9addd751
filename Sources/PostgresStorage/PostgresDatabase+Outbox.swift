import ApprovalCore
import Foundation
import PostgresNIO

/// The outbox shared by every replica: each item is delivered by one replica at a time, and by another when the one
/// that claimed it dies.
///
/// A claim is a lease: `claimed_by` names the replica and `claimed_until` when the claim lapses
/// (`PostgresDatabase.outboxLease` after the claim). An item is claimable when it is unfinished, due, and unclaimed or
/// its lease has lapsed (a claim without a lease, as copied from SQLite, has lapsed); claims take rows `FOR UPDATE SKIP LOCKED` in one statement, so replicas claiming together
/// never take the same item, and never wait on each other. An unfinished item blocks the later items of its ordering
/// key whether it is claimed or not, so a key's items are still delivered one at a time, in order, across replicas.
///
/// After a lease lapses, the replica that held it may still finish its attempt late. What it may then do:
/// - complete: accepted while the item is unfinished, whoever claims it now (the delivery did happen; the item is
///   not delivered again); once the item is finished, a completion changes nothing and appends no audit entry;
/// - reschedule and fail: only by the replica that holds the claim (`claimed_by`); a replica whose claim was taken
///   over changes nothing, so it cannot clear the new claim, delay the item, or give it up while another delivers it.
extension PostgresDatabase: OutboxStore {
    /// Claims items that are due, oldest first, skipping any whose ordering key has an earlier unfinished item, and
    /// any claimed by a replica whose lease has not lapsed.
    ///
    /// One statement, its own transaction: the candidates are locked with `FOR UPDATE SKIP LOCKED` (rows another
    /// replica is claiming or finishing right now are skipped) and rechecked once locked, so each item is claimed once
    /// per lease.
    public func claimDueOutboxItems(now: Date, limit: Int = 32, kinds: [String]? = nil) async throws -> [OutboxItem] {
        let nowMS = now.ms
        let leaseEnd = now.addingTimeInterval(Self.outboxLease).ms
        var bindings = PostgresBindings()
        bindings.append(replicaID)
        bindings.append(leaseEnd)
        bindings.append(nowMS)
        var kindFilter = ""
        if let kinds {
            bindings.append(kinds)
            kindFilter = " AND o.kind = ANY($4)"
        }
        bindings.append(Int64(limit))
        let limitMark = kinds == nil ? "$4" : "$5"
        let sql = """
            UPDATE outbox SET claimed = 1, claimed_by = $1, claimed_until = $2, attempts = attempts + 1
            WHERE id IN (
                SELECT o.id FROM outbox o
                WHERE o.done_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $3
                  AND (o.claimed = 0 OR COALESCE(o.claimed_until, 0) <= $3)\(kindFilter)
                  AND (o.ordering_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM outbox e WHERE e.ordering_key = o.ordering_key AND e.id < o.id
                      AND e.done_at IS NULL AND e.failed_at IS NULL))
                ORDER BY o.next_attempt_at, o.id
                LIMIT \(limitMark)
                FOR UPDATE OF o SKIP LOCKED)
            RETURNING \(Self.outboxColumns)
            """
        let items = try await read { connection in
            try await Self.outboxItems(
                connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger))
        }
        // Counted as a write only when it claimed something, as on SQLite, where a claim that finds nothing writes nothing.
        if !items.isEmpty { commits.increment() }
        return items.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    /// The item was delivered. Accepted from any replica while the item is unfinished (see the type's notes); the
    /// audit entry is appended only when this call finished it.
    public func completeOutboxItem(_ id: Int64, at now: Date, audit: AuditEvent? = nil) async throws {
        try await write { connection in
            let finished = try await connection.query(
                """
                UPDATE outbox SET claimed = 0, claimed_by = NULL, claimed_until = NULL, done_at = \(now.ms), last_error = NULL
                WHERE id = \(id) AND done_at IS NULL AND failed_at IS NULL
                RETURNING id
                """, logger: self.logger
            ).allElements().count == 1
            if finished, let audit {
                try await PostgresAuditLog.append([audit], at: now, on: connection, logger: self.logger)
            }
        }
    }

    /// The attempt failed; try again at `retryAt`. Only the replica that holds the claim reschedules it: one whose lease
    /// was taken over by another replica changes nothing.
    public func rescheduleOutboxItem(_ id: Int64, error: String, retryAt: Date) async throws {
        try await write { connection in
            _ = try await connection.query(
                """
                UPDATE outbox SET claimed = 0, claimed_by = NULL, claimed_until = NULL, next_attempt_at = \(retryAt.ms),
                    last_error = \(String(error.prefix(500)))
                WHERE id = \(id) AND claimed_by = \(self.replicaID) AND done_at IS NULL AND failed_at IS NULL
                """, logger: self.logger)
        }
    }

    /// The item will never succeed; it stays for inspection. Only the replica that holds the claim gives it up (one
    /// whose lease was taken over changes nothing), and the audit entry is appended only when this call gave it up.
    public func failOutboxItem(_ id: Int64, error: String, at now: Date, audit: AuditEvent? = nil) async throws {
        try await write { connection in
            let failed = try await connection.query(
                """
                UPDATE outbox SET claimed = 0, claimed_by = NULL, claimed_until = NULL, failed_at = \(now.ms),
                    last_error = \(String(error.prefix(500)))
                WHERE id = \(id) AND claimed_by = \(self.replicaID) AND done_at IS NULL AND failed_at IS NULL
                RETURNING id
                """, logger: self.logger
            ).allElements().count == 1
            if failed, let audit {
                try await PostgresAuditLog.append([audit], at: now, on: connection, logger: self.logger)
            }
        }
    }

    /// Adds items outside any approval change (follow-up work planned by a delivery), and wakes every replica's worker.
    public func enqueueOutboxItems(_ items: [NewOutboxItem]) async throws {
        guard !items.isEmpty else { return }
        let now = clock.now
        try await write { connection in
            try await Self.enqueue(items, at: now, on: connection, logger: self.logger)
        }
        outboxEnqueued.signal()
    }

    /// Makes this replica's claims available again (at `now`). Only its own: other replicas may be delivering theirs
    /// right now. A new process has a new `replicaID` and so no claims at start; the claims of a process that died
    /// lapse with their lease instead.
    public func releaseOutboxClaims(now: Date) async throws {
        try await write { connection in
            _ = try await connection.query(
                """
                UPDATE outbox SET claimed = 0, claimed_by = NULL, claimed_until = NULL, next_attempt_at = \(now.ms)
                WHERE claimed_by = \(self.replicaID) AND done_at IS NULL AND failed_at IS NULL
                """, logger: self.logger)
        }
    }

    /// When the next unfinished item is due: an unclaimed one at its `next_attempt_at`, a claimed one when its lease
    /// lapses (and it may be claimed again), whichever replica holds it. Items waiting behind an earlier one with the
    /// same ordering key are not due on their own.
    public func nextOutboxAttempt() async throws -> Date? {
        try await read { connection in
            var next: Int64?
            for try await value in try await connection.query(
                """
                SELECT MIN(CASE WHEN o.claimed = 0 THEN o.next_attempt_at
                                ELSE GREATEST(o.next_attempt_at, COALESCE(o.claimed_until, 0)) END)
                FROM outbox o
                WHERE o.done_at IS NULL AND o.failed_at IS NULL
                  AND (o.ordering_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM outbox e WHERE e.ordering_key = o.ordering_key AND e.id < o.id
                      AND e.done_at IS NULL AND e.failed_at IS NULL))
                """, logger: self.logger
            ).decode(Int64?.self) {
                next = value
            }
            return next.map(Date.init(millisecondsSince1970:))
        }
    }

    /// Unfinished items, by kind.
    public func outboxBacklog() async throws -> [String: Int] {
        try await read { connection in
            var backlog: [String: Int] = [:]
            for try await (kind, count) in try await connection.query(
                "SELECT kind, COUNT(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL GROUP BY kind",
                logger: self.logger
            ).decode((String, Int64).self) {
                backlog[kind] = Int(count)
            }
            return backlog
        }
    }

    /// Every item, for inspection and tests, in the order they were added.
    public func outboxItems(approvalID: ApprovalID? = nil) async throws -> [(item: OutboxItem, doneAt: Date?, failedAt: Date?)] {
        try await read { connection in
            let rows =
                if let approvalID {
                    try await connection.query(
                        """
                        SELECT \(unescaped: Self.outboxColumns), done_at, failed_at FROM outbox
                        WHERE approval_id = \(approvalID.rawValue) ORDER BY id
                        """, logger: self.logger)
                } else {
                    try await connection.query(
                        "SELECT \(unescaped: Self.outboxColumns), done_at, failed_at FROM outbox ORDER BY id", logger: self.logger)
                }
            var items: [(item: OutboxItem, doneAt: Date?, failedAt: Date?)] = []
            for try await row in rows {
                let cells = row.makeRandomAccess()
                items.append(
                    (try Self.outboxItem(row), try cells["done_at"].decode(Int64?.self).map(Date.init(millisecondsSince1970:)),
                     try cells["failed_at"].decode(Int64?.self).map(Date.init(millisecondsSince1970:))))
            }
            return items
        }
    }

    static let outboxColumns = "id, kind, approval_id, ordering_key, payload, attempts, created_at, next_attempt_at, last_error"

    /// The items of rows that start with `outboxColumns`.
    static func outboxItems(_ rows: PostgresRowSequence) async throws -> [OutboxItem] {
        var items: [OutboxItem] = []
        for try await row in rows { items.append(try outboxItem(row)) }
        return items
    }

    static func outboxItem(_ row: PostgresRow) throws -> OutboxItem {
        let (id, kind, approvalID, orderingKey, payload, attempts, createdAt, nextAttemptAt, lastError) = try row.decode(
            (Int64, String, String?, String?, String, Int64, Int64, Int64, String?).self)
        return OutboxItem(
            id: id, kind: kind, approvalID: approvalID.map(ApprovalID.init(rawValue:)), orderingKey: orderingKey,
            payload: try JSONValue.parse(payload), attempts: Int(attempts), createdAt: Date(millisecondsSince1970: createdAt),
            nextAttemptAt: Date(millisecondsSince1970: nextAttemptAt), lastError: lastError)
    }
}
