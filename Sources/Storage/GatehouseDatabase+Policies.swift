import ApprovalCore
import Foundation
import GRDB

// MARK: - Policies

extension GatehouseDatabase: PolicyStore {
    public func policies() async throws -> PolicySet {
        let cache = policySnapshots
        return try await writer.read { db in try cache.read(in: db).set }
    }

    public func everApproved(gate: String, action: String) async throws -> Bool {
        let cache = policySnapshots
        return try await writer.read { db in try cache.everApproved(gate: gate, action: action, in: db) }
    }

    public func changePolicies(
        by actor: String, _ change: @escaping @Sendable (PolicySet) throws -> PolicySet
    ) async throws -> (before: PolicySet, after: PolicySet) {
        let now = clock.now
        let cache = policySnapshots
        return try await write { db in
            let current = try cache.read(in: db)
            let after = try change(current.set)
            guard after != current.set else { return (current.set, after) }
            let definition = PolicyCoding.encode(after)
            try db.execute(
                sql: """
                    INSERT INTO policy_set (id, definition, version, updated_at, updated_by) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, version = excluded.version,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """,
                arguments: [definition, current.version + 1, now.millisecondsSince1970, actor])
            try AuditLog.append(AuditEvent.policiesChanged(before: current.set, after: after, by: actor), at: now, in: db)
            return (current.set, after)
        }
    }
}

// MARK: - Break-glass

/// A break-glass row, written by the commit of the decision it made.
extension NewBreakGlassUse {
    func insert(in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO break_glass (approval_id, by_actor, by_name, at, reason, over_limit) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [approvalID.rawValue, by, byName, at.millisecondsSince1970, reason, overLimit])
    }
}

extension GatehouseDatabase: BreakGlassPosts {
    public func breakGlassUses(unreviewedOnly: Bool) async throws -> [BreakGlassRecord] {
        try await writer.read { db in
            try Self.breakGlassRecords(unreviewedOnly ? "WHERE b.reviewed_at IS NULL" : "", in: db)
        }
    }

    public func breakGlassUse(_ id: ApprovalID) async throws -> BreakGlassRecord? {
        try await writer.read { db in try Self.breakGlassRecords("WHERE b.approval_id = ?", [id.rawValue], in: db).first }
    }

    public func unreviewedBreakGlassCount() async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM break_glass WHERE reviewed_at IS NULL") ?? 0
        }
    }

    /// Break-glass uses with their request's action, newest first, filtered by `condition` on `b` (break_glass).
    private static func breakGlassRecords(
        _ condition: String, _ arguments: StatementArguments = [], in db: Database
    ) throws -> [BreakGlassRecord] {
        try Row.fetchAll(
            db,
            sql: "SELECT b.*, a.action FROM break_glass b JOIN approval a ON a.id = b.approval_id \(condition) ORDER BY b.at DESC",
            arguments: arguments
        ).map { row in
            BreakGlassRecord(
                approvalID: ApprovalID(rawValue: row["approval_id"]), action: row["action"], by: row["by_actor"],
                byName: row["by_name"], at: Date(millisecondsSince1970: row["at"]), reason: row["reason"],
                overLimit: row["over_limit"], reviewedBy: row["reviewed_by"],
                reviewedAt: (row["reviewed_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
                remindedAt: (row["reminded_at"] as Int64?).map(Date.init(millisecondsSince1970:)))
        }
    }

    public func breakGlassCount(by actor: String, since: Date) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM break_glass WHERE by_actor = ? AND at >= ?",
                arguments: [actor, since.millisecondsSince1970]) ?? 0
        }
    }

    public func markBreakGlassReviewed(
        _ id: ApprovalID, by actor: String, at now: Date, audit: AuditEvent, outbox: [NewOutboxItem]
    ) async throws -> Bool {
        let prepared = AuditLog.Prepared(audit)
        let reviewed = try await write { db -> Bool in
            try db.execute(
                sql: "UPDATE break_glass SET reviewed_by = ?, reviewed_at = ? WHERE approval_id = ? AND reviewed_at IS NULL",
                arguments: [actor, now.millisecondsSince1970, id.rawValue])
            guard db.changesCount == 1 else { return false }
            try AuditLog.append(prepared, at: now, in: db)
            for item in outbox { try Self.enqueue(item, at: now, in: db) }
            return true
        }
        if reviewed, !outbox.isEmpty { outboxEnqueued.signal() }
        return reviewed
    }

    public func markBreakGlassReminded(_ ids: [ApprovalID], at now: Date, outbox: [NewOutboxItem]) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            for id in ids {
                try db.execute(
                    sql: "UPDATE break_glass SET reminded_at = ? WHERE approval_id = ?", arguments: [now.millisecondsSince1970, id.rawValue])
            }
            for item in outbox { try Self.enqueue(item, at: now, in: db) }
        }
        if !outbox.isEmpty { outboxEnqueued.signal() }
    }

    /// Where the loud post about a break-glass use went, so that a review can update it.
    public func recordBreakGlassPost(_ id: ApprovalID, channel: String, ts: String) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE break_glass SET post_channel = ?, post_ts = ? WHERE approval_id = ?", arguments: [channel, ts, id.rawValue])
        }
    }

    public func breakGlassPost(_ id: ApprovalID) async throws -> (channel: String, ts: String)? {
        try await writer.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT post_channel, post_ts FROM break_glass WHERE approval_id = ? AND post_ts IS NOT NULL",
                arguments: [id.rawValue])
            else { return nil }
            return (row["post_channel"], row["post_ts"])
        }
    }
}

extension GatehouseDatabase {
    /// Every approval filed at or after `since` that left `pending`, oldest first (for `policies suggest`).
    public func decidedApprovals(since: Date) async throws -> [Approval] {
        try await writer.read { db in
            try ApprovalRow.fetchAll(
                db,
                sql: "SELECT \(ApprovalRow.selectColumns) FROM approval WHERE created_at >= ? AND status <> 'pending' ORDER BY seq",
                arguments: [since.millisecondsSince1970])
        }
    }
}
