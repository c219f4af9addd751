import ApprovalCore
import Foundation
import GRDB
import Signing

extension GatehouseDatabase: WebSessionStore {
    public func createLoginLink(for person: String, scope: WebScope, lifetime: TimeInterval, by actor: String) async throws -> String {
        let token = SecureRandom.urlSafeToken(byteCount: 32)
        let digest = SHA256.hexDigest(of: token)
        let now = clock.now
        try await write { db in
            try db.execute(
                sql: "INSERT INTO web_login_link (token_sha256, person, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [digest, person, scope.rawValue, now.millisecondsSince1970, now.addingTimeInterval(lifetime).millisecondsSince1970])
            try AuditLog.append(
                .loginLinkCreated(for: person, scope: scope, by: actor),
                at: now, in: db)
        }
        return token
    }

    public func redeemLoginLink(_ token: String) async throws -> Result<(session: WebSession, secret: String), LoginRefusal> {
        let digest = SHA256.hexDigest(of: token)
        let now = clock.now
        let secret = SecureRandom.urlSafeToken(byteCount: 32)
        let csrf = SecureRandom.urlSafeToken(byteCount: 24)
        return try await write { db -> Result<(session: WebSession, secret: String), LoginRefusal> in
            let link = try Row.fetchOne(db, sql: "SELECT * FROM web_login_link WHERE token_sha256 = ?", arguments: [digest])
            // A link nobody made is anyone's guess: it is not written here, but counted with the other unauthenticated
            // refusals by the caller (see RefusalLedger).
            guard let link, let scope = WebScope(rawValue: link["scope"]) else { return .failure(.unknown) }
            let person: String = link["person"]
            if let refusal = LoginRefusal.of(usedAt: link["used_at"], expiresAt: link["expires_at"], now: now) {
                try AuditLog.append(.signInRefused(refusal, linkDigest: digest, person: person), at: now, in: db)
                return .failure(refusal)
            }
            try db.execute(sql: "UPDATE web_login_link SET used_at = ? WHERE token_sha256 = ?", arguments: [now.millisecondsSince1970, digest])
            try db.execute(
                sql: """
                    INSERT INTO web_session (secret_sha256, person, scope, csrf_token, created_at, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [SHA256.hexDigest(of: secret), person, scope.rawValue, csrf, now.millisecondsSince1970, now.millisecondsSince1970])
            let id = db.lastInsertedRowID
            try AuditLog.append(.signedIn(person, session: id, scope: scope), at: now, in: db)
            let session = WebSession(id: id, person: person, scope: scope, csrfToken: csrf, createdAt: now, lastSeenAt: now)
            return .success((session, secret))
        }
    }

    public func session(_ secret: String, idleTimeout: TimeInterval) async throws -> WebSession? {
        let digest = SHA256.hexDigest(of: secret)
        let now = clock.now
        let found = try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM web_session WHERE secret_sha256 = ? AND ended_at IS NULL", arguments: [digest])
                .map(Self.webSession)
        }
        guard let found, now.timeIntervalSince(found.lastSeenAt) < idleTimeout else { return nil }
        // Marked seen at most once a minute: a page view is not worth a commit each.
        if now.timeIntervalSince(found.lastSeenAt) >= 60 {
            try await write { db in
                try db.execute(sql: "UPDATE web_session SET last_seen_at = ? WHERE id = ?", arguments: [now.millisecondsSince1970, found.id])
            }
        }
        return found
    }

    public func endSession(_ id: Int64, by actor: String) async throws {
        let now = clock.now
        try await write { db in
            try db.execute(sql: "UPDATE web_session SET ended_at = ? WHERE id = ? AND ended_at IS NULL", arguments: [now.millisecondsSince1970, id])
            guard db.changesCount > 0 else { return }
            try AuditLog.append(.signedOut(session: id, by: actor), at: now, in: db)
        }
    }

    public func liveSessions(idleTimeout: TimeInterval) async throws -> [WebSession] {
        let since = clock.now.addingTimeInterval(-idleTimeout).millisecondsSince1970
        return try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM web_session WHERE ended_at IS NULL AND last_seen_at > ? ORDER BY id DESC", arguments: [since]
            ).map(Self.webSession)
        }
    }

    public func revokeSessions(person: String?, id: Int64?, by actor: String) async throws -> Int {
        let now = clock.now
        return try await write { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM web_session WHERE ended_at IS NULL AND (person = ? OR id = ?)", arguments: [person, id])
            for session in ids {
                try db.execute(sql: "UPDATE web_session SET ended_at = ? WHERE id = ?", arguments: [now.millisecondsSince1970, session])
                try AuditLog.append(.sessionRevoked(session, person: person, by: actor), at: now, in: db)
            }
            return ids.count
        }
    }

    static func webSession(_ row: Row) -> WebSession {
        WebSession(
            id: row["id"], person: row["person"], scope: WebScope(rawValue: row["scope"]) ?? .decide, csrfToken: row["csrf_token"],
            createdAt: Date(millisecondsSince1970: row["created_at"]), lastSeenAt: Date(millisecondsSince1970: row["last_seen_at"]))
    }
}
