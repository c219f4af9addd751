import ApprovalCore
import Foundation
import GRDB

// MARK: - Chains

extension GatehouseDatabase: ConfigurationStore {
    /// Every configured chain, by name.
    public func chains() async throws -> [EscalationChain] {
        try await writer.read { db in try Self.allChains(db) }
    }

    /// The chain named `name`, if one is configured.
    public func chain(named name: String) async throws -> EscalationChain? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT definition FROM chain WHERE name = ?", arguments: [name]).map(ChainCoding.decode)
        }
    }

    public func changeChains(
        by actor: String, _ plan: @escaping @Sendable ([EscalationChain]) throws -> [ChainChange]
    ) async throws -> [ChainChange] {
        let now = clock.now
        return try await write { db in
            let changes = try plan(try Self.allChains(db))
            for change in changes where change.kind != .unchanged {
                if change.kind == .deleted {
                    try db.execute(sql: "DELETE FROM chain WHERE name = ?", arguments: [change.name])
                } else if let chain = change.after {
                    try db.execute(
                        sql: """
                            INSERT INTO chain (name, definition, updated_at, updated_by) VALUES (?, ?, ?, ?)
                            ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at,
                                updated_by = excluded.updated_by
                            """,
                        arguments: [chain.name, ChainCoding.encode(chain), now.millisecondsSince1970, actor])
                }
                try AuditLog.append(change.auditEvent(by: actor), at: now, in: db)
            }
            return changes
        }
    }

    /// How many pending requests use a snapshot of the chain named `name`.
    public func pendingCount(gate name: String) async throws -> Int {
        try await writer.read { db in try Self.pendingCount(using: name, in: db) }
    }

    /// A chain's snapshots are found under its own gate, except `default`'s, which any gate without a chain may use.
    static func pendingCount(using name: String, in db: Database) throws -> Int {
        let named = "status = 'pending' AND chain IS NOT NULL AND json_extract(chain, '$.name') = ?"
        let sql = name == EscalationChain.default.name
            ? "SELECT COUNT(*) FROM approval WHERE \(named)"
            : "SELECT COUNT(*) FROM approval WHERE gate = ? AND \(named)"
        let arguments: StatementArguments = name == EscalationChain.default.name ? [name] : [name, name]
        return try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
    }

    static func allChains(_ db: Database) throws -> [EscalationChain] {
        try String.fetchAll(db, sql: "SELECT definition FROM chain ORDER BY name").map(ChainCoding.decode)
    }
}

// MARK: - Admins

extension GatehouseDatabase {
    /// Admins added from Slack (those from `GATEHOUSE_ADMINS` are not stored), in the order they were added.
    public func storedAdmins() async throws -> [String] {
        try await writer.read { db in try String.fetchAll(db, sql: "SELECT user_id FROM admin ORDER BY added_at, user_id") }
    }

    /// Adds admins; returns those that were not admins yet. Audited with the list before and after.
    @discardableResult
    public func addAdmins(_ users: [String], by actor: String) async throws -> [String] {
        try await changeAdmins(by: actor) { db, now in
            var added: [String] = []
            for user in users {
                try db.execute(
                    sql: "INSERT INTO admin (user_id, added_by, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [user, actor, now.millisecondsSince1970])
                if db.changesCount > 0 { added.append(user) }
            }
            return added
        }
    }

    /// Removes admins; returns those that were stored admins. Audited with the list before and after.
    @discardableResult
    public func removeAdmins(_ users: [String], by actor: String) async throws -> [String] {
        try await changeAdmins(by: actor) { db, _ in
            var removed: [String] = []
            for user in users {
                try db.execute(sql: "DELETE FROM admin WHERE user_id = ?", arguments: [user])
                if db.changesCount > 0 { removed.append(user) }
            }
            return removed
        }
    }

    private func changeAdmins(
        by actor: String, _ change: @escaping @Sendable (Database, Date) throws -> [String]
    ) async throws -> [String] {
        let now = clock.now
        return try await write { db in
            let list = "SELECT user_id FROM admin ORDER BY added_at, user_id"
            let before = try String.fetchAll(db, sql: list)
            let changed = try change(db, now)
            guard !changed.isEmpty else { return [] }
            let after = try String.fetchAll(db, sql: list)
            try AuditLog.append(AuditEvent.adminsChanged(before: before, after: after, by: actor), at: now, in: db)
            return changed
        }
    }
}
