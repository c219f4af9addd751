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

    /// `after` is one revision on from `before` (see `Approval.revision`).
    public init(before: Approval?, after: Approval, effects: [ApprovalEffect]) {
        var after = after
        if let before { after.revision = before.revision + 1 }
        self.before = before
        self.after = after
        self.effects = effects
    }

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
    /// Who decides, as an adapter established it: for a Slack user, with the groups they were found in.
    public var by: Actor
    public var reason: String?
    public var reasonCode: String?

    public init(_ verdict: Verdict, by: Actor, reason: String? = nil, reasonCode: String? = nil) {
        self.verdict = verdict
        self.by = by
        self.reason = reason
        self.reasonCode = reasonCode
    }
}

extension Actor {
    /// Refuses an actor that may never decide, whatever the approval: an API key without the decide scope, and a key
    /// created for one person that names another with `as`.
    public func checkMayDecide() throws(ApprovalError) {
        guard case .key(let key, let actingFor) = self else { return }
        if !key.scope.canDecide { throw .forbidden("Deciding needs a key with the decide or admin scope.") }
        if let bound = key.boundTo, let actingFor, !PersonName.same(actingFor, bound) {
            throw .forbidden("This key decides for \(bound) only; leave `as` out, or name them.")
        }
    }

    /// Whether this actor may see (and so act on) `approval`: a `request` key sees only the approvals it filed.
    public func maySee(_ approval: Approval) -> Bool {
        if case .key(let key, _) = self { return key.maySee(approval) }
        return true
    }

