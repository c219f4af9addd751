import ApprovalCore
import Foundation
import Logging
import PostgresNIO

// MARK: - Approvals

/// Approvals on PostgreSQL, as `GatehouseDatabase` stores them on SQLite, with several replicas writing at once.
///
/// What makes it safe across replicas:
/// - A create reads the policies, chains and approvals it is built from in its own transaction, by one statement
///   (`PostgresSubmitSnapshot`): nothing is remembered from one create to the next.
/// - Two creates with one idempotency key are serialised by a transaction-scoped advisory lock on the key, so the
///   second sees the first's row once it commits, and answers with it, rather than failing on the primary key.
/// - A commit is a compare-and-set: its `UPDATE … WHERE revision = … AND …` matches the row `before` was read from.
///   A concurrent commit of the same approval waits for the first's row lock, then finds the row moved on (READ
///   COMMITTED re-reads it) and changes nothing: exactly one of them returns `true`.
/// - One live vote per person is the database's (`vote_live`), and a decision is final (`approval_final`).
/// - Audit entries are appended last, under the chain's advisory lock (`PostgresAuditLog`), so each transaction holds
///   at most one approval row lock before it, and locks are always taken in the same order.
extension PostgresDatabase: ApprovalRepository {
    /// Two creates with the same idempotency key take the same lock: `pg_advisory_xact_lock(class, hashtext(key))`
    /// (the two-key form, apart from the single-key locks of migrations and the audit chain). Two keys whose hashes
    /// collide only wait for each other.
    static let idempotencyLockClass: Int32 = 0x6964_656d  // "idem"

    public func insert(
        idempotency: IdempotencyKey?, build: @escaping @Sendable (any SubmitSnapshot) -> PlannedChange
    ) async throws -> InsertResult {
        let now = clock.now
        let logger = self.logger
        let (result, enqueued) = try await write { connection -> (InsertResult, Bool) in
            if let idempotency {
                try await connection.query(
                    """
                    SELECT pg_advisory_xact_lock(\(Self.idempotencyLockClass),
                                                 hashtext(\(idempotency.scope) || chr(10) || \(idempotency.key)))
                    """, logger: logger)
                let rows = try await connection.query(
                    """
                    SELECT request_digest, approval_id FROM idempotency_key
                    WHERE scope = \(idempotency.scope) AND key = \(idempotency.key)
                    """, logger: logger)
                var used: (digest: String, approvalID: String)?
                for try await row in rows.decode((String, String).self) { used = row }
                if let used {
                    guard used.digest == idempotency.requestDigest else { throw ApprovalError.idempotencyConflict }
                    guard let earlier = try await PostgresApprovalRow.fetch(ApprovalID(rawValue: used.approvalID), on: connection, logger: logger)
                    else { throw StorageError.corrupt("idempotency key") }
                    return (.existing(earlier), false)
                }
            }
            let change = try await PostgresSubmitSnapshot.build(build, on: connection, logger: logger)
            let approval = change.transition.after
            try await PostgresApprovalRow.insert(approval, on: connection, logger: logger)
            if let idempotency {
                try await connection.query(
                    """
                    INSERT INTO idempotency_key (scope, key, request_digest, approval_id, created_at)
                    VALUES (\(idempotency.scope), \(idempotency.key), \(idempotency.requestDigest), \(approval.id.rawValue), \(now.ms))
                    """, logger: logger)
            }
            try await Self.recordApprovalChange(change, at: now, on: connection, logger: logger)
            return (.created(change.transition), !change.outbox.isEmpty)
        }
        if enqueued { outboxEnqueued.signal() }
        return result
    }

    /// What every change of an approval writes besides its row, in its transaction: outbox rows, the notification
    /// that wakes other replicas' long-polls on it, and (last, see `PostgresAuditLog`) its audit entries.
    static func recordApprovalChange(_ change: PlannedChange, at now: Date, on connection: PostgresConnection, logger: Logger) async throws {
        try await enqueue(change.outbox, at: now, on: connection, logger: logger)
        try await connection.query("SELECT pg_notify(\(approvalChannel), \(change.transition.after.id.rawValue))", logger: logger)
        try await PostgresAuditLog.append(change.transition.auditEvents, at: now, on: connection, logger: logger)
    }

    public func approval(_ id: ApprovalID) async throws -> Approval? {
        try await read { connection in try await PostgresApprovalRow.fetch(id, on: connection, logger: self.logger) }
    }

