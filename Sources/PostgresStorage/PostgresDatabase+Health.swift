import ApprovalCore
import Foundation
import PostgresNIO
import Synchronization

/// Why the last write probe on PostgreSQL failed: what the service logs while `/readyz` answers 503.
public struct PostgresWriteFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// PostgreSQL's SQLSTATE when the server refused (`25006`: read-only, `53100`: disk full, `57P03`: starting up),
    /// else what kept the client from the server (`connectionError`, `timeout`, …).
    public let code: String
    /// Where it failed: the server's message, or the connection's error (an address, never a password).
    public let location: String
    /// When the current run of failed probes began.
    public let since: Date

    public var description: String { "\(code): writes fail (\(location))" }
}

/// The write probe on PostgreSQL: one statement that a read-only or unreachable database refuses, and that
/// changes nothing.
///
/// It runs on every call (it backs `/readyz`), one round trip on a pooled connection, outside `write` so that it
/// counts as no commit. `UPDATE … WHERE false` writes no row, yet a server that takes no writes (a standby, or
/// `default_transaction_read_only`) refuses it. A server that cannot be reached is given `probeTimeout`, not the
/// pool's connect timeout, so that the readiness check answers in time. A full disk is not seen by the probe (it
/// writes nothing); the writes that fail then report PostgreSQL's `53100`.
extension PostgresDatabase: WriteHealthProbe {
    /// How long a probe may wait for the database.
    static let probeTimeout: Duration = .seconds(2)

    /// `.writing` while the probe succeeds, else `.full` for PostgreSQL's disk-full code (`53100`) and `.failing`
    /// with the code for anything else. What failed is logged, and is `lastWriteFailure`.
    public func writeHealth() async -> WriteHealth {
        guard let failure = await probeWrites() else { return .writing }
        if failure.code == "53100" { return .full(since: failure.since, freeBytes: nil) }
        return .failing(since: failure.since, code: failure.code)
    }

    /// Why writes failed at the last probe; nil when it succeeded.
    public var lastWriteFailure: PostgresWriteFailure? {
        Self.probeFailures.withLock { $0[replicaID] }
    }

    /// Runs the probe; nil when the database accepts writes.
    func probeWrites() async -> PostgresWriteFailure? {
        let logger = logger
        let client = client
        // Raced against a timer in tasks of their own, not a task group: a group would wait for a query stuck on a
        // dead connection (a query in flight is not cancelled), and the readiness check with it.
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, any Error>, Never>) in
            let answer = FirstAnswer(continuation)
            let probe = Task {
                do {
                    try await client.withConnection { connection in
                        _ = try await connection.query("UPDATE schema_migration SET name = name WHERE false", logger: logger)
                    }
                    answer.give(.success(()))
                } catch {
                    answer.give(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: Self.probeTimeout)
                answer.give(.failure(ProbeTimeout()))
                probe.cancel()
            }
        }
        switch outcome {
        case .success:
            Self.probeFailures.withLock { $0[replicaID] = nil }
            return nil
        case .failure(let error):
            let (code, location) = Self.describe(error)
            let now = clock.now
            let (failure, changed) = Self.probeFailures.withLock { failures in
                let previous = failures[replicaID]
                let failure = PostgresWriteFailure(code: code, location: location, since: previous?.since ?? now)
                failures[replicaID] = failure
                return (failure, previous?.code != code)
            }
            // Once per run of failures with the same code: the probe runs on every readiness check.
            if changed {
                logger.warning("database writes fail", metadata: ["code": .string(code), "location": .string(location)])
            }
            return failure
        }
    }

    private struct ProbeTimeout: Error {}

    /// Resumes a continuation with the first answer given; later ones are dropped.
    private final class FirstAnswer: Sendable {
        private let continuation: Mutex<CheckedContinuation<Result<Void, any Error>, Never>?>

        init(_ continuation: CheckedContinuation<Result<Void, any Error>, Never>) {
            self.continuation = Mutex(continuation)
        }

        func give(_ outcome: Result<Void, any Error>) {
            let waiting = continuation.withLock { continuation in
                defer { continuation = nil }
                return continuation
            }
            waiting?.resume(returning: outcome)
        }
    }

    /// The current run of failures of each open database, by `replicaID` (unique per instance): removed when a probe
    /// succeeds.
    private static let probeFailures = Mutex<[String: PostgresWriteFailure]>([:])

    /// A code and a location for `error`, without what PSQLError's own description could carry (queries, binds).
    static func describe(_ error: any Error) -> (code: String, location: String) {
        if error is ProbeTimeout { return ("timeout", "no answer from the database within \(probeTimeout)") }
        guard let error = error as? PSQLError else { return ("\(type(of: error))", "\(error)") }
        if let state = error.serverInfo?[.sqlState] {
            return (state, error.serverInfo?[.message] ?? "the server refused")
        }
        return ("\(error.code)", error.underlying.map { "\($0)" } ?? "the connection failed")
    }
}
