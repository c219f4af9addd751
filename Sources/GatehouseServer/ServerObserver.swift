import ApprovalCore
import Foundation
import Synchronization

/// After each commit: wake long-polls, re-arm the escalation timer, count decisions.
final class ServerObserver: ApprovalObserver, Sendable {
    let waiters: ApprovalWaiters
    let metrics: GatehouseMetrics
    let escalation: EscalationService

    init(waiters: ApprovalWaiters, metrics: GatehouseMetrics, escalation: EscalationService) {
        self.waiters = waiters
        self.metrics = metrics
        self.escalation = escalation
    }

    func didCommit(_ transition: ApprovalTransition) {
        let approval = transition.after
        if transition.before == nil {
            escalation.deadlineAdded(approval.nextDeadline)
        }
        for case .notifyApprovers(_, let repeated) in transition.effects {
            metrics.counter(
                "gatehouse_escalations_total", labels: [("repeated", String(repeated))],
                help: "Escalation steps fired: a level asked (repeated: a hold chain asking its last level again)."
            ).increment()
        }
        if transition.effects.contains(.wakeWaiters) {
            waiters.notify(approval)
            metrics.recordLeftPending(approval)
        }
    }
}

/// Forwards to an observer set after construction (the services and the observer need each other).
final class DeferredObserver: ApprovalObserver, Sendable {
    private let target = Mutex<(any ApprovalObserver)?>(nil)

    func set(_ observer: any ApprovalObserver) { target.withLock { $0 = observer } }

    func didCommit(_ transition: ApprovalTransition) {
        target.withLock { $0 }?.didCommit(transition)
    }
}
