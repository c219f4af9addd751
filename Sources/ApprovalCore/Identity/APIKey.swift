import Foundation

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

/// A stored API key: its name and scope. The key itself is never stored, only its SHA-256.
public struct APIKey: Sendable, Equatable {
    public var name: String
    public var scope: APIKeyScope
    public var createdAt: Date
    public var revokedAt: Date?

    public init(name: String, scope: APIKeyScope, createdAt: Date = Date(timeIntervalSince1970: 0), revokedAt: Date? = nil) {
        self.name = name
        self.scope = scope
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// How it appears as an actor: `key:<name>`.
    public var actor: String { "key:\(name)" }

    /// Whether this key may see (and so act on) `approval`.
    public func maySee(_ approval: Approval) -> Bool {
        scope.seesEverything || approval.ownerKey == name
    }

    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
            }
    }
}
