import Foundation

/// A new request as an agent or pipeline files it, before it becomes an `Approval`.
public struct ApprovalRequest: Sendable, Equatable {
    public static let actionLimit = 150
    public static let textLimit = 20_000
    public static let expiresInRange = 60...(30 * 86_400)
    public static let defaultExpiresIn = 86_400

    public var action: String
    public var payload: JSONValue
    public var reasoning: String?
    public var consequences: String?
    public var onReject: String?
    public var risk: Risk
    public var gate: String
    public var requester: String?
    public var expiresIn: Int?
    public var callbackURL: String?
    /// The one person asked, instead of the gate's chain (the Cosignet-compatible API): they alone may decide in Slack,
    /// until the request expires. Policies apply as to any request.
    public var onlyApprover: EscalationChain.Approver?

    public init(
        action: String, payload: JSONValue, reasoning: String? = nil, consequences: String? = nil,
        onReject: String? = nil, risk: Risk = .medium, gate: String = "default", requester: String? = nil,
        expiresIn: Int? = nil, callbackURL: String? = nil, onlyApprover: EscalationChain.Approver? = nil
    ) {
        self.action = action
        self.payload = payload
        self.reasoning = reasoning
        self.consequences = consequences
        self.onReject = onReject
        self.risk = risk
        self.gate = gate
        self.requester = requester
        self.expiresIn = expiresIn
        self.callbackURL = callbackURL
        self.onlyApprover = onlyApprover
    }

    /// The request as `actor` files it: with no `requester` named, a key's person (the one it was created `--for`), else
    /// the key's name, asks; so a policy's `requester` condition, the message and the self-approval rule see who filed it.
    public func filed(by actor: Actor) -> ApprovalRequest {
        guard requester == nil, case .key(let key, _) = actor else { return self }
        var filed = self
        filed.requester = key.boundTo ?? key.name
        return filed
    }

    /// Checks every field; the first problem found is thrown as `.invalidField(name, sentence)`.
    public func validate() throws(ApprovalError) {
        let trimmed = action.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { throw .invalidField("action", "`action` must not be empty.") }
        if action.count > Self.actionLimit {
            throw .invalidField("action", "`action` is \(action.count) characters; at most \(Self.actionLimit) are allowed.")
        }
        if action.contains(where: \.isNewline) { throw .invalidField("action", "`action` must be one line.") }
        if payload.objectValue == nil { throw .invalidField("payload", "`payload` must be a JSON object.") }
        for (name, value) in [("reasoning", reasoning), ("consequences", consequences), ("on_reject", onReject)] {
            if let value, value.count > Self.textLimit {
                throw .invalidField(name, "`\(name)` is longer than \(Self.textLimit) characters.")
            }
        }
        if !Self.isValidGateName(gate) {
            throw .invalidField("gate", "`gate` must be 1–64 characters of a–z, 0–9, `-`, `_` or `.`.")
        }
        if let requester, requester.isEmpty || requester.count > 200 {
            throw .invalidField("requester", "`requester` must be 1–200 characters.")
        }
        if let expiresIn, !Self.expiresInRange.contains(expiresIn) {
            throw .invalidField("expires_in", "`expires_in` must be between 60 seconds and 30 days (2592000).")
        }
        if let onlyApprover, !onlyApprover.isValid {
            throw .invalidField("username", "`\(onlyApprover.id)` is not a Slack user ID.")
        }
        if let callbackURL {
            guard let url = URL(string: callbackURL), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host?.isEmpty == false, callbackURL.count <= 2048
            else {
                throw .invalidField("callback_url", "`callback_url` must be an absolute http or https URL.")
            }
        }
    }

    public static func isValidGateName(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    /// How long a request lives when it gives no `expires_in`: 24 h, or long enough for every level of its chain
    /// to have its turn (at most 30 days).
    public static func defaultLifetime(for chain: EscalationChain) -> TimeInterval {
        let chainLength = chain == .default ? 0 : chain.levels.reduce(0) { $0 + $1.sla }
        return min(max(TimeInterval(defaultExpiresIn), chainLength), TimeInterval(expiresInRange.upperBound))
    }

    /// The chain a request runs under: one level of `onlyApprover` alone, lasting until the request expires, when one is
    /// named; else `gateChain`, the snapshot of its gate's (or its policy's) chain.
    public func chain(else gateChain: EscalationChain) -> EscalationChain {
        guard let onlyApprover else { return gateChain }
        let lifetime = TimeInterval(expiresIn ?? Self.defaultExpiresIn)
        return EscalationChain(name: gate, levels: [.init(approvers: [onlyApprover], sla: lifetime)], finalAction: .reject)
    }

    /// The approval this request becomes, at `now`, under `chain` (see ``chain(else:)``).
    public func approval(
        id: ApprovalID, ownerKey: String?, ownerKeyID: Int64? = nil, at now: Date, chain: EscalationChain = .default,
        policy: AppliedPolicy? = nil
    ) -> Approval {
        let now = now.truncatedToMilliseconds
        let lifetime = expiresIn.map(TimeInterval.init) ?? Self.defaultLifetime(for: chain)
        let expiresAt = now.addingTimeInterval(lifetime)
        let firstDeadline: Date
        switch chain.step(level: 1, risk: risk, levelStartedAt: now, now: now, expiresAt: expiresAt) {
        case .wait(let until): firstDeadline = until
        default: firstDeadline = expiresAt
        }
        // A `notify` request approves itself at the end of its window, unless it expires first.
        let windowEnd = policy?.notifyWindow.map { min(now.addingTimeInterval($0), expiresAt) }
        return Approval(
            id: id, action: action, payload: payload, reasoning: reasoning, consequences: consequences,
            onReject: onReject, risk: risk, gate: gate, requester: requester, createdAt: now,
            expiresAt: expiresAt, callbackURL: callbackURL, ownerKey: ownerKey, ownerKeyID: ownerKeyID, chain: chain,
            levelStartedAt: now, nextDeadline: windowEnd.map { min($0, firstDeadline) } ?? firstDeadline, policy: policy
        ).dueAtOnceIfOnlyTheRequester(at: now)
    }
}