    /// Whether this actor may verify (and consume) `approval`: only the key that filed it, or an `admin` key; to any
    /// other key it is unknown, as to a reader that may not see it.
    public func mayVerify(_ approval: Approval) -> Bool {
        if case .key(let key, _) = self { return key.scope == .admin || key.filed(approval) }
        return true
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

    /// Whether `decider` may decide now, in the order the refusals are given: never (a key without the decide scope),
    /// no longer (decided, past its deadline), not their own request (the requester, or the key that filed it,
    /// whoever it acts for), and for a Slack user, only as an approver of the level the request has reached.
    public func checkDecider(_ decider: Actor, at now: Date) throws(ApprovalError) {
        try decider.checkMayDecide()
        try requirePending(at: now)
        try checkNotOwn(decider)
        if case .slackUser(let user, _, let groups) = decider,
            !chain.mayDecide(user: user, atLevel: escalationLevel, memberOf: groups), roles(of: decider).isEmpty
        {
            var seen: Set<EscalationChain.Approver> = []
            let approvers = (chain.approvers(upTo: escalationLevel) + roleMembers).filter { seen.insert($0).inserted }
            throw .notApprover(level: escalationLevel, of: chain.levels.count, approvers: withoutRequester(approvers))
        }
    }

    /// Under a quorum, each person approves or rejects once; a Modify is allowed after their approval (it withdraws
    /// it, and counts as their approval of the edited payload).
    public func checkSecondVote(_ command: DecisionCommand) throws(ApprovalError) {
        guard policy?.isQuorum == true else { return }
        if case .modify = command.verdict { return }
        if let earlier = votes.last(where: { $0.withdrawnAt == nil && PersonName.same($0.by, command.by.id) }) {
            throw .alreadyVoted(earlier)
        }
    }

    /// The requester never decides their own request: not by their id or their name however it is spelled (see
    /// `PersonName`), nor through the key that filed it.
    private func checkNotOwn(_ decider: Actor) throws(ApprovalError) {
        if let requester {
            if PersonName.same(requester, decider.id) { throw .selfApproval }
            if let name = decider.name, PersonName.same(requester, name) { throw .selfApproval }
        }
        if case .key(let key, _) = decider, key.filed(self) { throw .selfApproval }
    }

    /// The user groups whose membership an adapter must find out before Slack user `user` (named `name`) can be
    /// checked, so that a lookup never stands in front of another refusal: none when the request refuses them
    /// anyway (decided, expired, their own) or names them directly (or has an open level), else the groups of the
    /// levels reached so far.
    public func groupsToResolve(for user: String, name: String?, at now: Date) -> [String] {
        let candidate = Actor.slackUser(user, name: name)
        do throws(ApprovalError) {
            try requirePending(at: now)
            try checkNotOwn(candidate)
        } catch {
            return []
        }
        let chainGroups = chain.groupsToCheck(for: user, atLevel: escalationLevel)
        let roleGroups = policy?.roles.flatMap(\.groups) ?? []
        var seen: Set<String> = []
        return (chainGroups + roleGroups).filter { seen.insert($0).inserted }
    }

    /// Records a decision: the decider's vote, and the decision it completes. Without a quorum one approval (or one
    /// rejection) decides; under one (see `voting`) an approval may only add a vote.
    public func deciding(_ command: DecisionCommand, at now: Date) throws(ApprovalError) -> ApprovalTransition {
        try checkDecider(command.by, at: now)
        if let policy, policy.isQuorum {
            try checkSecondVote(command)
            return try voting(command, at: now)
        }
        let verdict: Vote.Verdict
        var decidedPayload = payload
        switch command.verdict {
        case .approve: verdict = .approve
        case .reject: verdict = .reject
        case .modify(let edited):
            guard edited.objectValue != nil else { throw .invalidField("payload", "The edited payload must be a JSON object.") }
            verdict = .modify
            decidedPayload = edited
        }
        let digest = decidedPayload == payload ? payloadSHA256 : CanonicalJSON.sha256(of: decidedPayload)
        let vote = Vote(
            by: command.by.id, byName: command.by.name, verdict: verdict, reason: command.reason, reasonCode: command.reasonCode,
            payloadSHA256: digest, at: now)
        var voted = self
        voted.votes.append(vote)
        let outcome: Decision.Outcome =
            switch vote.verdict {
            case .approve: .approved
            case .reject: .rejected
            case .modify: .modified
            }
        let decision = Decision(
            outcome: outcome, by: vote.by, byName: vote.byName, at: now, reason: vote.reason, reasonCode: vote.reasonCode,
            payload: decidedPayload, payloadSHA256: digest
        )
        return voted.leaving(to: ApprovalStatus(rawValue: outcome.rawValue)!, with: decision, event: .decided, from: self)
    }

    /// A vote under a quorum: a rejection vetoes (decides at once); an approval counts, and decides when the quorum
    /// is met; a Modify puts an edited payload to the vote, withdraws the approvals given so far (each audited) and
    /// counts as the modifier's approval of it.
    private func voting(_ command: DecisionCommand, at now: Date) throws(ApprovalError) -> ApprovalTransition {
        var voted = self
        var effects: [ApprovalEffect] = []
        let verdict: Vote.Verdict
        switch command.verdict {
        case .approve:
            verdict = .approve
        case .reject:
            verdict = .reject
        case .modify(let edited):
            guard edited.objectValue != nil else { throw .invalidField("payload", "The edited payload must be a JSON object.") }
            verdict = .modify
            for index in voted.votes.indices where voted.votes[index].countsAsApproval {
                voted.votes[index].withdrawnAt = now
                let withdrawn = voted.votes[index]
                effects.append(.audit(AuditEvent(.voteWithdrawn, approvalID: id, actor: command.by.id, details: [
                    "voter": .string(withdrawn.by), "payload_sha256": .string(withdrawn.payloadSHA256),
                    "reason": .string("the payload was modified"),
                ])))
            }
            voted.amendedPayload = edited == payload ? nil : edited
        }
        let digest = voted.amendedPayload.map(CanonicalJSON.sha256(of:)) ?? payloadSHA256
        let vote = Vote(
            by: command.by.id, byName: command.by.name, verdict: verdict, reason: command.reason, reasonCode: command.reasonCode,
            payloadSHA256: digest, at: now, roles: roles(of: command.by))
        voted.votes.append(vote)
        let quorum = voted.quorum
        var details: [String: JSONValue] = [
            "verdict": .string(verdict.rawValue), "payload_sha256": .string(digest), "quorum": quorum.json,
            "roles": .array(vote.roles.map(JSONValue.string)),
        ]
        if let name = vote.byName { details["by_name"] = .string(name) }
        effects.append(.audit(AuditEvent(.voted, approvalID: id, actor: vote.by, details: details)))
        guard verdict == .reject || quorum.isMet else {
            return ApprovalTransition(before: self, after: voted, effects: effects)
        }
        let outcome: Decision.Outcome = verdict == .reject ? .rejected : voted.amendedPayload == nil ? .approved : .modified
        let decision = Decision(
            outcome: outcome, by: vote.by, byName: vote.byName, at: now, reason: vote.reason, reasonCode: vote.reasonCode,
            payload: voted.currentPayload, payloadSHA256: digest)
        let left = voted.leaving(to: ApprovalStatus(rawValue: outcome.rawValue)!, with: decision, event: .decided, from: self)
        return ApprovalTransition(before: self, after: left.after, effects: effects + left.effects)
    }

    /// Approves it at once, as someone breaking the glass: whoever filed it and whatever quorum its rule needs. Who
    /// may is decided by the use case (the break-glass roles, a key created for it); `overLimit` when they used it
    /// more often than the policy allows in 30 days (it still works: it is an emergency).
    public func breakingGlass(by actor: Actor, reason: String, overLimit: Bool, at now: Date) throws(ApprovalError) -> ApprovalTransition {
        try requirePending(at: now)
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw .invalidField("reason", "Breaking the glass needs a reason.") }
        let outcome: Decision.Outcome = amendedPayload == nil ? .approved : .modified
        let digest = amendedPayload.map(CanonicalJSON.sha256(of:)) ?? payloadSHA256
        let decision = Decision(
            outcome: outcome, by: actor.id, byName: actor.name, at: now, reason: reason, reasonCode: "break_glass",
            payload: currentPayload, payloadSHA256: digest, breakGlass: true)
        var left = leaving(to: ApprovalStatus(rawValue: outcome.rawValue)!, with: decision, event: .decided)
        var details: [String: JSONValue] = ["reason": .string(reason), "payload_sha256": .string(digest), "over_limit": .bool(overLimit)]
        if let name = actor.name { details["by_name"] = .string(name) }
        left.effects.insert(.audit(AuditEvent(.breakGlass, approvalID: id, actor: actor.id, details: details)), at: 1)
        return left
    }

