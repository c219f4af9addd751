import Foundation

/// The use cases: submit, read, decide, cancel, verify, expire. They check who may do what, compute pure transitions,
/// commit them with their outbox rows through the repository, then tell the observer. Every refusal of an operation on
/// an approval is audited here, once.
public struct ApprovalService: Sendable {
    public let repository: any ApprovalRepository
    public let clock: any WallClock
    /// Turn each committed transition into the outbox rows that go with it (callbacks, Slack messages).
    let planners: [any OutboxPlanner]
    let observer: any ApprovalObserver
    /// Where callbacks may go: an address in `callback_url` is checked when the request is filed.
    let callbackTargets: CallbackTargets
    /// The policy set, for `evaluate` and break-glass (a create reads it in its own transaction).
    let policyStore: (any PolicyStore)?
    let breakGlassStore: (any BreakGlassStore)?

    public init(
        repository: any ApprovalRepository, clock: any WallClock, planners: [any OutboxPlanner] = [CallbackOutboxPlanner()],
        observer: any ApprovalObserver = NoApprovalObserver(), callbackTargets: CallbackTargets = .publicOnly,
        policyStore: (any PolicyStore)? = nil, breakGlassStore: (any BreakGlassStore)? = nil
    ) {
        self.policyStore = policyStore
        self.breakGlassStore = breakGlassStore
        self.repository = repository
        self.clock = clock
        self.planners = planners
        self.observer = observer
        self.callbackTargets = callbackTargets
    }

    /// The transition with the outbox rows the planners ask for.
    func planned(_ transition: ApprovalTransition) -> PlannedChange {
        PlannedChange(transition, outbox: planners.flatMap { $0.outboxItems(for: transition) })
    }

    /// Files a new request under a snapshot of its gate's chain, owned by the key that files it. Returns the approval
    /// and whether it was created now (`false`: an idempotent replay).
    public func submit(
        _ request: ApprovalRequest, by actor: Actor, idempotency: IdempotencyKey? = nil
    ) async throws -> (approval: Approval, created: Bool) {
        let request = request.filed(by: actor)
        try request.validate()
        if let url = request.callbackURL, let refusal = callbackTargets.refusal(ofURL: url) {
            throw ApprovalError.invalidField("callback_url", "`callback_url` is refused: \(refusal).")
        }
        let now = clock.now
        let id = ApprovalID.random(at: now)
        let key: APIKey? = if case .key(let key, _) = actor { key } else { nil }
        let result = try await repository.insert(idempotency: idempotency) { [self] snapshot in
            let applied = Self.evaluation(of: request, in: snapshot).applied
            let approval = request.approval(
                id: id, ownerKey: key?.name, ownerKeyID: key?.id, at: now,
                chain: request.chain(else: snapshot.chain(named: applied?.chainName ?? request.gate)),
                policy: applied)
            let creation = approval.submitted()
            if let applied, case .auto = applied.then {
                return planned(approval.approvedByPolicy(creation, rule: applied.name, at: approval.createdAt))
            }
            return planned(creation)
        }
        switch result {
        case .created(let transition):
            observer.didCommit(transition)
            return (transition.after, true)
        case .existing(let earlier):
            return (earlier, false)
        }
    }

    static func evaluation(of request: ApprovalRequest, in snapshot: any SubmitSnapshot) -> PolicyEvaluation {
        snapshot.policies.evaluate(request, explain: false) { snapshot.everApproved(gate: request.gate, action: request.action) }
    }

    /// What `request` would get from the policies now, storing nothing (`POST /v1/policy/evaluate`, `policies test`).
    /// With `actor`, the request is evaluated as that caller would file it (see ``ApprovalRequest/filed(by:)``).
    public func evaluate(_ request: ApprovalRequest, by actor: Actor? = nil) async throws -> PolicyEvaluation {
        let request = actor.map { request.filed(by: $0) } ?? request
        try request.validate()
        guard let policyStore else { return PolicyEvaluation(applied: nil, steps: []) }
        let policies = try await policyStore.policies()
        let approvedBefore = policies.usesNewAction ? try await policyStore.everApproved(gate: request.gate, action: request.action) : false
        return policies.evaluate(request) { approvedBefore }
    }

    /// The user groups that break-glass roles name: an adapter finds out which of them a Slack user is in first.
    public func breakGlassGroups() async throws -> [String] {
        guard let policies = try await policyStore?.policies(), let rules = policies.breakGlass else { return [] }
        return rules.roles.compactMap(policies.role(named:)).flatMap(\.groups)
    }

    /// Approves a pending request at once, in an emergency: for members of the break-glass roles (in Slack) and keys
    /// created with `--break-glass`, whoever filed it and whatever quorum it needs. Audited loudly; see
    /// `Approval.breakingGlass`. Refusals are audited.
    public func breakGlass(_ id: ApprovalID, reason: String, by actor: Actor) async throws -> Approval {
        let policies = try await policyStore?.policies() ?? .empty
        try await refusingAudited(.decisionRefused, id: id, actor: actor) { () throws(ApprovalError) in
            try Self.checkMayBreakGlass(actor, policies: policies)
        }
        let now = clock.now
        let rules = policies.breakGlass ?? BreakGlassPolicy(roles: [])
        let earlier = try await breakGlassStore?.breakGlassCount(by: actor.id, since: now.addingTimeInterval(-30 * 86_400)) ?? 0
        return try await change(id, as: actor, refusal: .decisionRefused) { (approval: Approval, now: Date) throws(ApprovalError) in
            try approval.breakingGlass(by: actor, reason: reason, overLimit: earlier + 1 > rules.maxPer30Days, at: now)
        }
    }

