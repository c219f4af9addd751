import ApprovalCore
import Foundation
import ServiceLifecycle
import Synchronization

/// Refusals of callers that could not be authenticated (a missing or unknown API key, a bad or replayed Slack
/// signature), counted in memory and written to the audit log once a minute as one entry per source, kind and reason,
/// with the count: a flood of bad requests costs no disk write each, and the log stays readable. A source that fails
/// too often within a minute is answered 429 until the minute ends.
final class RefusalLedger: Service, Sendable {
    let audit: any AuditTrail
    let clock: any WallClock
    /// Failed attempts a source may make within a minute before it is answered 429.
    let limitPerMinute: Int

    struct Key: Hashable {
        var source: String
        var kind: AuditEvent.Kind
        var reason: String
    }

    struct Tally {
        /// Which came first, for the order of the entries.
        var order: Int
        var count = 0
        var first: Date
        var last: Date
        /// A few examples of what was asked, never secrets: paths and key fingerprints.
        var paths: [String] = []
        var fingerprints: [String] = []
    }

    private struct State {
        var minute: Int64 = 0
        var tallies: [Key: Tally] = [:]
        var failures: [String: Int] = [:]
        var counted = 0
    }

    private let state = Mutex(State())

    init(audit: any AuditTrail, clock: any WallClock, limitPerMinute: Int) {
        self.audit = audit
        self.clock = clock
        self.limitPerMinute = limitPerMinute
    }

    static func minute(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / 60).rounded(.down)) }

    /// Counts one refusal.
    func refused(source: String, kind: AuditEvent.Kind, reason: String, path: String, fingerprint: String? = nil) {
        let now = clock.now
        let minute = Self.minute(of: now)
        state.withLock { state in
            if state.minute != minute {
                state.minute = minute
                state.failures = [:]
            }
            state.failures[source, default: 0] += 1
            let key = Key(source: source, kind: kind, reason: reason)
            state.counted += 1
            var tally = state.tallies[key] ?? Tally(order: state.counted, first: now, last: now)
            tally.count += 1
            tally.last = now
            if tally.paths.count < 3, !tally.paths.contains(path) { tally.paths.append(path) }
            if let fingerprint, tally.fingerprints.count < 5, !tally.fingerprints.contains(fingerprint) {
                tally.fingerprints.append(fingerprint)
            }
            state.tallies[key] = tally
        }
    }

    /// Seconds until `source` may try again, when it has failed too often this minute; `nil` when it may now.
    func retryAfter(source: String) -> Int? {
        let now = clock.now
        let minute = Self.minute(of: now)
        return state.withLock { state in
            guard state.minute == minute, state.failures[source, default: 0] >= limitPerMinute else { return nil }
            return max(1, Int((Double(minute + 1) * 60 - now.timeIntervalSince1970).rounded(.up)))
        }
    }

    /// Writes what was counted, once a minute and when the service stops.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = Date(timeIntervalSince1970: Double(Self.minute(of: self.clock.now) + 1) * 60)
                try? await self.clock.sleep(until: next)
                await self.flush()
            }
        }
        await flush()
    }

    /// Appends one audit entry per source, kind and reason counted since the last flush.
    func flush() async {
        let tallies = state.withLock { state -> [Key: Tally] in
            defer { state.tallies = [:] }
            return state.tallies
        }
        for (key, tally) in tallies.sorted(by: { $0.value.order < $1.value.order }) {
            var details: [String: JSONValue] = [
                "reason": .string(key.reason), "source": .string(key.source), "count": .number(Double(tally.count)),
                "first_at": .string(RFC3339.string(from: tally.first)), "last_at": .string(RFC3339.string(from: tally.last)),
                "paths": .array(tally.paths.map(JSONValue.string)),
            ]
            if !tally.fingerprints.isEmpty { details["key_sha256_prefixes"] = .array(tally.fingerprints.map(JSONValue.string)) }
            // Lost only if the database is: the refusal changed nothing.
            try? await audit.append(AuditEvent(key.kind, actor: "anonymous", details: details))
        }
    }
}
