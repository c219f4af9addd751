import ApprovalCore
import Foundation
import Logging
import PostgresNIO

// MARK: - Policies

/// The policy set on PostgreSQL, read from the database every time: another replica may have changed it.
///
/// Changes are serialised across replicas by a transaction-scoped advisory lock taken before the stored set is read,
/// so each change starts from the set the previous one committed (there may be no row to lock yet), and versions go up
/// by one. A create reads the set without waiting for it (see `PostgresSubmitSnapshot`).
extension PostgresDatabase: PolicyStore {
    static let policyLockKey: Int64 = 0x6761_7465_706f_6c69  // "gatepoli"

    public func policies() async throws -> PolicySet {
        try await read { connection in try await Self.storedPolicies(on: connection, logger: self.logger).set }
    }

    public func everApproved(gate: String, action: String) async throws -> Bool {
        try await read { connection in
            var answer = false
            for try await value in try await connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM approval WHERE gate = \(gate) AND action = \(action) AND status IN ('approved', 'modified'))
                """, logger: self.logger
            ).decode(Bool.self) {
                answer = value
            }
            return answer
        }
    }

    public func changePolicies(
        by actor: String, _ change: @escaping @Sendable (PolicySet) throws -> PolicySet
    ) async throws -> (before: PolicySet, after: PolicySet) {
        let now = clock.now
        let logger = self.logger
        let (before, after) = try await write { connection -> (PolicySet, PolicySet) in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.policyLockKey))", logger: logger)
            let current = try await Self.storedPolicies(on: connection, logger: logger)
            let after = try change(current.set)
            guard after != current.set else { return (current.set, after) }
            try await connection.query(
                """
                INSERT INTO policy_set (id, definition, version, updated_at, updated_by)
                VALUES (1, \(PolicyCoding.encode(after)), \(current.version + 1), \(now.ms), \(actor))
                ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, version = excluded.version,
                    updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, logger: logger)
            try await PostgresAuditLog.append(
                [AuditEvent.policiesChanged(before: current.set, after: after, by: actor)], at: now, on: connection, logger: logger)
            return (current.set, after)
        }
        return (before, after)
    }

    /// The stored set and its version (0 and the empty set: none stored).
    static func storedPolicies(on connection: PostgresConnection, logger: Logger) async throws -> (version: Int64, set: PolicySet) {
        var stored: (version: Int64, definition: String)?
        for try await row in try await connection.query(
            "SELECT version, definition FROM policy_set WHERE id = 1", logger: logger
        ).decode((Int64, String).self) {
            stored = row
        }
        guard let stored else { return (0, .empty) }
        return (stored.version, try PolicyCoding.decodeSet(stored.definition))
    }

    /// Every approval filed at or after `since` that left `pending`, oldest first (for `policies suggest`).
    public func decidedApprovals(since: Date) async throws -> [Approval] {
        try await read { connection in
            try await PostgresApprovalRow.fetchAll(
                """
                SELECT \(unescaped: PostgresApprovalRow.selectColumns) FROM approval
                WHERE created_at >= \(since.ms) AND status <> 'pending' ORDER BY seq
                """, on: connection, logger: self.logger)
        }
    }
}

// MARK: - Break-glass