    static func checkMayBreakGlass(_ actor: Actor, policies: PolicySet) throws(ApprovalError) {
        switch actor {
        case .key(let key, _):
            try actor.checkMayDecide()
            guard key.breakGlass else {
                throw .notBreakGlass("This key may not break the glass; create one with `gatehouse keys create NAME --scope decide --break-glass`.")
            }
        case .slackUser(let user, _, let groups):
            guard let rules = policies.breakGlass else {
                throw .notBreakGlass("Break-glass is not set up: the policies have no `break_glass` section.")
            }
            let roles = rules.roles.compactMap(policies.role(named:))
            guard roles.contains(where: { $0.contains(user, memberOf: groups) }) else {
                let names = rules.roles.map { "`\($0)`" }.joined(separator: ", ")
                throw .notBreakGlass("Only members of the break-glass roles (\(names)) may break the glass.")
            }
        case .cli, .local, .policy, .system:
            throw .notBreakGlass("Break-glass is for people in Slack and keys created with --break-glass.")
        }
    }

    /// The approval, for readers that may see every one (Slack, deliveries).
    public func approval(_ id: ApprovalID) async throws -> Approval {
        guard let approval = try await repository.approval(id) else { throw ApprovalError.notFound }
        return approval
    }

    /// The approval if `actor` may see it. An unknown id and one the actor may not see look the same (`.notFound`),
    /// and both are audited.
    public func approval(_ id: ApprovalID, as actor: Actor) async throws -> Approval {
        try await approval(id, as: actor, visible: actor.maySee)
    }

    /// The approval if `visible` says `actor` may act on it; otherwise audited and `.notFound`, as an unknown id.
    private func approval(
        _ id: ApprovalID, as actor: Actor, visible: (Approval) -> Bool, known: Approval? = nil
    ) async throws -> Approval {
        if let known, known.id == id, visible(known) { return known }
        if id.rawValue.count <= 64, let approval = try await repository.approval(id), visible(approval) {
            return approval
        }
        try await repository.append(
            AuditEvent(.requestRefused, actor: actor.id, details: [
                "reason": .string(ApprovalError.notFound.code), "approval_id": .string(String(id.rawValue.prefix(64))),
            ]))
        throw ApprovalError.notFound
    }

    /// A page of the approvals `actor` may see, newest first: a `request` key sees only those it filed.
    public func list(_ filter: ApprovalFilter, limit: Int, before: Int64? = nil, as actor: Actor) async throws -> ApprovalPage {
        var filter = filter
        if case .key(let key, _) = actor, !key.scope.seesEverything { filter.ownerKeyID = key.id }
        return try await repository.list(filter, limit: limit, before: before)
    }

    /// Records a decision. Of two concurrent deciders exactly one wins; the other gets `.alreadyDecided`. `read` is the
    /// approval as the caller has just read it (to find the decider's groups, say): the first attempt starts from it
    /// instead of reading it again, and a commit finds out if it moved on meanwhile.
    public func decide(_ id: ApprovalID, _ command: DecisionCommand, read: Approval? = nil) async throws -> Approval {
        try await refusingAudited(.decisionRefused, id: id, actor: command.by) { () throws(ApprovalError) in try command.by.checkMayDecide() }
        return try await change(id, as: command.by, refusal: .decisionRefused, read: read) { (approval: Approval, now: Date) throws(ApprovalError) in
            try approval.deciding(command, at: now)
        }
    }

    /// Checks that `command` would be accepted now, storing nothing but the audited refusal when it would not: asked
    /// before a form is opened, so nobody fills in one that cannot be accepted.
    public func checkDecision(_ id: ApprovalID, _ command: DecisionCommand) async throws -> Approval {
        try await refusingAudited(.decisionRefused, id: id, actor: command.by) { () throws(ApprovalError) in try command.by.checkMayDecide() }
        let approval = try await approval(id, as: command.by)
        try await refusingAudited(.decisionRefused, id: id, actor: command.by) { () throws(ApprovalError) in
            try approval.checkDecider(command.by, at: clock.now)
            try approval.checkSecondVote(command)
        }
        return approval
    }

    public func cancel(_ id: ApprovalID, by actor: Actor, reason: String? = nil) async throws -> Approval {
        try await change(id, as: actor, refusal: .requestRefused) { (approval: Approval, now: Date) throws(ApprovalError) in
            try approval.cancelling(by: actor, reason: reason, at: now)
        }
    }

