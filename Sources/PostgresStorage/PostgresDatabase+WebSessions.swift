import ApprovalCore
import Foundation
import PostgresNIO
import Signing

/// Web sessions and their one-time login links on PostgreSQL, as on SQLite: only SHA-256 digests of the link
/// tokens and session secrets are stored, and nothing is cached, so a session ended on one replica is gone on all.
///
/// A link is used once across replicas: redeeming locks its row (`SELECT … FOR UPDATE`) before reading it, so a
/// second replica redeeming the same link waits for the first to commit, then reads the row again (READ COMMITTED
/// re-reads a locked row after the wait), finds it used, and refuses.
extension PostgresDatabase: WebSessionStore {
    public func createLoginLink(for person: String, scope: WebScope, lifetime: TimeInterval, by actor: String) async throws -> String {
        let token = SecureRandom.urlSafeToken(byteCount: 32)
        let digest = SHA256.hexDigest(of: token)
        let now = clock.now
        let logger = logger
        try await write { connection in
            try await connection.query(
                """
                INSERT INTO web_login_link (token_sha256, person, scope, created_at, expires_at)
                VALUES (\(digest), \(person), \(scope.rawValue), \(now.ms), \(now.addingTimeInterval(lifetime).ms))
                """, logger: logger)
            try await PostgresAuditLog.append(
                [.loginLinkCreated(for: person, scope: scope, by: actor)],
                at: now, on: connection, logger: logger)
        }
        return token
    }

    public func redeemLoginLink(_ token: String) async throws -> Result<(session: WebSession, secret: String), LoginRefusal> {
        let digest = SHA256.hexDigest(of: token)
        let now = clock.now
        let secret = SecureRandom.urlSafeToken(byteCount: 32)
        let csrf = SecureRandom.urlSafeToken(byteCount: 24)
        let logger = logger
        return try await write { connection -> Result<(session: WebSession, secret: String), LoginRefusal> in
            let links = try await connection.query(
                "SELECT person, scope, expires_at, used_at FROM web_login_link WHERE token_sha256 = \(digest) FOR UPDATE",
                logger: logger
            ).decode((String, String, Int64, Int64?).self).allElements()
            // A link nobody made is anyone's guess: it is not written here, but counted with the other unauthenticated
            // refusals by the caller (see RefusalLedger).
            guard let (person, scopeText, expiresAt, usedAt) = links.first, let scope = WebScope(rawValue: scopeText) else {
                return .failure(.unknown)
            }
            if let refusal = LoginRefusal.of(usedAt: usedAt, expiresAt: expiresAt, now: now) {
                try await PostgresAuditLog.append(
                    [.signInRefused(refusal, linkDigest: digest, person: person)], at: now, on: connection, logger: logger)
                return .failure(refusal)
            }
            try await connection.query(
                "UPDATE web_login_link SET used_at = \(now.ms) WHERE token_sha256 = \(digest)", logger: logger)
            let ids = try await connection.query(
                """
                INSERT INTO web_session (secret_sha256, person, scope, csrf_token, created_at, last_seen_at)
                VALUES (\(SHA256.hexDigest(of: secret)), \(person), \(scope.rawValue), \(csrf), \(now.ms), \(now.ms))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self).allElements()
            guard let id = ids.first else { throw StorageError.corrupt("web session") }
            try await PostgresAuditLog.append(
                [.signedIn(person, session: id, scope: scope)],
                at: now, on: connection, logger: logger)
            let session = WebSession(id: id, person: person, scope: scope, csrfToken: csrf, createdAt: now, lastSeenAt: now)
            return .success((session, secret))
        }
    }

    public func session(_ secret: String, idleTimeout: TimeInterval) async throws -> WebSession? {
        let digest = SHA256.hexDigest(of: secret)
        let now = clock.now
        let found = try await read { connection in
            try await Self.webSessions(
                connection.query(
                    "SELECT \(unescaped: Self.sessionColumns) FROM web_session WHERE secret_sha256 = \(digest) AND ended_at IS NULL",
                    logger: self.logger)
            ).first
        }
        guard let found, now.timeIntervalSince(found.lastSeenAt) < idleTimeout else { return nil }
        // Marked seen at most once a minute: a page view is not worth a commit each. `GREATEST`: a replica whose
        // clock lags never moves it back.
        if now.timeIntervalSince(found.lastSeenAt) >= 60 {
            let logger = logger
            try await write { connection in
                _ = try await connection.query(
                    "UPDATE web_session SET last_seen_at = GREATEST(last_seen_at, \(now.ms)) WHERE id = \(found.id)",
                    logger: logger)
            }
        }
        return found
    }

    public func endSession(_ id: Int64, by actor: String) async throws {
        let now = clock.now
        let logger = logger
        try await write { connection in
            let ended = try await connection.query(
                "UPDATE web_session SET ended_at = \(now.ms) WHERE id = \(id) AND ended_at IS NULL RETURNING id", logger: logger
            ).decode(Int64.self).allElements()
            guard !ended.isEmpty else { return }
            try await PostgresAuditLog.append(
                [.signedOut(session: id, by: actor)], at: now, on: connection,
                logger: logger)
        }
    }

    public func liveSessions(idleTimeout: TimeInterval) async throws -> [WebSession] {
        let since = clock.now.addingTimeInterval(-idleTimeout).ms
        return try await read { connection in
            try await Self.webSessions(
                connection.query(
                    """
                    SELECT \(unescaped: Self.sessionColumns) FROM web_session WHERE ended_at IS NULL AND last_seen_at > \(since)
                    ORDER BY id DESC
                    """, logger: self.logger))
        }
    }

    /// Ends the sessions in one statement (each row locked by it), so a session ended by two replicas at once is
    /// audited once, by whichever ended it.
    public func revokeSessions(person: String?, id: Int64?, by actor: String) async throws -> Int {
        let now = clock.now
        let logger = logger
        return try await write { connection in
            let ids = try await connection.query(
                """
                UPDATE web_session SET ended_at = \(now.ms) WHERE ended_at IS NULL AND (person = \(person) OR id = \(id))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self).allElements().sorted()
            let events = ids.map { AuditEvent.sessionRevoked($0, person: person, by: actor) }
            try await PostgresAuditLog.append(events, at: now, on: connection, logger: logger)
            return ids.count
        }
    }

    static let sessionColumns = "id, person, scope, csrf_token, created_at, last_seen_at"

    static func webSessions(_ rows: PostgresRowSequence) async throws -> [WebSession] {
        var sessions: [WebSession] = []
        for try await (id, person, scope, csrf, createdAt, lastSeenAt) in rows.decode(
            (Int64, String, String, String, Int64, Int64).self)
        {
            sessions.append(
                WebSession(
                    id: id, person: person, scope: WebScope(rawValue: scope) ?? .decide, csrfToken: csrf,
                    createdAt: Date(millisecondsSince1970: createdAt), lastSeenAt: Date(millisecondsSince1970: lastSeenAt)))
        }
        return sessions
    }
}
