import ApprovalCore
import Foundation
import GRDB
import Signing

extension GatehouseDatabase: KeyStore {
    /// Creates a key and returns it in plain text: the only time it exists outside its holder. `actor` is who is
    /// audited as creating it (`cli:$USER` from the command line).
    public func createKey(
        name: String, scope: APIKeyScope, boundTo: String? = nil, breakGlass: Bool = false, by actor: String = "cli"
    ) async throws -> String {
        guard APIKey.isValidName(name) else { throw StorageError.invalidKeyName(name) }
        let (secret, digest) = APIKey.newSecret()
        let now = clock.now
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_key WHERE name = ? AND revoked_at IS NULL", arguments: [name]) == true {
                throw StorageError.keyNameTaken(name)
            }
            try db.execute(
                sql: "INSERT INTO api_key (name, scope, key_sha256, created_at, bound_to, break_glass) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [name, scope.rawValue, digest, now.millisecondsSince1970, boundTo, breakGlass]
            )
            try AuditLog.append(
                .keyCreated(name, id: db.lastInsertedRowID, scope: scope, boundTo: boundTo, breakGlass: breakGlass, by: actor),
                at: now, in: db)
        }
        return secret
    }

    public func listKeys() async throws -> [APIKey] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY revoked_at IS NOT NULL, name, id").map(Self.key)
        }
    }

    public func revokeKey(name: String, by actor: String = "cli") async throws {
        let now = clock.now
        try await write { db in
            try db.execute(
                sql: "UPDATE api_key SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                arguments: [now.millisecondsSince1970, name]
            )
            guard db.changesCount > 0 else { throw StorageError.unknownKey(name) }
            try AuditLog.append(.keyRevoked(name, by: actor), at: now, in: db)
        }
        // After the commit, so no authentication can read the key as active again and cache it.
        keyCache.forgetAll()
    }

    /// The active key whose SHA-256 matches `secret`, if any.
    ///
    /// Answers from the cache of active keys when it can (see `APIKeyCache`); a revoked key stops working at once.
    public func authenticate(_ secret: String) async throws -> APIKey? {
        let digest = SHA256.hexDigest(of: secret)
        if let key = keyCache.key(for: digest) { return key }
        let generation = keyCache.generation
        let key = try await writer.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM api_key WHERE key_sha256 = ? AND revoked_at IS NULL"), arguments: [digest]
            ).map(Self.key)
        }
        // Unknown keys are not cached: a key created meanwhile works at once, and guessing fills no memory.
        if let key { keyCache.store(key, for: digest, readAt: generation) }
        return key
    }

    public func recordKeyUse(_ uses: [Int64: Date]) async throws {
        try await write { db in
            for (id, at) in uses {
                try db.cachedStatement(sql: "UPDATE api_key SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?")
                    .execute(arguments: [at.millisecondsSince1970, id])
            }
        }
    }

    static func key(_ row: Row) -> APIKey {
        var key = APIKey(
            id: row["id"], name: row["name"], scope: APIKeyScope(rawValue: row["scope"]) ?? .request,
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            revokedAt: (row["revoked_at"] as Int64?).map(Date.init(millisecondsSince1970:)), boundTo: row["bound_to"],
            breakGlass: row["break_glass"] ?? false
        )
        key.lastUsedAt = (row["last_used_at"] as Int64?).map(Date.init(millisecondsSince1970:))
        return key
    }
}
