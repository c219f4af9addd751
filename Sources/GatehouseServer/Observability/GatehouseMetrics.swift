import ApprovalCore
import Foundation
import Prometheus
import Synchronization

/// The service's metrics, kept in its own registry (no global bootstrap, so tests each get their own).
public final class GatehouseMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    private static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        .seconds(30), .seconds(60),
    ]
    private static let decisionBuckets: [Double] = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400, 604_800]

    private let timeToDecision: ValueHistogram

    /// One request's label set. Routes are the router's patterns and statuses are few, so this stays small.
    private struct RequestSeries: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    /// Handles made once per label set: the registry's lookup (a lock, label checks, a dictionary of
    /// label arrays) was a visible share of every request.
    private struct Handles {
        var requests: [RequestSeries: Counter] = [:]
        var latency: [String: DurationHistogram] = [:]
    }

    private let handles = Mutex(Handles())

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.timeToDecision = registry.makeValueHistogram(
            name: "gatehouse_time_to_decision_seconds", buckets: Self.decisionBuckets,
            help: "Seconds from a request's creation to its decision, expiry or cancellation.")
    }

    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let series = RequestSeries(route: route, method: method, status: status)
        let (counter, histogram) = handles.withLock { handles in
            (handles.requests[series], handles.latency[route])
        }
        (counter ?? makeRequestCounter(series)).increment()
        (histogram ?? makeLatencyHistogram(route)).record(duration)
    }

    private func makeRequestCounter(_ series: RequestSeries) -> Counter {
        // The registry returns the same counter for the same labels, so a race here only makes it twice.
        let counter = registry.makeCounter(
            name: "gatehouse_http_requests_total",
            labels: [("route", series.route), ("method", series.method), ("status", String(series.status))],
            help: "HTTP requests by route, method and status."
        )
        handles.withLock { $0.requests[series] = counter }
        return counter
    }

    private func makeLatencyHistogram(_ route: String) -> DurationHistogram {
        let histogram = registry.makeDurationHistogram(
            name: "gatehouse_http_request_duration_seconds", labels: [("route", route)], buckets: Self.latencyBuckets,
            help: "HTTP request latency by route."
        )
        handles.withLock { $0.latency[route] = histogram }
        return histogram
    }

    func recordLeftPending(_ approval: Approval) {
        guard let decision = approval.decision else { return }
        timeToDecision.record(max(0, decision.at.timeIntervalSince(approval.createdAt)))
        registry.makeCounter(
            name: "gatehouse_policy_decisions_total",
            labels: [("policy", approval.policy?.name ?? "none"), ("outcome", decision.outcome.rawValue)],
            help: "Requests that left pending, by the policy rule they matched (none: no rule) and outcome."
        ).increment()
        if decision.breakGlass {
            registry.makeCounter(name: "gatehouse_break_glass_total", help: "Approvals made by breaking the glass.").increment()
        }
    }

    /// Counts that live in the database, refreshed at each scrape.
    func refresh(from database: any GatehouseStore) async throws {
        let counts = try await database.countsByStatus()
        for status in ApprovalStatus.allCases {
            registry.makeGauge(
                name: "gatehouse_approvals", labels: [("status", status.rawValue)], help: "Approvals by status."
            ).set(Double(counts[status] ?? 0))
        }
        registry.makeGauge(
            name: "gatehouse_break_glass_unreviewed", help: "Break-glass approvals no admin has reviewed yet."
        ).set(Double(try await database.unreviewedBreakGlassCount()))
        let backlog = try await database.outboxBacklog()
        for kind in Set(backlog.keys).union([CallbackOutboxPlanner.kind]) {
            registry.makeGauge(
                name: "gatehouse_outbox_backlog", labels: [("kind", kind)], help: "Outbox items not yet delivered, by kind."
            ).set(Double(backlog[kind] ?? 0))
        }
    }

    public func counter(_ name: String, labels: [(String, String)] = [], help: String) -> Counter {
        registry.makeCounter(name: name, labels: labels, help: help)
    }

    public func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        registry.makeGauge(name: name, labels: labels, help: help)
    }

    func render() -> String { registry.emitToString() }
}
