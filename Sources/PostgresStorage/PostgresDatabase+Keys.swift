import ApprovalCore
import Foundation
import PostgresNIO
import Signing

/// API keys on PostgreSQL, as on SQLite: only each key's SHA-256 is stored, an active name is unique, and creating or
/// revoking a key is audited in the same transaction.
///
/// Nothing is cached: another replica may revoke a key at any moment, so every authentication reads the key's row
/// (one indexed lookup on `key_sha256`), and a revoked key is refused by every replica from the commit on.
extension PostgresDatabase: KeyStore {
    /// Creates a key and returns it in plain text: the only time it exists outside its holder. `actor` is who is
    /// audited as creating it.
    ///
    /// Two replicas creating the same name at once: the partial unique index `api_key_active_name` admits one, and
    /// the other's violation becomes `keyNameTaken`, as the check before the insert would have said.
    public func createKey(
        name: String, scope: APIKeyScope, boundTo: String? = nil, breakGlass: Bool = false, by actor: String = "cli"
    ) async throws -> String {
        guard APIKey.isValidName(name) else { throw StorageError.invalidKeyName(name) }
        let (secret, digest) = APIKey.newSecret()
        let now = clock.now
        let logger = logger
        do {
            try await write { connection in
                let taken = try await connection.query(
                    "SELECT 1 FROM api_key WHERE name = \(name) AND revoked_at IS NULL", logger: logger
                ).decode(Int.self).allElements()
                guard taken.isEmpty else { throw StorageError.keyNameTaken(name) }
                let ids = try await connection.query(
                    """
                    INSERT INTO api_key (name, scope, key_sha256, created_at, bound_to, break_glass)
                    VALUES (\(name), \(scope.rawValue), \(digest), \(now.ms), \(boundTo), \(Int64(breakGlass ? 1 : 0)))
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self).allElements()
                try await PostgresAuditLog.append(
                    [.keyCreated(name, id: ids.first ?? 0, scope: scope, boundTo: boundTo, breakGlass: breakGlass, by: actor)],
                    at: now, on: connection, logger: logger)
            }
        } catch where Self.isUniqueViolation(error) {
            throw StorageError.keyNameTaken(name)
        }
        return secret
    }

    /// Active keys first, then by name (byte order, as SQLite compares text) and id.
    public func listKeys() async throws -> [APIKey] {
        try await read { connection in
            try await Self.keys(
                connection.query(
                    "SELECT \(unescaped: Self.keyColumns) FROM api_key ORDER BY revoked_at IS NOT NULL, name COLLATE \"C\", id",
                    logger: self.logger))
        }
    }

    public func revokeKey(name: String, by actor: String = "cli") async throws {
        let now = clock.now
        let logger = logger
        try await write { connection in
            let revoked = try await connection.query(
                "UPDATE api_key SET revoked_at = \(now.ms) WHERE name = \(name) AND revoked_at IS NULL RETURNING id",
                logger: logger
            ).decode(Int64.self).allElements()
            guard !revoked.isEmpty else { throw StorageError.unknownKey(name) }
            try await PostgresAuditLog.append(
                [.keyRevoked(name, by: actor)], at: now, on: connection,
                logger: logger)
        }
    }

    /// The active key whose SHA-256 matches `secret`, if any: read from the database each time, so a key revoked
    /// on any replica is refused at once.
    public func authenticate(_ secret: String) async throws -> APIKey? {
        let digest = SHA256.hexDigest(of: secret)
        return try await read { connection in
            try await Self.keys(
                connection.query(
                    "SELECT \(unescaped: Self.keyColumns) FROM api_key WHERE key_sha256 = \(digest) AND revoked_at IS NULL",
                    logger: self.logger)
            ).first
        }
    }

    /// Records when keys were last used; an earlier time never replaces a later one (`GREATEST`, so replicas
    /// recording the same key in either order keep the latest). Rows are updated in id order, so two replicas'
    /// batches lock them in the same order and cannot deadlock.
    public func recordKeyUse(_ uses: [Int64: Date]) async throws {
        guard !uses.isEmpty else { return }
        let logger = logger
        let ordered = uses.sorted { $0.key < $1.key }.map { (id: $0.key, at: $0.value.ms) }
        try await write { connection in
            for use in ordered {
                try await connection.query(
                    "UPDATE api_key SET last_used_at = GREATEST(COALESCE(last_used_at, 0), \(use.at)) WHERE id = \(use.id)",
                    logger: logger)
            }
        }
    }

    static let keyColumns = "id, name, scope, created_at, revoked_at, bound_to, break_glass, last_used_at"

    static func keys(_ rows: PostgresRowSequence) async throws -> [APIKey] {
        var keys: [APIKey] = []
        for try await (id, name, scope, createdAt, revokedAt, boundTo, breakGlass, lastUsedAt) in rows.decode(
            (Int64, String, String, Int64, Int64?, String?, Int64, Int64?).self)
        {
            var key = APIKey(
                id: id, name: name, scope: APIKeyScope(rawValue: scope) ?? .request,
                createdAt: Date(millisecondsSince1970: createdAt), revokedAt: revokedAt.map(Date.init(millisecondsSince1970:)),
                boundTo: boundTo, breakGlass: breakGlass != 0)
            key.lastUsedAt = lastUsedAt.map(Date.init(millisecondsSince1970:))
            keys.append(key)
        }
        return keys
    }
}
