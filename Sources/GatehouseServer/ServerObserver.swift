import ApprovalCore
import Foundation
import Synchronization

/// After each commit: wake long-polls, re-arm the expiry timer, count decisions.
final class ServerObserver: ApprovalObserver, Sendable {
    let waiters: ApprovalWaiters
    let metrics: GatehouseMetrics
    let expiry: ExpiryService

    init(waiters: ApprovalWaiters, metrics: GatehouseMetrics, expiry: ExpiryService) {
        self.waiters = waiters
        self.metrics = metrics
        self.expiry = expiry
    }

    func didCommit(_ transition: ApprovalTransition) {
        let approval = transition.after
        if transition.before == nil {
            expiry.deadlineAdded(approval.expiresAt)
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