    public func commit(_ change: PlannedChange) async throws -> Bool {
        let transition = change.transition
        guard let before = transition.before else { return false }
        let after = transition.after
        let now = clock.now
        let logger = self.logger
        let newVotes = after.votes.count > before.votes.count ? Array(after.votes[before.votes.count...]) : []
        let withdrawn = zip(before.votes, after.votes).filter { $0.withdrawnAt == nil && $1.withdrawnAt != nil }.map(\.1)
        let decision = after.decision.map(DecisionCoding.encode)
        let amended = after.amendedPayload.map(CanonicalJSON.serialize)
        let breakGlass = before.status == .pending ? NewBreakGlassUse(after, effects: transition.effects) : nil
        let committed = try await write { connection -> Bool in
            // Compare-and-set, column for column as on SQLite: every commit moves `revision` on, and a decision never
            // changes again, so matching these is matching the row `before` was read from.
            let rows = try await connection.query(
                """
                UPDATE approval SET status = \(after.status.rawValue), decision = \(decision),
                    escalation_level = \(after.escalationLevel), consumed_at = \(after.consumedAt?.ms),
                    expires_at = \(after.expiresAt.ms), level_started_at = \(after.levelStartedAt.ms),
                    next_deadline = \(after.nextDeadline.ms), amended_payload = \(amended), revision = \(after.revision)
                WHERE id = \(after.id.rawValue) AND revision = \(before.revision) AND status = \(before.status.rawValue)
                    AND escalation_level = \(before.escalationLevel) AND consumed_at IS NOT DISTINCT FROM \(before.consumedAt?.ms)
                    AND expires_at = \(before.expiresAt.ms) AND level_started_at IS NOT DISTINCT FROM \(before.levelStartedAt.ms)
                    AND next_deadline IS NOT DISTINCT FROM \(before.nextDeadline.ms)
                RETURNING id
                """, logger: logger)
            var updated = 0
            for try await _ in rows { updated += 1 }
            guard updated == 1 else { return false }
            for vote in withdrawn { try await PostgresVoteRow.withdraw(vote, approvalID: after.id, on: connection, logger: logger) }
            // One live vote per person (vote_live): a second vote cannot slip in beside a concurrent one.
            for vote in newVotes { try await PostgresVoteRow.insert(vote, approvalID: after.id, on: connection, logger: logger) }
            try await breakGlass?.insert(on: connection, logger: logger)
            try await Self.recordApprovalChange(change, at: now, on: connection, logger: logger)
            return true
        }
        if committed, !change.outbox.isEmpty { outboxEnqueued.signal() }
        return committed
    }

    public func pendingDue(asOf now: Date, limit: Int) async throws -> [Approval] {
        try await read { connection in
            try await PostgresApprovalRow.fetchAll(
                """
                SELECT \(unescaped: PostgresApprovalRow.selectColumns) FROM approval
                WHERE status = 'pending' AND next_deadline <= \(now.ms) ORDER BY next_deadline, seq
                LIMIT \(PostgresApprovalRow.limit(limit))
                """, on: connection, logger: self.logger)
        }
    }

    public func nextDeadline() async throws -> Date? {
        try await read { connection in
            var earliest: Int64?
            for try await value in try await connection.query(
                "SELECT MIN(next_deadline) FROM approval WHERE status = 'pending'", logger: self.logger
            ).decode(Int64?.self) {
                earliest = value
            }
            return earliest.map(Date.init(millisecondsSince1970:))
        }
    }

    public func append(_ event: AuditEvent) async throws {
        let now = clock.now
        try await write { connection in try await PostgresAuditLog.append([event], at: now, on: connection, logger: self.logger) }
    }

