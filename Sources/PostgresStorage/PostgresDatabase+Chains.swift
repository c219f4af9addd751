import ApprovalCore
import Foundation
import Logging
import PostgresNIO

// MARK: - Chains

/// Escalation chains and stored admins on PostgreSQL, as on SQLite.
///
/// A change of chains or of admins reads the current configuration, decides, writes and audits in one transaction.
/// On SQLite the one writer serialises those; here a transaction-scoped advisory lock (`configurationLockKey`) does,
/// taken before the read: a second replica changing chains or admins at once waits, then reads what the first
/// committed, so neither overwrites the other's change with a plan made from a stale list (a row lock would not
/// do, since a plan may add chains that no row yet stands for). The lock is always taken before the audit chain's,
/// so the two cannot deadlock.
extension PostgresDatabase: ConfigurationStore {
    /// Serialises changes of configuration (chains, admins) across replicas until the transaction ends.
    static let configurationLockKey: Int64 = 0x6761_7465_636f_6e66  // "gateconf"

    /// Every configured chain, by name (byte order, as SQLite compares text).
    public func chains() async throws -> [EscalationChain] {
        try await read { connection in try await Self.allChains(on: connection, logger: self.logger) }
    }

    /// The chain named `name`, if one is configured.
    public func chain(named name: String) async throws -> EscalationChain? {
        try await read { connection in
            try await connection.query("SELECT definition FROM chain WHERE name = \(name)", logger: self.logger)
                .decode(String.self).allElements().first.map(ChainCoding.decode)
        }
    }

    public func changeChains(
        by actor: String, _ plan: @escaping @Sendable ([EscalationChain]) throws -> [ChainChange]
    ) async throws -> [ChainChange] {
        let now = clock.now
        let logger = logger
        return try await write { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.configurationLockKey))", logger: logger)
            let changes = try plan(try await Self.allChains(on: connection, logger: logger))
            var events: [AuditEvent] = []
            for change in changes where change.kind != .unchanged {
                if change.kind == .deleted {
                    try await connection.query("DELETE FROM chain WHERE name = \(change.name)", logger: logger)
                } else if let chain = change.after {
                    try await connection.query(
                        """
                        INSERT INTO chain (name, definition, updated_at, updated_by)
                        VALUES (\(chain.name), \(ChainCoding.encode(chain)), \(now.ms), \(actor))
                        ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at,
                            updated_by = excluded.updated_by
                        """, logger: logger)
                }
                events.append(change.auditEvent(by: actor))
            }
            try await PostgresAuditLog.append(events, at: now, on: connection, logger: logger)
            return changes
        }
    }

    /// How many pending requests use a snapshot of the chain named `name`. A chain's snapshots are found under its
    /// own gate, except `default`'s, which any gate without a chain may use.
    public func pendingCount(gate name: String) async throws -> Int {
        try await read { connection in
            let named = "status = 'pending' AND chain IS NOT NULL AND (chain::jsonb ->> 'name') = "
            let rows =
                if name == EscalationChain.default.name {
                    try await connection.query("SELECT COUNT(*) FROM approval WHERE \(unescaped: named)\(name)", logger: self.logger)
                } else {
                    try await connection.query(
                        "SELECT COUNT(*) FROM approval WHERE gate = \(name) AND \(unescaped: named)\(name)", logger: self.logger)
                }
            return Int(try await rows.decode(Int64.self).allElements().first ?? 0)
        }
    }

    static func allChains(on connection: PostgresConnection, logger: Logger) async throws -> [EscalationChain] {
        try await connection.query("SELECT definition FROM chain ORDER BY name COLLATE \"C\"", logger: logger)
            .decode(String.self).allElements().map(ChainCoding.decode)
    }
}

// MARK: - Admins

extension PostgresDatabase {
    /// Admins added from Slack (those from `GATEHOUSE_ADMINS` are not stored), in the order they were added.
    public func storedAdmins() async throws -> [String] {
        try await read { connection in try await Self.admins(on: connection, logger: self.logger) }
    }

    /// Adds admins; returns those that were not admins yet. Audited with the list before and after.
    @discardableResult
    public func addAdmins(_ users: [String], by actor: String) async throws -> [String] {
        try await changeAdmins(by: actor) { connection, now, logger in
            var added: [String] = []
            for user in users {
                let inserted = try await connection.query(
                    """
                    INSERT INTO admin (user_id, added_by, added_at) VALUES (\(user), \(actor), \(now.ms))
                    ON CONFLICT DO NOTHING RETURNING user_id
                    """, logger: logger
                ).decode(String.self).allElements()
                if !inserted.isEmpty { added.append(user) }
            }
            return added
        }
    }

    /// Removes admins; returns those that were stored admins. Audited with the list before and after.
    @discardableResult
    public func removeAdmins(_ users: [String], by actor: String) async throws -> [String] {
        try await changeAdmins(by: actor) { connection, _, logger in
            var removed: [String] = []
            for user in users {
                let deleted = try await connection.query(
                    "DELETE FROM admin WHERE user_id = \(user) RETURNING user_id", logger: logger
                ).decode(String.self).allElements()
                if !deleted.isEmpty { removed.append(user) }
            }
            return removed
        }
    }

    /// Under the configuration lock, so the lists audited before and after are those of this change alone.
    private func changeAdmins(
        by actor: String, _ change: (PostgresConnection, Date, Logger) async throws -> [String]
    ) async throws -> [String] {
        let now = clock.now
        let logger = logger
        return try await write { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.configurationLockKey))", logger: logger)
            let before = try await Self.admins(on: connection, logger: logger)
            let changed = try await change(connection, now, logger)
            guard !changed.isEmpty else { return [] }
            let after = try await Self.admins(on: connection, logger: logger)
            try await PostgresAuditLog.append(
                [AuditEvent.adminsChanged(before: before, after: after, by: actor)], at: now, on: connection, logger: logger)
            return changed
        }
    }

    static func admins(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.query("SELECT user_id FROM admin ORDER BY added_at, user_id COLLATE \"C\"", logger: logger)
            .decode(String.self).allElements()
    }
}
