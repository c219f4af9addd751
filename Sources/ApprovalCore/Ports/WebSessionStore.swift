import Foundation

/// What a person signed in to the web page may do there: `decide` pending requests, or as `admin` also review
/// break-glass uses.
public enum WebScope: String, Sendable, Codable, CaseIterable {
    case decide
    case admin
}

/// A signed-in person on the web page. The session's secret lives only in the browser's cookie; the store keeps its
/// SHA-256.
public struct WebSession: Sendable, Equatable {
    /// Unique, never reused.
    public var id: Int64
    /// As the audit log writes them: a Slack user ID (`U012ABC`) or `local:NAME`.
    public var person: String
    public var scope: WebScope
    /// Sent back with every form of this session; a form without it changes nothing.
    public var csrfToken: String
    public var createdAt: Date
    public var lastSeenAt: Date

    public init(id: Int64, person: String, scope: WebScope, csrfToken: String, createdAt: Date, lastSeenAt: Date) {
        self.id = id
        self.person = person
        self.scope = scope
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }

    /// The person as the use cases see them: a Slack user, or a local person.
    public var actor: Actor {
        person.hasPrefix(Self.localPrefix)
            ? .local(String(person.dropFirst(Self.localPrefix.count)), admin: scope == .admin) : .slackUser(person)
    }

    public static let localPrefix = "local:"
}

/// Why a one-time login link signs nobody in.
public enum LoginRefusal: String, Error, Sendable, Equatable {
    /// No such link was ever made (or the text was mangled).
    case unknown
    /// It signed someone in already: each link works once.
    case used
    /// Its 10 minutes are over.
    case expired

    /// A sentence for the person holding the link.
    public var sentence: String {
        switch self {
        case .unknown: "This sign-in link is not one Gatehouse made. Ask for a new one."
        case .used: "This sign-in link was used already; each link signs in once. Ask for a new one."
        case .expired: "This sign-in link has expired; links are valid for 10 minutes. Ask for a new one."
        }
    }

    /// Why a link that exists signs nobody in, from its row: used, expired, or nil when it may be used now.
    public static func of(usedAt: Int64?, expiresAt: Int64, now: Date) -> LoginRefusal? {
        if usedAt != nil { .used } else if expiresAt <= now.millisecondsSince1970 { .expired } else { nil }
    }
}

/// The audit entries of sign-in links and sessions, the same from every storage engine.
extension AuditEvent {
    public static func loginLinkCreated(for person: String, scope: WebScope, by actor: String) -> AuditEvent {
        AuditEvent(.loginLinkCreated, actor: actor, details: ["for": .string(person), "scope": .string(scope.rawValue)])
    }

    /// The token itself is a secret: only a prefix of its digest is kept, to tell attempts apart.
    public static func signInRefused(_ refusal: LoginRefusal, linkDigest: String, person: String) -> AuditEvent {
        AuditEvent(
            .signInRefused, actor: person,
            details: ["reason": .string(refusal.rawValue), "link": .string(String(linkDigest.prefix(12))), "for": .string(person)])
    }

    public static func signedIn(_ person: String, session: Int64, scope: WebScope) -> AuditEvent {
        AuditEvent(.signedIn, actor: person, details: ["session": .number(Double(session)), "scope": .string(scope.rawValue)])
    }

    public static func signedOut(session: Int64, by actor: String) -> AuditEvent {
        AuditEvent(.signedOut, actor: actor, details: ["session": .number(Double(session))])
    }

    /// Session `session` ended by `actor`; `person` when all of someone's sessions were ended.
    public static func sessionRevoked(_ session: Int64, person: String?, by actor: String) -> AuditEvent {
        var details: [String: JSONValue] = ["session": .number(Double(session))]
        if let person { details["person"] = .string(person) }
        return AuditEvent(.sessionRevoked, actor: actor, details: details)
    }
}

/// Web sessions and the one-time links that start them. Each method is one transaction, with its audit entry.
public protocol WebSessionStore: Sendable {
    /// Makes a link token for `person` valid for `lifetime`, audited as made by `actor`; returns it in plain text, once.
    func createLoginLink(for person: String, scope: WebScope, lifetime: TimeInterval, by actor: String) async throws -> String
    /// Uses up a link token and starts a session: the session and its secret (for the cookie), or why not. A sign-in
    /// and the refusal of a used or expired link are audited; an unknown token is left to the caller to count.
    func redeemLoginLink(_ token: String) async throws -> Result<(session: WebSession, secret: String), LoginRefusal>
    /// The live session whose secret is `secret`: neither revoked nor idle for `idleTimeout`. Marks it seen.
    func session(_ secret: String, idleTimeout: TimeInterval) async throws -> WebSession?
    /// Ends one session (sign-out), audited.
    func endSession(_ id: Int64, by actor: String) async throws
    /// Sessions neither ended nor idle for `idleTimeout`, newest first.
    func liveSessions(idleTimeout: TimeInterval) async throws -> [WebSession]
    /// Ends every session of `person` (or the one with id `id`), audited as `actor`; returns how many.
    func revokeSessions(person: String?, id: Int64?, by actor: String) async throws -> Int
}
