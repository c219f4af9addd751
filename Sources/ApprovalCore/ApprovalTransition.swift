import Foundation

/// What must happen because an approval changed; committed together with the change.
public enum ApprovalEffect: Sendable, Equatable {
    /// Append this to the audit log.
    case audit(AuditEvent)
    /// Deliver the decided approval to the requester's `callback_url`.
    case deliverCallback(url: String)
    /// Answer everyone holding a long-poll on it.
    case wakeWaiters
    /// Tell the approvers of `level` (in the request's thread and by DM) that it is their turn; `repeated` when the
    /// last level of a `hold` chain is asked again.
    case notifyApprovers(level: Int, repeated: Bool)
}

/// The result of a pure transition: the approval before and after, and the effects to commit with it.
public struct ApprovalTransition: Sendable, Equatable {
    public var before: Approval?
    public var after: Approval
    public var effects: [ApprovalEffect]

    public var auditEvents: [AuditEvent] {
        effects.compactMap { if case .audit(let event) = $0 { event } else { nil } }
    }
}

/// What a decider asks for.
public struct DecisionCommand: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        case approve
        case reject
        /// Approve with an edited payload (a JSON object).
        case modify(JSONValue)
    }

    public var verdict: Verdict
    public var by: String
    public var byName: String?
    public var reason: String?
    public var reasonCode: String?
    /// For a decision by a Slack user: the members of the user groups the request's chain names, so the decider is
    /// checked against the approvers of the level reached. `nil` for a decision through the API, whose `decide` key
    /// is its authority.
    public var groupMembers: [String: Set<String>]?

    public init(
        _ verdict: Verdict, by: String, byName: String? = nil, reason: String? = nil, reasonCode: String? = nil,
        groupMembers: [String: Set<String>]? = nil
    ) {
        self.verdict = verdict
        self.by = by
        self.byName = byName
        self.reason = reason
        self.reasonCode = reasonCode
        self.groupMembers = groupMembers
    }
}

extension Approval {
    /// A new approval's creation.
    public func submitted() -> ApprovalTransition {
        var details: [String: JSONValue] = [
            "action": .string(action), "payload_sha256": .string(payloadSHA256), "gate": .string(gate),
            "risk": .string(risk.rawValue), "expires_at": .string(RFC3339.string(from: expiresAt)),
        ]
        if let requester { details["requester"] = .string(requester) }
        let actor = ownerKey.map { "key:\($0)" } ?? requester ?? "anonymous"
        return ApprovalTransition(
            before: nil, after: self, effects: [.audit(AuditEvent(.created, approvalID: id, actor: actor, details: details))]
        )
    }

    /// Records a decision by a Slack user, who must be an approver of the level reached. Every other refusal (own
    /// request, decided, expired) comes first, so no group lookup stands in front of them; then `groupMembers` is
    /// asked for the groups of the levels reached, and only when the user is not named directly. Its errors
    /// propagate, and nothing is decided (fail closed).
    public func deciding(
        _ command: DecisionCommand, at now: Date, groupMembers: ([String]) async throws -> [String: Set<String>]
    ) async throws -> ApprovalTransition {
        var command = command
        let groups = chain.groupsToCheck(for: command.by, atLevel: escalationLevel)
        if !groups.isEmpty {
            command.groupMembers = nil
            _ = try deciding(command, at: now)
        }
        command.groupMembers = groups.isEmpty ? [:] : try await groupMembers(groups)
        return try deciding(command, at: now)
    }

