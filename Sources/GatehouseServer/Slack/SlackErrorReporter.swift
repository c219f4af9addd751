import Foundation
import Logging
import SlackAPI
import Synchronization

/// Counts Slack errors in `/metrics` and logs each permanent error's hint for the admin once.
final class SlackErrorReporter: Sendable {
    let metrics: GatehouseMetrics
    let logger: Logger
    private let hinted = Mutex<Set<String>>([])

    init(metrics: GatehouseMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func report(method: String, error: SlackAPIError) {
        let code = error.code
        metrics.counter(
            "gatehouse_slack_api_errors_total", labels: [("method", method), ("error", code), ("permanent", String(error.isPermanent))],
            help: "Failed Slack Web API calls by method and error."
        ).increment()
        guard error.isPermanent else { return }
        let first = hinted.withLock { $0.insert(code).inserted }
        if first {
            // A person Slack will not DM is skipped and the rest goes on: worth a word, not an alarm.
            logger.log(
                level: error.refusesRecipient ? .warning : .error, "Slack refuses \(method): \(code)",
                metadata: ["hint": .string(error.adminHint ?? "Check the Slack app's configuration.")])
        }
    }
}