    /// Newest first. `before` is the cursor of the previous page; the result's `next` that of the following one.
    public func list(_ filter: ApprovalFilter, limit: Int, before: Int64? = nil) async throws -> ApprovalPage {
        // As SQLite answers a limit of 0 or less (`LIMIT limit + 1` then reads no row, or every row but keeps none).
        guard limit > 0 else { return ApprovalPage(approvals: [], next: nil) }
        var bindings = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        var conditions: [String] = []
        if let status = filter.status { conditions.append("status = \(bind(status.rawValue))") }
        if let gate = filter.gate { conditions.append("gate = \(bind(gate))") }
        if let owner = filter.ownerKeyID { conditions.append("owner_key_id = \(bind(owner))") }
        if let requester = filter.requester { conditions.append("requester = \(bind(requester))") }
        if let text = filter.text {
            // strpos, not LIKE: the text's own % and _ are plain characters. Lower-cased in the C collation, which
            // folds ASCII letters only, as SQLite's lower() does.
            let needle = bind(text)
            conditions.append(
                """
                (strpos(lower(action COLLATE "C"), lower(\(needle) COLLATE "C")) > 0
                 OR strpos(lower(coalesce(reasoning, '') COLLATE "C"), lower(\(needle) COLLATE "C")) > 0)
                """)
        }
        if let before { conditions.append("seq < \(bind(before))") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT approval.seq, \(PostgresApprovalRow.selectColumns) FROM approval \(whereClause)
            ORDER BY seq DESC LIMIT \(bind(Int64(limit) + 1))
            """
        let query = PostgresQuery(unsafeSQL: sql, binds: bindings)
        return try await read { connection in
            var approvals: [Approval] = []
            var lastSeq: Int64?
            var more = false
            for try await row in try await connection.query(query, logger: self.logger) {
                // A row past `limit` only says there is a next page.
                guard approvals.count < limit else {
                    more = true
                    continue
                }
                approvals.append(try PostgresApprovalRow.decode(row))
                lastSeq = try row.makeRandomAccess()["seq"].decode(Int64.self)
            }
            return ApprovalPage(approvals: approvals, next: more ? lastSeq : nil)
        }
    }

    /// How many approvals there are in each status.
    public func countsByStatus() async throws -> [ApprovalStatus: Int] {
        try await read { connection in
            var counts: [ApprovalStatus: Int] = [:]
            for try await (status, count) in try await connection.query(
                "SELECT status, COUNT(*) FROM approval GROUP BY status", logger: self.logger
            ).decode((String, Int64).self) {
                if let status = ApprovalStatus(rawValue: status) { counts[status] = Int(count) }
            }
            return counts
        }
    }

    /// The pending approvals of each gate: one pass over the pending ones.
    public func pendingByGate() async throws -> [String: PendingSummary] {
        try await read { connection in
            var summaries: [String: PendingSummary] = [:]
            for try await (gate, count, oldest) in try await connection.query(
                "SELECT gate, COUNT(*), MIN(created_at) FROM approval WHERE status = 'pending' GROUP BY gate", logger: self.logger
            ).decode((String, Int64, Int64).self) {
                summaries[gate] = PendingSummary(count: Int(count), oldest: Date(millisecondsSince1970: oldest))
            }
            return summaries
        }
    }
}

// MARK: - Function calls

extension PostgresDatabase: FunctionCallIndex {
    public func functionCall(_ callID: String, ownerKeyID: Int64?) async throws -> ApprovalID? {
        try await read { connection in
            let query: PostgresQuery =
                if let ownerKeyID {
                    """
                    SELECT approval_id FROM idempotency_key
                    WHERE scope = \(FunctionCallScope.of(keyID: ownerKeyID)) AND key = \(callID)
                    """
                } else {
                    """
                    SELECT i.approval_id FROM idempotency_key i JOIN approval a ON a.id = i.approval_id
                    WHERE i.key = \(callID) AND starts_with(i.scope, \(FunctionCallScope.prefix)) ORDER BY a.seq DESC LIMIT 1
                    """
                }
            var id: String?
            for try await value in try await connection.query(query, logger: self.logger).decode(String.self) { id = value }
            return id.map(ApprovalID.init(rawValue:))
        }
    }

    public func pendingFunctionCalls(ownerKeyID: Int64?, limit: Int) async throws -> [(callID: String, approval: Approval)] {
        let scope: PostgresQuery =
            if let ownerKeyID { "i.scope = \(FunctionCallScope.of(keyID: ownerKeyID))" } else {
                "starts_with(i.scope, \(FunctionCallScope.prefix))"
            }
        var bindings = scope.binds
        bindings.append(PostgresApprovalRow.limit(limit))
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT i.key AS call_id, \(PostgresApprovalRow.selectColumns)
                FROM approval JOIN idempotency_key i ON i.approval_id = approval.id
                WHERE approval.status = 'pending' AND \(scope.sql) ORDER BY approval.seq LIMIT $\(bindings.count)
                """, binds: bindings)
        return try await read { connection in
            var calls: [(callID: String, approval: Approval)] = []
            for try await row in try await connection.query(query, logger: self.logger) {
                calls.append((try row.makeRandomAccess()["call_id"].decode(String.self), try PostgresApprovalRow.decode(row)))
            }
            return calls
        }
    }

    public func functionCallID(of id: ApprovalID) async throws -> String? {
        try await read { connection in
            var key: String?
            for try await value in try await connection.query(
                """
                SELECT key FROM idempotency_key
                WHERE approval_id = \(id.rawValue) AND starts_with(scope, \(FunctionCallScope.prefix)) LIMIT 1
                """, logger: self.logger
            ).decode(String.self) {
                key = value
            }
            return key
        }
    }
}