    /// Checks a payload against the approved digest; refusals are audited too. Only the key that filed the request (or
    /// an `admin` key) may: to another it is unknown.
    public func verify(_ id: ApprovalID, payload: JSONValue, consume: Bool, by actor: Actor) async throws -> Approval {
        try await change(id, as: actor, refusal: .verifyRefused, visible: actor.mayVerify) { (approval: Approval, now: Date) throws(ApprovalError) in
            try approval.verifying(payload, consume: consume, by: actor, at: now)
        }
    }

    /// Acts on every pending approval whose next deadline has come, earliest first: escalates, asks the last level
    /// again, applies the chain's final action or expires it. After a restart, each overdue step fires once, in
    /// order. Returns the committed transitions.
    @discardableResult
    public func escalateDue(asOf now: Date, batch: Int = 500) async throws -> [ApprovalTransition] {
        var fired: [ApprovalTransition] = []
        while true {
            let due = try await repository.pendingDue(asOf: now, limit: batch)
            // Each approval's steps run in order; different approvals run side by side, so their commits share fsyncs.
            let results = try await withThrowingTaskGroup(of: [ApprovalTransition].self) { group in
                for approval in due {
                    group.addTask { try await self.advance(approval, now: now) }
                }
                var all: [ApprovalTransition] = []
                for try await steps in group { all += steps }
                return all
            }
            fired += results
            if due.count < batch || results.isEmpty { return fired }
        }
    }

    /// Every step that is due for one approval, in order, committed together: after a restart, nothing (a ping, an
    /// update) acts on a level the same commit has already left behind, and a request that also expired pings nobody.
    private func advance(_ approval: Approval, now: Date) async throws -> [ApprovalTransition] {
        var current = approval
        var steps: [ApprovalTransition] = []
        // Bounded: a chain has at most 10 levels, and each step moves the deadline forward.
        for _ in 0..<(EscalationChain.maximumLevels + 2) {
            guard let transition = current.advancing(at: now) else { break }
            steps.append(transition)
            current = transition.after
        }
        guard !steps.isEmpty else { return [] }
        // Each step stays audited, but a level asked in this commit is not asked again in it: a late escalation to
        // the last level and a re-ask that fell due after it make one ask, not a DM and a reminder seconds apart.
        var asked: Set<Int> = []
        let effects = steps.flatMap(\.effects).filter { effect in
            guard case .notifyApprovers(let level, _) = effect else { return true }
            return asked.insert(level).inserted
        }
        let whole = ApprovalTransition(before: approval, after: current, effects: effects)
        guard try await repository.commit(planned(whole)) else { return [] }  // decided meanwhile: its timers are moot
        observer.didCommit(whole)
        return steps
    }

    /// Reads the approval as `actor` sees it, computes `transition` and commits it; a refusal is audited as `refusal`
    /// (or as a request refusal, when the actor may not do this at all).
    private func change(
        _ id: ApprovalID, as actor: Actor, refusal: AuditEvent.Kind, read: Approval? = nil,
        visible: ((Approval) -> Bool)? = nil, _ transition: (Approval, Date) throws(ApprovalError) -> ApprovalTransition
    ) async throws -> Approval {
        // Optimistic: a concurrent change makes the commit report `false`, and the retry sees the new state.
        var known = read
        for _ in 0..<5 {
            let approval = try await self.approval(id, as: actor, visible: visible ?? actor.maySee, known: known)
            known = nil
            let next = try await refusingAudited(refusal, id: id, actor: actor) { () throws(ApprovalError) in try transition(approval, clock.now) }
            let change = planned(next)
            if try await repository.commit(change) {
                observer.didCommit(next)
                return next.after
            }
        }
        throw ApprovalError.notFound
    }

    /// Runs a check; its refusal is appended to the audit log (as `kind`, with its reason) before it is rethrown.
    private func refusingAudited<T>(
        _ kind: AuditEvent.Kind, id: ApprovalID, actor: Actor, _ check: () throws(ApprovalError) -> T
    ) async throws -> T {
        do {
            return try check()
        } catch {
            // An actor that may not do this at all (a request key deciding) is refused the request, not a decision.
            let kind: AuditEvent.Kind = if case .forbidden = error { .requestRefused } else { kind }
            try await repository.append(
                AuditEvent(kind, approvalID: id, actor: actor.id, details: ["reason": .string(error.code)]))
            throw error
        }
    }
}

/// An observer that is told nothing: for tools and tests that need no wake-ups.
public struct NoApprovalObserver: ApprovalObserver {
    public init() {}
    public func didCommit(_ transition: ApprovalTransition) {}
}

extension ApprovalError {
    /// The contract's snake_case code for this refusal.
    public var code: String {
        switch self {
        case .notFound: "not_found"
        case .alreadyDecided: "already_decided"
        case .selfApproval: "self_approval"
        case .notApprover: "not_approver"
        case .expired: "expired"
        case .notRequester: "not_requester"
        case .forbidden: "forbidden"
        case .notApproved: "not_approved"
        case .payloadMismatch: "payload_mismatch"
        case .alreadyConsumed: "already_consumed"
        case .idempotencyConflict: "idempotency_conflict"
        case .invalidField: "invalid_field"
        case .alreadyVoted: "already_voted"
        case .notBreakGlass: "forbidden"
        }
    }
}
