import Foundation
import Signing

/// Where an approval stands. Once it leaves `pending` it never changes again.
public enum ApprovalStatus: String, Sendable, Codable, CaseIterable {
    case pending, approved, modified, rejected, expired, cancelled

    /// Whether the requester may go ahead (`modified`: with the decision's payload, never the original).
    public var isApproved: Bool { self == .approved || self == .modified }
}

public enum Risk: String, Sendable, Codable, CaseIterable {
    case low, medium, high, critical
}

/// An unguessable, URL-safe approval identifier: `apr_` and 128 random bits.
public struct ApprovalID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A new id: `apr_`, the creation time, then 96 random bits, all URL-safe.
    ///
    /// The time comes first, in an alphabet whose ASCII order is its numeric order, so ids sort by creation time and
    /// each new one lands at the end of the id index instead of on a random page: a create then dirties the same few
    /// index pages as the creates committed with it. The 96 random bits keep ids unguessable.
    public static func random(at now: Date = Date()) -> ApprovalID {
        let milliseconds = UInt64(max(0, (now.timeIntervalSince1970 * 1000).rounded(.down)))
        return ApprovalID(rawValue: "apr_" + sortableTime(milliseconds) + SecureRandom.urlSafeToken(byteCount: 12))
    }

    /// `-0-9A-Z_a-z`: the base64url characters in ASCII order.
    private static let sortableDigits = Array("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".utf8)

    /// 48 bits (milliseconds until the year 10889), most significant digit first, 8 characters.
    static func sortableTime(_ milliseconds: UInt64) -> String {
        var digits = [UInt8](repeating: 0, count: 8)
        var rest = milliseconds & 0xFFFF_FFFF_FFFF
        for index in stride(from: 7, through: 0, by: -1) {
            digits[index] = sortableDigits[Int(rest & 63)]
            rest >>= 6
        }
        return String(decoding: digits, as: UTF8.self)
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The final word on an approval: who decided what, when and why, and the payload decided on.
public struct Decision: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case approved, modified, rejected, expired, cancelled
    }

    public var outcome: Outcome
    /// A Slack user ID, `key:<name>` for the API, `policy:<rule>`, or `system:timeout`.
    public var by: String
    public var byName: String?
    public var at: Date
    public var reason: String?
    public var reasonCode: String?
    /// The payload the decision covers: the original one, or the edited one for `modified`.
    public var payload: JSONValue
    public var payloadSHA256: String
    /// Approved at once by someone breaking the glass (CONTRACT.md §7), to be reviewed by an admin.
    public var breakGlass: Bool

    public init(
        outcome: Outcome, by: String, byName: String? = nil, at: Date, reason: String? = nil,
        reasonCode: String? = nil, payload: JSONValue, payloadSHA256: String, breakGlass: Bool = false
    ) {
        self.breakGlass = breakGlass
        self.outcome = outcome
        self.by = by
        self.byName = byName
        self.at = at
        self.reason = reason
        self.reasonCode = reasonCode
        self.payload = payload
        self.payloadSHA256 = payloadSHA256
    }
}

/// A request for approval of one exact operation, bound to its payload by `payloadSHA256`.
public struct Approval: Sendable, Equatable {
    public var id: ApprovalID
    public var status: ApprovalStatus
    public var action: String
    public var payload: JSONValue
    public var payloadSHA256: String
    public var reasoning: String?
    public var consequences: String?
    public var onReject: String?
    public var risk: Risk
    public var gate: String
    public var requester: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var escalationLevel: Int
    public var decision: Decision?
    public var callbackURL: String?
    /// The name of the API key that filed it, as the audit log names it.
    public var ownerKey: String?
    /// The identity of the API key that filed it (`APIKey.id`): the key that owns it, which a `request` key must be to
    /// see it, and any key but `admin` to verify it.
    public var ownerKeyID: Int64?
    /// When a `verify` with `consume` used the approval up.
    public var consumedAt: Date?
    /// The gate's chain as it was when the request was filed; later edits of the chain never change it.
    public var chain: EscalationChain
    /// When the current escalation level started (its SLA counts from here).
    public var levelStartedAt: Date
    /// While pending: when the scheduler must look at it next (the level's SLA or `expiresAt`, whichever is first).
    public var nextDeadline: Date
    /// Every say on it so far, oldest first: one row per person (see `Vote`).
    public var votes: [Vote]
    /// The policy rule it matched at submit, with its parameters then; `nil`: one approval from the chain.
    public var policy: AppliedPolicy?
    /// Under a quorum, the payload a Modify put to the vote in place of the original (which stays as filed).
    public var amendedPayload: JSONValue?
    /// How many changes were committed to it: a vote that leaves it pending still moves it on, so two concurrent
    /// votes cannot both count on the state before them. Kept by the repository.
    public var revision: Int

