import Foundation

/// The use cases: submit, decide, cancel, verify, expire. They compute pure transitions, commit them
/// through the repository, then tell the observer.
public struct ApprovalService: Sendable {
    public let repository: any ApprovalRepository
    public let clock: any WallClock
    public let observer: any ApprovalObserver

    public init(repository: any ApprovalRepository, clock: any WallClock, observer: any ApprovalObserver) {
        self.repository = repository
        self.clock = clock
        self.observer = observer
    }

    /// Files a new request under a snapshot of its gate's chain. Returns the approval and whether it was created now
    /// (`false`: an idempotent replay).
    public func submit(
        _ request: ApprovalRequest, ownerKey: String?, idempotency: IdempotencyKey? = nil
    ) async throws -> (approval: Approval, created: Bool) {
        try request.validate()
        let now = clock.now
        let id = ApprovalID.random(at: now)
        let result = try await repository.insert(gate: request.gate, idempotency: idempotency) { chain in
            request.approval(id: id, ownerKey: ownerKey, at: now, chain: chain).submitted()
        }
        switch result {
        case .created(let transition):
            observer.didCommit(transition)
            return (transition.after, true)
        case .existing(let earlier):
            return (earlier, false)
        }
    }

    public func approval(_ id: ApprovalID) async throws -> Approval {
        guard let approval = try await repository.approval(id) else { throw ApprovalError.notFound }
        return approval
    }

    /// Records a decision. Of two concurrent deciders exactly one wins; the other gets `.alreadyDecided`.
    public func decide(_ id: ApprovalID, _ command: DecisionCommand) async throws -> Approval {
        try await change(id, refusal: .decisionRefused, actor: command.by) { approval, now in
            try approval.deciding(command, at: now)
        }
    }

    /// Records a decision by a Slack user, who must be an approver of the level the request has reached (see
    /// `Approval.deciding(_:at:groupMembers:)`); most decisions cost no group lookup.
    public func decide(
        _ id: ApprovalID, asApprover command: DecisionCommand,
        groupMembers: @Sendable ([String]) async throws -> [String: Set<String>]
    ) async throws -> Approval {
        try await change(id, refusal: .decisionRefused, actor: command.by) { approval, now in
            try await approval.deciding(command, at: now, groupMembers: groupMembers)
        }
    }

    public func cancel(_ id: ApprovalID, by actor: String, reason: String? = nil) async throws -> Approval {
        try await change(id, refusal: .requestRefused, actor: actor) { approval, now in
            try approval.cancelling(by: actor, reason: reason, at: now)
        }
    }

    /// Checks a payload against the approved digest; refusals are audited too.
    public func verify(_ id: ApprovalID, payload: JSONValue, consume: Bool, by actor: String) async throws -> Approval {
        try await change(id, refusal: .verifyRefused, actor: actor) { approval, now in
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
        guard try await repository.commit(whole) else { return [] }  // decided meanwhile: its timers are moot
        observer.didCommit(whole)
        return steps
    }

    private func change(
        _ id: ApprovalID, refusal: AuditEvent.Kind, actor: String,
        _ transition: (Approval, Date) async throws -> ApprovalTransition
    ) async throws -> Approval {
        // Optimistic: a concurrent change makes the commit report `false`, and the retry sees the new state.
        for _ in 0..<5 {
            let approval = try await self.approval(id)
            let next: ApprovalTransition
            do {
                next = try await transition(approval, clock.now)
            } catch let error as ApprovalError {
                try await repository.append(
                    AuditEvent(refusal, approvalID: id, actor: actor, details: ["reason": .string(error.code)])
                )
                throw error
            }
            if try await repository.commit(next) {
                observer.didCommit(next)
                return next.after
            }
        }
        throw ApprovalError.notFound
    }
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
        case .notApproved: "not_approved"
        case .payloadMismatch: "payload_mismatch"
        case .alreadyConsumed: "already_consumed"
        case .idempotencyConflict: "idempotency_conflict"
        case .invalidField: "invalid_field"
        }
    }
}
