import Foundation
import HummingbirdCore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The most connections open at once. At the cap the service stops accepting (new connections wait in the kernel's
/// queue) and says so once in the log, until the count falls below the cap again; `/metrics` shows the count and
/// how often the cap was reached.
struct ConnectionLimit: AvailableConnectionsDelegate {
    let maximum: Int
    let watch: ConnectionWatch
    var open = 0

    init(maximum: Int, watch: ConnectionWatch) {
        self.maximum = maximum
        self.watch = watch
    }

    mutating func connectionOpened() {
        open += 1
        watch.changed(open: open, maximum: maximum)
    }

    mutating func connectionClosed() {
        open -= 1
        watch.changed(open: open, maximum: maximum)
    }

    func isAcceptingNewConnections() -> Bool { open < maximum }

    /// A cap that the process's file-descriptor limit allows: raised to its hard limit first, less some for the
    /// database, logs and sockets of its own, at most 20,000.
    static func fitting() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 900 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return max(64, min(20_000, Int(limit.rlim_cur) - 128))
    }
}

/// Reports connection counts: a gauge, and a warning when the cap is reached (once until the count falls again).
final class ConnectionWatch: Sendable {
    let metrics: GatehouseMetrics
    let logger: Logger
    private let atCap = Mutex(false)

    init(metrics: GatehouseMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func changed(open: Int, maximum: Int) {
        metrics.gauge("gatehouse_connections_open", help: "HTTP connections open now.").set(Double(open))
        let reached = open >= maximum
        let first = atCap.withLock { was -> Bool in
            defer { was = reached }
            return reached && !was
        }
        if first {
            metrics.counter("gatehouse_connection_cap_reached_total", help: "Times the connection cap was reached.").increment()
            logger.warning(
                "connection cap reached: new connections wait until one closes",
                metadata: ["open": "\(open)", "max_connections": "\(maximum)"])
        }
    }

    /// A connection closed for taking too long over `phase` of a request.
    func timedOut(_ phase: ConnectionTimeoutsHandler.Phase) {
        metrics.counter(
            "gatehouse_connections_timed_out_total", labels: [("phase", phase.rawValue)],
            help: "Connections closed for taking too long over a request's head, its body, or idle between requests."
        ).increment()
        logger.debug("connection closed: too slow", metadata: ["phase": .string(phase.rawValue)])
    }
}