/// A break-glass row, written by the commit of the decision it made.
extension NewBreakGlassUse {
    func insert(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO break_glass (approval_id, by_actor, by_name, at, reason, over_limit)
            VALUES (\(approvalID.rawValue), \(by), \(byName), \(at.ms), \(reason), \(Int64(overLimit ? 1 : 0)))
            """, logger: logger)
    }
}

/// Break-glass uses on PostgreSQL. A review is a compare-and-set on `reviewed_at IS NULL`: of two replicas reviewing
/// the same use, the second waits for the first's row lock, then finds it reviewed and writes nothing.
extension PostgresDatabase: BreakGlassPosts {
    public func breakGlassUses(unreviewedOnly: Bool) async throws -> [BreakGlassRecord] {
        try await read { connection in
            try await Self.breakGlassRecords(
                unreviewedOnly ? "WHERE b.reviewed_at IS NULL" : "", on: connection, logger: self.logger)
        }
    }

    public func breakGlassUse(_ id: ApprovalID) async throws -> BreakGlassRecord? {
        try await read { connection in
            try await Self.breakGlassRecords("WHERE b.approval_id = \(id.rawValue)", on: connection, logger: self.logger).first
        }
    }

    public func unreviewedBreakGlassCount() async throws -> Int {
        try await read { connection in
            try await Self.count("SELECT COUNT(*) FROM break_glass WHERE reviewed_at IS NULL", on: connection, logger: self.logger)
        }
    }

    public func breakGlassCount(by actor: String, since: Date) async throws -> Int {
        try await read { connection in
            try await Self.count(
                "SELECT COUNT(*) FROM break_glass WHERE by_actor = \(actor) AND at >= \(since.ms)", on: connection, logger: self.logger)
        }
    }

    private static func count(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count: Int64 = 0
        for try await value in try await connection.query(query, logger: logger).decode(Int64.self) { count = value }
        return Int(count)
    }

    /// Break-glass uses with their request's action, newest first, filtered by `condition` on `b` (break_glass).
    private static func breakGlassRecords(
        _ condition: PostgresQuery, on connection: PostgresConnection, logger: Logger
    ) async throws -> [BreakGlassRecord] {
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT b.approval_id, a.action, b.by_actor, b.by_name, b.at, b.reason, b.over_limit, b.reviewed_by,
                       b.reviewed_at, b.reminded_at
                FROM break_glass b JOIN approval a ON a.id = b.approval_id \(condition.sql) ORDER BY b.at DESC
                """, binds: condition.binds)
        var records: [BreakGlassRecord] = []
        for try await row in try await connection.query(query, logger: logger).decode(
            (String, String, String, String?, Int64, String, Int64, String?, Int64?, Int64?).self)
        {
            let (approvalID, action, by, byName, at, reason, overLimit, reviewedBy, reviewedAt, remindedAt) = row
            records.append(
                BreakGlassRecord(
                    approvalID: ApprovalID(rawValue: approvalID), action: action, by: by, byName: byName,
                    at: Date(millisecondsSince1970: at), reason: reason, overLimit: overLimit != 0, reviewedBy: reviewedBy,
                    reviewedAt: reviewedAt.map(Date.init(millisecondsSince1970:)),
                    remindedAt: remindedAt.map(Date.init(millisecondsSince1970:))))
        }
        return records
    }

    public func markBreakGlassReviewed(
        _ id: ApprovalID, by actor: String, at now: Date, audit: AuditEvent, outbox: [NewOutboxItem]
    ) async throws -> Bool {
        let logger = self.logger
        let reviewed = try await write { connection -> Bool in
            var updated = 0
            for try await _ in try await connection.query(
                """
                UPDATE break_glass SET reviewed_by = \(actor), reviewed_at = \(now.ms)
                WHERE approval_id = \(id.rawValue) AND reviewed_at IS NULL RETURNING approval_id
                """, logger: logger)
            {
                updated += 1
            }
            guard updated == 1 else { return false }
            try await Self.enqueue(outbox, at: now, on: connection, logger: logger)
            try await PostgresAuditLog.append([audit], at: now, on: connection, logger: logger)
            return true
        }
        if reviewed, !outbox.isEmpty { outboxEnqueued.signal() }
        return reviewed
    }

    public func markBreakGlassReminded(_ ids: [ApprovalID], at now: Date, outbox: [NewOutboxItem]) async throws {
        guard !ids.isEmpty else { return }
        let logger = self.logger
        // Every replica looks for due reminders: the first to mark them sends the reminder, and another replica's
        // pass at the same time (waiting on the rows' locks, then reading them again) finds them reminded within the
        // day and sends nothing.
        let dayAgo = now.ms - 86_400_000
        let sent = try await write { connection -> Bool in
            var marked = 0
            for try await _ in try await connection.query(
                """
                UPDATE break_glass SET reminded_at = \(now.ms)
                WHERE approval_id = ANY(\(ids.map(\.rawValue))::text[]) AND (reminded_at IS NULL OR reminded_at <= \(dayAgo))
                RETURNING approval_id
                """, logger: logger
            ).decode(String.self) {
                marked += 1
            }
            guard marked > 0 else { return false }
            try await Self.enqueue(outbox, at: now, on: connection, logger: logger)
            return true
        }
        if sent, !outbox.isEmpty { outboxEnqueued.signal() }
    }

    /// Where the loud post about a break-glass use went, so that a review can update it.
    public func recordBreakGlassPost(_ id: ApprovalID, channel: String, ts: String) async throws {
        let logger = self.logger
        try await write { connection in
            try await connection.query(
                "UPDATE break_glass SET post_channel = \(channel), post_ts = \(ts) WHERE approval_id = \(id.rawValue)", logger: logger)
        }
    }

    public func breakGlassPost(_ id: ApprovalID) async throws -> (channel: String, ts: String)? {
        try await read { connection in
            var post: (channel: String, ts: String)?
            for try await (channel, ts) in try await connection.query(
                "SELECT post_channel, post_ts FROM break_glass WHERE approval_id = \(id.rawValue) AND post_ts IS NOT NULL",
                logger: self.logger
            ).decode((String, String).self) {
                post = (channel, ts)
            }
            return post
        }
    }
}
