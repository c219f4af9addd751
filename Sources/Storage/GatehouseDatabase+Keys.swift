import ApprovalCore
import Foundation
import GRDB
import Signing

extension GatehouseDatabase {
    /// Creates a key and returns it in plain text: the only time it exists outside its holder.
    public func createKey(name: String, scope: APIKeyScope) async throws -> String {
        guard APIKey.isValidName(name) else { throw StorageError.invalidKeyName(name) }
        let secret = "gh_" + SecureRandom.urlSafeToken(byteCount: 32)
        let digest = SHA256.hexDigest(of: secret)
        let now = clock.now
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_key WHERE name = ? AND revoked_at IS NULL", arguments: [name]) == true {
                throw StorageError.keyNameTaken(name)
            }
            try db.execute(
                sql: "INSERT INTO api_key (name, scope, key_sha256, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, scope.rawValue, digest, now.millisecondsSince1970]
            )
            try AuditLog.append(
                AuditEvent(.keyCreated, actor: "cli", details: ["name": .string(name), "scope": .string(scope.rawValue)]),
                at: now, in: db
            )
        }
        return secret
    }

    public func listKeys() async throws -> [APIKey] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY revoked_at IS NOT NULL, name, id").map(Self.key)
        }
    }

    public func revokeKey(name: String) async throws {
        let now = clock.now
        try await write { db in
            try db.execute(
                sql: "UPDATE api_key SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                arguments: [now.millisecondsSince1970, name]
            )
            guard db.changesCount > 0 else { throw StorageError.unknownKey(name) }
            try AuditLog.append(AuditEvent(.keyRevoked, actor: "cli", details: ["name": .string(name)]), at: now, in: db)
        }
    }

    /// The active key whose SHA-256 matches `secret`, if any.
    public func authenticate(_ secret: String) async throws -> APIKey? {
        let digest = SHA256.hexDigest(of: secret)
        return try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE key_sha256 = ? AND revoked_at IS NULL", arguments: [digest])
                .map(Self.key)
        }
    }

    static func key(_ row: Row) -> APIKey {
        APIKey(
            name: row["name"], scope: APIKeyScope(rawValue: row["scope"]) ?? .request,
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            revokedAt: (row["revoked_at"] as Int64?).map(Date.init(millisecondsSince1970:))
        )
    }
}