    /// Records a decision. Refused when it is no longer pending, past its deadline, or asked by its requester.
    public func deciding(_ command: DecisionCommand, at now: Date) throws(ApprovalError) -> ApprovalTransition {
        try requirePending(at: now)
        if let requester, requester == command.by || requester == command.byName {
            throw .selfApproval
        }
        // The key that filed the request cannot decide it either, whoever it says it acts as.
        if let ownerKey, command.by == "key:\(ownerKey)" {
            throw .selfApproval
        }
        if let members = command.groupMembers, !chain.mayDecide(user: command.by, atLevel: escalationLevel, groupMembers: members) {
            let approvers = withoutRequester(chain.approvers(upTo: escalationLevel))
            throw .notApprover(level: escalationLevel, of: chain.levels.count, approvers: approvers)
        }
        let outcome: Decision.Outcome
        var decidedPayload = payload
        switch command.verdict {
        case .approve: outcome = .approved
        case .reject: outcome = .rejected
        case .modify(let edited):
            guard edited.objectValue != nil else { throw .invalidField("payload", "The edited payload must be a JSON object.") }
            outcome = .modified
            decidedPayload = edited
        }
        let decision = Decision(
            outcome: outcome, by: command.by, byName: command.byName, at: now, reason: command.reason,
            reasonCode: command.reasonCode, payload: decidedPayload, payloadSHA256: CanonicalJSON.sha256(of: decidedPayload)
        )
        return leaving(to: ApprovalStatus(rawValue: outcome.rawValue)!, with: decision, event: .decided)
    }

    /// The requester withdraws it.
    public func cancelling(by actor: String, reason: String? = nil, at now: Date) throws(ApprovalError) -> ApprovalTransition {
        try requirePending(at: now)
        let decision = Decision(
            outcome: .cancelled, by: actor, at: now, reason: reason, payload: payload, payloadSHA256: payloadSHA256
        )
        return leaving(to: .cancelled, with: decision, event: .cancelled)
    }

    /// Expires it when its deadline has passed; `nil` when it is not due or not pending.
    public func expiring(at now: Date) -> ApprovalTransition? {
        guard status == .pending, now >= expiresAt else { return nil }
        // It expired at `expiresAt`, whenever that is noticed (after a restart, say): from then on nothing may use it.
        let decision = Decision(
            outcome: .expired, by: "system:timeout", at: expiresAt, reason: "No decision before the deadline.",
            payload: payload, payloadSHA256: payloadSHA256
        )
        return leaving(to: .expired, with: decision, event: .expired)
    }

    /// The `escalated` entry for asking `level` (again, when `repeated`): the missed SLA in seconds and the approvers
    /// asked as `{"user": …}` / `{"group": …}`, as chains are written in `config_changed` entries.
    func escalationAudit(to level: Int, repeated: Bool, next: Date) -> AuditEvent {
        var details: [String: JSONValue] = [
            "from_level": .number(Double(escalationLevel)), "to_level": .number(Double(level)),
            "levels": .number(Double(chain.levels.count)), "chain": .string(chain.name),
            "sla": .number(chain.level(escalationLevel).sla),
            "approvers": .array(chain.level(level).approvers.map(\.json)),
            "next_deadline": .string(RFC3339.string(from: next)),
        ]
        if repeated { details["repeated"] = .bool(true) }
        return AuditEvent(.escalated, approvalID: id, actor: "system:escalation", details: details)
    }

