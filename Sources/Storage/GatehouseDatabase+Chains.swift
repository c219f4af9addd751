import ApprovalCore
import Foundation
import GRDB

/// What applying a set of chains did to one of them.
public struct ChainChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case added, changed, unchanged, deleted
    }

    public var name: String
    public var kind: Kind
    public var before: EscalationChain?
    public var after: EscalationChain?

    public init(name: String, kind: Kind, before: EscalationChain?, after: EscalationChain?) {
        self.name = name
        self.kind = kind
        self.before = before
        self.after = after
    }
}

// MARK: - Chains

extension GatehouseDatabase {
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

    /// Creates or replaces a chain, with an audit entry naming who changed it and the chain before and after.
    /// Returns the chain it replaced.
    @discardableResult
    public func setChain(_ chain: EscalationChain, by actor: String) async throws -> EscalationChain? {
        try chain.validate()
        let changes = try await applyChains([chain], pruning: false, by: actor)
        return changes.first?.before
    }

    /// Deletes a chain. Requests filed under it keep their snapshot; returns the deleted chain (`nil`: there was
    /// none) and how many pending requests still use it.
    public func deleteChain(named name: String, by actor: String) async throws -> (deleted: EscalationChain?, pending: Int) {
        let now = clock.now
        return try await write { db in
            let pending = try Self.pendingCount(using: name, in: db)
            guard let before = try String.fetchOne(db, sql: "SELECT definition FROM chain WHERE name = ?", arguments: [name])
                .map(ChainCoding.decode)
            else { return (nil, pending) }
            try db.execute(sql: "DELETE FROM chain WHERE name = ?", arguments: [name])
            try Self.auditChainChange(ChainChange(name: name, kind: .deleted, before: before, after: nil), by: actor, at: now, in: db)
            return (before, pending)
        }
    }

    /// Writes `chains` in one transaction: each is added or replaced; with `pruning`, chains not among them are
    /// deleted. Every change is audited; unchanged chains are reported but not written. All are validated first,
    /// and nothing is written if one is invalid or a name repeats.
    public func applyChains(_ chains: [EscalationChain], pruning: Bool, by actor: String) async throws -> [ChainChange] {
        var names: Set<String> = []
        for chain in chains {
            try chain.validate()
            guard names.insert(chain.name).inserted else { throw ChainApplyError.duplicateName(chain.name) }
        }
        let now = clock.now
        let applied = names
        return try await write { db in
            let existing = Dictionary(try Self.allChains(db).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var changes: [ChainChange] = []
            for chain in chains {
                let before = existing[chain.name]
                if before == chain {
                    changes.append(ChainChange(name: chain.name, kind: .unchanged, before: before, after: chain))
                    continue
                }
                try db.execute(
                    sql: """
                        INSERT INTO chain (name, definition, updated_at, updated_by) VALUES (?, ?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at,
                            updated_by = excluded.updated_by
                        """,
                    arguments: [chain.name, ChainCoding.encode(chain), now.millisecondsSince1970, actor])
                let change = ChainChange(name: chain.name, kind: before == nil ? .added : .changed, before: before, after: chain)
                try Self.auditChainChange(change, by: actor, at: now, in: db)
                changes.append(change)
            }
            if pruning {
                for (name, before) in existing.sorted(by: { $0.key < $1.key }) where !applied.contains(name) {
                    try db.execute(sql: "DELETE FROM chain WHERE name = ?", arguments: [name])
                    let change = ChainChange(name: name, kind: .deleted, before: before, after: nil)
                    try Self.auditChainChange(change, by: actor, at: now, in: db)
                    changes.append(change)
                }
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

    static func auditChainChange(_ change: ChainChange, by actor: String, at now: Date, in db: Database) throws {
        try AuditLog.append(
            AuditEvent(
                .configChanged, actor: actor,
                details: [
                    "what": .string("chain"), "name": .string(change.name), "change": .string(change.kind.rawValue),
                    "before": ChainCoding.json(change.before), "after": ChainCoding.json(change.after),
                ]),
            at: now, in: db)
    }
}

/// Why a set of chains was refused as a whole.
public enum ChainApplyError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicateName(String)

    public var description: String {
        switch self {
        case .duplicateName(let name): "The chain `\(name)` is defined twice."
        }
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
            try AuditLog.append(
                AuditEvent(
                    .configChanged, actor: actor,
                    details: [
                        "what": .string("admins"), "before": .array(before.map(JSONValue.string)),
                        "after": .array(after.map(JSONValue.string)),
                    ]),
                at: now, in: db)
            return changed
        }
    }
}
