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

    public init(
        by: String, byName: String? = nil, verdict: Verdict, reason: String? = nil, reasonCode: String? = nil,
        payloadSHA256: String, at: Date
    ) {
        self.by = by
        self.byName = byName
        self.verdict = verdict
        self.reason = reason
        self.reasonCode = reasonCode
        self.payloadSHA256 = payloadSHA256
        self.at = at
    }
}