    /// What the scheduler does when `nextDeadline` has come: escalate to the next level, ask the last level again
    /// (`hold`), apply the chain's final action, or expire at `expiresAt`. `nil` when it is not pending or not due.
    ///
    /// One step at a time: after a restart, call it again on the result until it returns `nil`, so each overdue
    /// level fires once, in order.
    public func advancing(at now: Date) -> ApprovalTransition? {
        guard status == .pending, now >= nextDeadline else { return nil }
        switch chain.step(level: escalationLevel, risk: risk, levelStartedAt: levelStartedAt, now: now, expiresAt: expiresAt) {
        case .wait(let until):
            // A deadline written by an older version, or for a level whose SLA changed shape: reschedule quietly.
            guard until > now else { return nil }
            var after = self
            after.nextDeadline = until
            return ApprovalTransition(before: self, after: after, effects: [])
        case .escalate(let level, let next):
            var after = self
            after.escalationLevel = level
            after.levelStartedAt = chain.deadline(ofLevel: escalationLevel, startedAt: levelStartedAt)
            after.nextDeadline = next
            return ApprovalTransition(
                before: self, after: after,
                effects: [.audit(escalationAudit(to: level, repeated: false, next: next)),
                          .notifyApprovers(level: level, repeated: false)])
        case .repingLast(let next):
            var after = self
            after.nextDeadline = next
            return ApprovalTransition(
                before: self, after: after,
                effects: [.audit(escalationAudit(to: escalationLevel, repeated: true, next: next)),
                          .notifyApprovers(level: escalationLevel, repeated: true)])
        case .expire:
            if now >= expiresAt { return expiring(at: now) }
            let ending = chain.finalAction == .approve
                ? "it ends with `then approve`, which approves low-risk requests only, and this one is \(risk.rawValue) risk."
                : "it ends with `then \(chain.finalAction.rawValue)`."
            // Expired when its chain ended, even if that is noticed later. (`then approve` below takes effect only
            // when it is recorded: nothing may have run on it before.)
            let decision = Decision(
                outcome: .expired, by: "system:timeout", at: min(now, nextDeadline),
                reason: "No decision after the last level of the `\(chain.name)` chain; " + ending,
                payload: payload, payloadSHA256: payloadSHA256
            )
            return leaving(to: .expired, with: decision, event: .expired)
        case .approve:
            let decision = Decision(
                outcome: .approved, by: "policy:then-approve", at: now,
                reason: "No decision after the last level of the `\(chain.name)` chain, which approves low-risk requests.",
                payload: payload, payloadSHA256: payloadSHA256
            )
            return leaving(to: .approved, with: decision, event: .decided)
        }
    }

    /// Checks that `candidate` is what was approved; with `consume`, uses the approval up.
    public func verifying(
        _ candidate: JSONValue, consume: Bool, by actor: String, at now: Date
    ) throws(ApprovalError) -> ApprovalTransition {
        guard let decision, status.isApproved else {
            if status == .pending && now >= expiresAt { throw .expired }
            if status == .expired { throw .expired }
            throw .notApproved(status)
        }
        let digest = CanonicalJSON.sha256(of: candidate)
        guard digest == decision.payloadSHA256 else {
            throw .payloadMismatch(expected: decision.payloadSHA256, actual: digest)
        }
        if let consumedAt { throw .alreadyConsumed(consumedAt) }
        var after = self
        let details: [String: JSONValue] = ["payload_sha256": .string(digest)]
        var effects: [ApprovalEffect] = [.audit(AuditEvent(.verified, approvalID: id, actor: actor, details: details))]
        if consume {
            after.consumedAt = now
            effects.append(.audit(AuditEvent(.consumed, approvalID: id, actor: actor, details: details)))
        }
        return ApprovalTransition(before: self, after: after, effects: effects)
    }

    private func requirePending(at now: Date) throws(ApprovalError) {
        if let decision, status != .pending { throw .alreadyDecided(decision) }
        if now >= expiresAt { throw .expired }
    }

    private func leaving(to status: ApprovalStatus, with decision: Decision, event: AuditEvent.Kind) -> ApprovalTransition {
        var after = self
        after.status = status
        after.decision = decision
        var details: [String: JSONValue] = [
            "outcome": .string(decision.outcome.rawValue), "payload_sha256": .string(decision.payloadSHA256),
        ]
        if let name = decision.byName { details["by_name"] = .string(name) }
        if let reason = decision.reason { details["reason"] = .string(reason) }
        if let code = decision.reasonCode { details["reason_code"] = .string(code) }
        var effects: [ApprovalEffect] = [.audit(AuditEvent(event, approvalID: id, actor: decision.by, details: details))]
        effects.append(.wakeWaiters)
        if let callbackURL { effects.append(.deliverCallback(url: callbackURL)) }
        return ApprovalTransition(before: self, after: after, effects: effects)
    }
}
