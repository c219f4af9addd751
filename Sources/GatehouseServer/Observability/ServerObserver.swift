import ApprovalCore
import Foundation

/// After each commit: wake long-polls, re-arm the escalation timer, count decisions.
struct ServerObserver: ApprovalObserver {
    let longPolls: LongPolls
    /// The Slack link woken polls carry; `nil` without Slack, when there is none to look up.
    let links: (any ApprovalLinkProvider)?
    let metrics: GatehouseMetrics
    let deadlines: DeadlineAlarm

    func didCommit(_ transition: ApprovalTransition) {
        let approval = transition.after
        if transition.before == nil {
            deadlines.deadlineAdded(approval.nextDeadline)
        }
        for case .notifyApprovers(_, let repeated) in transition.effects {
            metrics.counter(
                "gatehouse_escalations_total", labels: [("repeated", String(repeated))],
                help: "Escalation steps fired: a level asked (repeated: a hold chain asking its last level again)."
            ).increment()
        }
        if transition.effects.contains(.wakeWaiters) {
            var link: (@Sendable () async -> String?)?
            if let links {
                let id = approval.id
                link = { try? await links.link(for: id) }
            }
            longPolls.notify(approval, link: link)
            metrics.recordLeftPending(approval)
        }
    }
}