    /// The payload being decided on now: the amended one, else the original.
    public var currentPayload: JSONValue { amendedPayload ?? payload }

    /// When it stops waiting if nobody decides: the end of its chain (`then reject` or `then approve`) or
    /// `expires_at`, whichever comes first; `expires_at` for the default chain and `then hold`.
    public var decideBy: Date {
        guard chain != .default, chain.finalAction != .hold, !chain.levels.isEmpty else { return expiresAt }
        var end = levelStartedAt
        for level in max(1, escalationLevel)...max(1, chain.levels.count) {
            end = end.addingTimeInterval(chain.level(level).sla)
        }
        return min(end, expiresAt)
    }

    public init(
        id: ApprovalID, status: ApprovalStatus = .pending, action: String, payload: JSONValue,
        reasoning: String? = nil, consequences: String? = nil, onReject: String? = nil, risk: Risk = .medium,
        gate: String = "default", requester: String? = nil, createdAt: Date, expiresAt: Date,
        escalationLevel: Int = 1, decision: Decision? = nil, callbackURL: String? = nil, ownerKey: String? = nil,
        ownerKeyID: Int64? = nil, consumedAt: Date? = nil, chain: EscalationChain = .default, levelStartedAt: Date? = nil, nextDeadline: Date? = nil,
        votes: [Vote] = [], policy: AppliedPolicy? = nil, amendedPayload: JSONValue? = nil, revision: Int = 0,
        payloadSHA256: String? = nil
    ) {
        self.policy = policy
        self.amendedPayload = amendedPayload
        self.revision = revision
        self.id = id
        self.status = status
        self.action = action
        self.payload = payload
        // A stored approval brings the digest it was bound to; a new one has it computed here.
        self.payloadSHA256 = payloadSHA256 ?? CanonicalJSON.sha256(of: payload)
        self.reasoning = reasoning
        self.consequences = consequences
        self.onReject = onReject
        self.risk = risk
        self.gate = gate
        self.requester = requester
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.escalationLevel = escalationLevel
        self.decision = decision
        self.callbackURL = callbackURL
        self.ownerKey = ownerKey
        self.ownerKeyID = ownerKeyID
        self.consumedAt = consumedAt
        self.chain = chain
        self.levelStartedAt = levelStartedAt ?? createdAt
        self.nextDeadline = nextDeadline ?? expiresAt
        self.votes = votes
    }

    /// Those of `approvers` who may be called on to decide: all but the requester, who never decides their own
    /// request, even when the chain names them.
    public func withoutRequester(_ approvers: [EscalationChain.Approver]) -> [EscalationChain.Approver] {
        guard let requester else { return approvers }
        return approvers.filter { approver in
            guard case .user(let id) = approver else { return true }
            return !PersonName.same(id, requester)
        }
    }

    /// Whether the level reached names people and every one of them is the requester: nobody there may decide, so the
    /// request does not wait for that level's SLA (an agent naming an approver as its requester cannot hold a request
    /// at their level).
    public var levelNamesOnlyTheRequester: Bool {
        guard chain != .default, !chain.levels.isEmpty else { return false }
        let approvers = chain.level(escalationLevel).approvers
        return !approvers.isEmpty && withoutRequester(approvers).isEmpty
    }
}
