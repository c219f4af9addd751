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

    /// Files a new request. Returns the approval and whether it was created now (`false`: an idempotent replay).
    public func submit(
        _ request: ApprovalRequest, ownerKey: String?, idempotency: IdempotencyKey? = nil
    ) async throws -> (approval: Approval, created: Bool) {
        try request.validate()
        let approval = request.approval(id: .random(), ownerKey: ownerKey, at: clock.now)
        let transition = approval.submitted()
        switch try await repository.insert(transition, idempotency: idempotency) {
        case .created(let stored):
            observer.didCommit(transition)
            return (stored, true)
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
        try await change(id, refusal: .decisionRefused, actor: command.by) { (approval, now) throws(ApprovalError) in
            try approval.deciding(command, at: now)
        }
    }

    public func cancel(_ id: ApprovalID, by actor: String, reason: String? = nil) async throws -> Approval {
        try await change(id, refusal: .requestRefused, actor: actor) { (approval, now) throws(ApprovalError) in
            try approval.cancelling(by: actor, reason: reason, at: now)
        }
    }

    /// Checks a payload against the approved digest; refusals are audited too.
    public func verify(_ id: ApprovalID, payload: JSONValue, consume: Bool, by actor: String) async throws -> Approval {
        try await change(id, refusal: .verifyRefused, actor: actor) { (approval, now) throws(ApprovalError) in
            try approval.verifying(payload, consume: consume, by: actor, at: now)
        }
    }

    /// Expires every pending approval whose deadline has passed, earliest first.
    @discardableResult
    public func expireDue(asOf now: Date, batch: Int = 500) async throws -> [Approval] {
        var expired: [Approval] = []
        while true {
            let due = try await repository.pendingDue(asOf: now, limit: batch)
            var progressed = false
            for approval in due {
                guard let transition = approval.expiring(at: now) else { continue }
                if try await repository.commit(transition) {
                    observer.didCommit(transition)
                    expired.append(transition.after)
                    progressed = true
                }
            }
            if due.count < batch || !progressed { return expired }
        }
    }

    private func change(
        _ id: ApprovalID, refusal: AuditEvent.Kind, actor: String,
        _ transition: (Approval, Date) throws(ApprovalError) -> ApprovalTransition
    ) async throws -> Approval {
        // Optimistic: a concurrent change makes the commit report `false`, and the retry sees the new state.
        for _ in 0..<5 {
            let approval = try await self.approval(id)
            let next: ApprovalTransition
            do {
                next = try transition(approval, clock.now)
            } catch {
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
