import Foundation
import Signing

/// What an API key may do (CONTRACT.md §2).
public enum APIKeyScope: String, Sendable, Codable, CaseIterable {
    /// Create approvals, and read, cancel and verify its own.
    case request
    /// Also read every approval and decide pending ones.
    case decide
    /// Everything.
    case admin

    public var canDecide: Bool { self != .request }
    public var seesEverything: Bool { self != .request }
}

/// A stored API key: its identity, name and scope. The key itself is never stored, only its SHA-256.
///
/// The identity (`id`) owns the requests a key files: a name can be used again once its key is revoked, and the new
/// key is a stranger to the old one's requests.
public struct APIKey: Sendable, Equatable {
    /// Unique, never reused.
    public var id: Int64
    public var name: String
    public var scope: APIKeyScope
    public var createdAt: Date
    public var revokedAt: Date?
    /// The one person a `decide` key decides for (a name or a Slack user ID), when it was created for one.
    public var boundTo: String?
    /// Created with `--break-glass`: it may approve at once in an emergency (CONTRACT.md §7).
    public var breakGlass: Bool
    /// When a request last authenticated with it, to the minute (recorded in batches; `nil`: never).
    public var lastUsedAt: Date?

    public init(
        id: Int64 = 0, name: String, scope: APIKeyScope, createdAt: Date = Date(timeIntervalSince1970: 0),
        revokedAt: Date? = nil, boundTo: String? = nil, breakGlass: Bool = false
    ) {
        self.breakGlass = breakGlass
        self.id = id
        self.name = name
        self.scope = scope
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.boundTo = boundTo
    }

    /// How it appears as an actor: `key:<name>`.
    public var actor: String { "key:\(name)" }

    /// Whether this key filed `approval`: by identity; by name only for a request filed before keys had one.
    public func filed(_ approval: Approval) -> Bool {
        if let owner = approval.ownerKeyID { return owner == id }
        return approval.ownerKey == name
    }

    /// Whether this key may see (and so act on) `approval`.
    public func maySee(_ approval: Approval) -> Bool {
        scope.seesEverything || filed(approval)
    }

    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
            }
    }

    /// A new key's secret (`gh_` and 256 random bits), and the SHA-256 that is all a store keeps of it.
    public static func newSecret() -> (secret: String, digest: String) {
        let secret = "gh_" + SecureRandom.urlSafeToken(byteCount: 32)
        return (secret, SHA256.hexDigest(of: secret))
    }
}