    /// When a `notify` request approves itself: `window` after it was filed.
    public var notifyEndsAt: Date? { policy?.notifyWindow.map { createdAt.addingTimeInterval($0) } }

    /// `next`, or the end of a `notify` window still ahead when that comes first: the window's end is a deadline too.
    private func notifyCapped(_ next: Date, now: Date) -> Date {
        guard let end = notifyEndsAt, end > now else { return next }
        return min(end, next)
    }

    /// A `then: auto` request's approval at submit, by `policy:NAME`, in the same transition as its creation.
    func approvedByPolicy(_ creation: ApprovalTransition, rule: String, at now: Date) -> ApprovalTransition {
        let decision = Decision(
            outcome: .approved, by: "policy:\(rule)", at: now, reason: "Approved by the policy rule `\(rule)` (then: auto).",
            payload: payload, payloadSHA256: payloadSHA256)
        let left = leaving(to: .approved, with: decision, event: .decided)
        return ApprovalTransition(before: nil, after: left.after, effects: creation.effects + left.effects)
    }

    /// The requester withdraws it: the key that filed it (or an `admin` key), the command line, or the requester in
    /// Slack.
    public func cancelling(by actor: Actor, reason: String? = nil, at now: Date) throws(ApprovalError) -> ApprovalTransition {
        switch actor {
        case .key(let key, _) where key.scope != .admin && !key.filed(self): throw .notRequester
        case .slackUser(let user, _, _) where requester != user: throw .notRequester
        default: break
        }
        try requirePending(at: now)
        let decision = Decision(
            outcome: .cancelled, by: actor.id, at: now, reason: reason, payload: payload, payloadSHA256: payloadSHA256
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
        if let notifyEndsAt, let policy, now >= notifyEndsAt, notifyEndsAt < expiresAt {
            let decision = Decision(
                outcome: .approved, by: "policy:\(policy.name)", at: notifyEndsAt,
                reason: "Nobody rejected it within the \(ChainDuration.format(policy.notifyWindow ?? 0)) window of the policy rule `\(policy.name)`.",
                payload: payload, payloadSHA256: payloadSHA256)
            return leaving(to: .approved, with: decision, event: .decided)
        }
        if levelNamesOnlyTheRequester, now < expiresAt { return skippingLevel(at: now) }
        return followingChain(at: now)
    }

    /// `advancing(at:)` for a level that has people to wait for: what the chain's timing says.
    private func followingChain(at now: Date) -> ApprovalTransition? {
        switch chain.step(level: escalationLevel, risk: risk, levelStartedAt: levelStartedAt, now: now, expiresAt: expiresAt) {
        case .wait(let until):
            // A deadline written by an older version, or for a level whose SLA changed shape: reschedule quietly.
            guard until > now else { return nil }
            var after = self
            after.nextDeadline = notifyCapped(until, now: now)
            return ApprovalTransition(before: self, after: after, effects: [])
        case .escalate(let level, let next):
            var after = self
            after.escalationLevel = level
            after.levelStartedAt = chain.deadline(ofLevel: escalationLevel, startedAt: levelStartedAt)
            after.nextDeadline = notifyCapped(next, now: now)
            return ApprovalTransition(
                before: self, after: after,
                effects: [.audit(escalationAudit(to: level, repeated: false, next: next)),
                          .notifyApprovers(level: level, repeated: false)])
        case .repingLast(let next):
            var after = self
            after.nextDeadline = notifyCapped(next, now: now)
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

    /// Leaves a level that names only the requester at once: the next level starts now (announced as a skip, see
    /// `EscalationText.head`), or after the last level the chain ends now; `nil` for a held last level, which keeps
    /// waiting for the earlier levels' approvers until the request expires.
    private func skippingLevel(at now: Date) -> ApprovalTransition? {
        guard escalationLevel < chain.levels.count else {
            switch chain.finalAction {
            case .hold:
                guard nextDeadline < expiresAt else { return nil }
                var after = self
                after.nextDeadline = expiresAt
                return ApprovalTransition(before: self, after: after, effects: [])
            case .reject, .approve:
                var ended = self
                ended.levelStartedAt = now.addingTimeInterval(-chain.level(escalationLevel).sla)
                ended.nextDeadline = now
                return ended.followingChain(at: now).map { ApprovalTransition(before: self, after: $0.after, effects: $0.effects) }
            }
        }
        let level = escalationLevel + 1
        var after = self
        after.escalationLevel = level
        after.levelStartedAt = now
        after.nextDeadline = min(now.addingTimeInterval(chain.level(level).sla), expiresAt)
        // A next level of only the requester is left at once too.
        if after.levelNamesOnlyTheRequester { after.nextDeadline = now }
        var audit = escalationAudit(to: level, repeated: false, next: after.nextDeadline)
        if case .object(var details) = audit.details {
            details["skipped"] = .string("level \(escalationLevel) names only the requester")
            audit.details = .object(details)
        }
        return ApprovalTransition(before: self, after: after, effects: [.audit(audit), .notifyApprovers(level: level, repeated: false)])
    }

    /// Due at once when the first level names only the requester, so the scheduler moves it on without waiting an SLA.
    func dueAtOnceIfOnlyTheRequester(at now: Date) -> Approval {
        guard levelNamesOnlyTheRequester else { return self }
        var due = self
        due.nextDeadline = now
        return due
    }

    /// Checks that `candidate` is what was approved; with `consume`, uses the approval up.
    public func verifying(
        _ candidate: JSONValue, consume: Bool, by actor: Actor, at now: Date
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
        var effects: [ApprovalEffect] = [.audit(AuditEvent(.verified, approvalID: id, actor: actor.id, details: details))]
        if consume {
            after.consumedAt = now
            effects.append(.audit(AuditEvent(.consumed, approvalID: id, actor: actor.id, details: details)))
        }
        return ApprovalTransition(before: self, after: after, effects: effects)
    }

    private func requirePending(at now: Date) throws(ApprovalError) {
        if let decision, status != .pending { throw .alreadyDecided(decision) }
        if now >= expiresAt { throw .expired }
    }

    /// This approval, left `pending` for `status`; `before` is the approval as read (when this one carries a new vote).
    func leaving(
        to status: ApprovalStatus, with decision: Decision, event: AuditEvent.Kind, from before: Approval? = nil
    ) -> ApprovalTransition {
        var after = self
        after.status = status
        after.decision = decision
        var details: [String: JSONValue] = [
            "outcome": .string(decision.outcome.rawValue), "payload_sha256": .string(decision.payloadSHA256),
        ]
        if let name = decision.byName { details["by_name"] = .string(name) }
        if let reason = decision.reason { details["reason"] = .string(reason) }
        if let code = decision.reasonCode { details["reason_code"] = .string(code) }
        if let policy { details["policy"] = .string(policy.name) }
        if policy?.isQuorum == true { details["quorum"] = quorum.json }
        if decision.breakGlass { details["break_glass"] = .bool(true) }
        var effects: [ApprovalEffect] = [.audit(AuditEvent(event, approvalID: id, actor: decision.by, details: details))]
        effects.append(.wakeWaiters)
        if let callbackURL { effects.append(.deliverCallback(url: callbackURL)) }
        return ApprovalTransition(before: before ?? self, after: after, effects: effects)
    }
}
