import Foundation

/// One person's say on an approval, stored as a row of its own: the decision of a request that needs one approval
/// is its first vote; a quorum reads several.
public struct Vote: Sendable, Equatable {
    public enum Verdict: String, Sendable, Codable {
        case approve, reject, modify
    }

    /// As `Actor.id` writes it.
    public var by: String
    public var byName: String?
    public var verdict: Verdict
    public var reason: String?
    public var reasonCode: String?
    /// The digest of the payload voted on: the edited one for `modify`.
    public var payloadSHA256: String
    public var at: Date
    /// The roles of the request's rule the voter held when voting (see `AppliedPolicy`).
    public var roles: [String]
    /// When a Modify replaced the payload this approval was for: it no longer counts.
    public var withdrawnAt: Date?

    public init(
        by: String, byName: String? = nil, verdict: Verdict, reason: String? = nil, reasonCode: String? = nil,
        payloadSHA256: String, at: Date, roles: [String] = [], withdrawnAt: Date? = nil
    ) {
        self.roles = roles
        self.withdrawnAt = withdrawnAt
        self.by = by
        self.byName = byName
        self.verdict = verdict
        self.reason = reason
        self.reasonCode = reasonCode
        self.payloadSHA256 = payloadSHA256
        self.at = at
    }

    /// Whether it counts towards a quorum: an approval (or a Modify) not withdrawn since.
    public var countsAsApproval: Bool { withdrawnAt == nil && verdict != .reject }
}
