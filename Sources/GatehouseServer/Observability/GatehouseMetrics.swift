import ApprovalCore
import BuildInfo
import Foundation
import Prometheus
import SlackBridge
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
    private let longPollWait: DurationHistogram
    /// Gates and outbox kinds seen at earlier scrapes: one that drained is exported as 0, not left at its last value.
    private let seen = Mutex((gates: Set<String>(), kinds: Set(SlackOutboxKind.all + [CallbackOutboxPlanner.kind])))
    /// At most this many gates get their own pending series; the rest are summed under `gate="(other)"`.
    static let maximumGateSeries = 200

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
        self.longPollWait = registry.makeDurationHistogram(
            name: "gatehouse_long_poll_wait_seconds", buckets: Self.latencyBuckets,
            help: "How long long-polls (GET /v1/approvals/{id}?wait=N) were held, answered or timed out; not in the request latency.")
        registry.makeGauge(
            name: "gatehouse_build_info", labels: [("version", BuildInfo.version), ("commit", BuildInfo.commit)],
            help: "Always 1; its labels say which build runs.").set(Double(1))
    }

    /// One Slack Web API call's time, answered or not.
    public func recordSlackCall(method: String, duration: Duration) {
        registry.makeDurationHistogram(
            name: "gatehouse_slack_api_duration_seconds", labels: [("method", method)], buckets: Self.latencyBuckets,
            help: "Slack Web API call latency by method."
        ).record(duration)
    }

    /// Counts the request; its latency goes to the request histogram, or for a long-poll to the wait histogram (a
    /// wait of 30 s is not a slow request). A parked long-poll's wait is not known yet: it is recorded when its answer
    /// goes out (`recordLongPollWait`).
    func recordRequest(route: String, method: String, status: Int, duration: Duration, longPoll: Bool = false, parked: Bool = false) {
        let series = RequestSeries(route: route, method: method, status: status)
        let (counter, histogram) = handles.withLock { handles in
            (handles.requests[series], handles.latency[route])
        }
        (counter ?? makeRequestCounter(series)).increment()
        if parked { return }
        if longPoll {
            longPollWait.record(duration)
        } else {
            (histogram ?? makeLatencyHistogram(route)).record(duration)
        }
    }

    /// A parked long-poll's wait, from its parking to its answer.
    func recordLongPollWait(_ duration: Duration) {
        longPollWait.record(duration)
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

    /// The long-polls held now, refreshed at each scrape.
    func refresh(waitingLongPolls: Int) {
        registry.makeGauge(
            name: "gatehouse_long_polls_waiting", help: "Long-polls and MCP or Cosignet waits held in this process now."
        ).set(Double(waitingLongPolls))
    }

    /// Counts that live in the database, refreshed at each scrape.
    func refresh(from database: any GatehouseStore, now: Date) async throws {
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
        let kinds = seen.withLock { seen in
            seen.kinds.formUnion(backlog.keys)
            return seen.kinds
        }
        for kind in kinds {
            registry.makeGauge(
                name: "gatehouse_outbox_backlog", labels: [("kind", kind)], help: "Outbox items not yet delivered, by kind."
            ).set(Double(backlog[kind] ?? 0))
        }
        try await refreshPending(from: database, now: now)
    }

    /// `gatehouse_pending{gate}` and `gatehouse_oldest_pending_age_seconds{gate}`; a gate that drained reads 0.
    private func refreshPending(from database: any GatehouseStore, now: Date) async throws {
        var pending = try await database.pendingByGate()
        let gates = seen.withLock { seen in
            for gate in pending.keys.sorted() where seen.gates.count < Self.maximumGateSeries { seen.gates.insert(gate) }
            return seen.gates
        }
        // Gates beyond the cap are summed into one series, so a key filing under many gate names cannot grow /metrics.
        let overflow = pending.filter { !gates.contains($0.key) }
        if !overflow.isEmpty {
            for gate in overflow.keys { pending[gate] = nil }
            pending["(other)"] = PendingSummary(
                count: overflow.values.reduce(0) { $0 + $1.count }, oldest: overflow.values.map(\.oldest).min()!)
        }
        for gate in gates.union(pending.keys) {
            let summary = pending[gate]
            registry.makeGauge(name: "gatehouse_pending", labels: [("gate", gate)], help: "Pending approvals by gate.")
                .set(Double(summary?.count ?? 0))
            registry.makeGauge(
                name: "gatehouse_oldest_pending_age_seconds", labels: [("gate", gate)],
                help: "Seconds the oldest pending approval of each gate has waited (0: none pending)."
            ).set(summary.map { max(0, now.timeIntervalSince($0.oldest)) } ?? 0)
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
