import ApprovalCore
import Foundation
import Logging
import PostgresNIO

/// What one replica hears of every replica's commits.
///
/// The audit log is the feed: each change to an approval appends entries to it, and its numbers follow commit order
/// (the chain's lock is held until commit), so "entries after the last number read" is exactly what is new, with no
/// gap, whichever replica wrote it. Notifications (`LISTEN`) only say when to look: a change is read within a round
/// trip of its commit, and a notification lost with a dropped connection costs at most `interval`, when the feed looks
/// again anyway. The database stays the truth: nothing is taken from a notification's payload.
extension PostgresDatabase: SharedChangeFeed {
    public func followChanges(
        every interval: Duration, listening: @escaping @Sendable () -> Void = {},
        _ changed: @escaping @Sendable ([SharedChange]) async -> Void
    ) async throws {
        var last = try await read { connection in
            var seq: Int64 = 0
            for try await value in try await connection.query("SELECT coalesce(max(seq), 0) FROM audit_log", logger: self.logger)
                .decode(Int64.self)
            {
                seq = value
            }
            return seq
        }
        let look = Wakeup()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen(whenNotified: look, listening: listening) }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    look.signal()
                    // Outbox items added by a replica whose notification was lost, or whose claims lapsed.
                    self.outboxEnqueued.signal()
                }
            }
            while !Task.isCancelled {
                await look.wait()
                do {
                    let (batch, seq) = try await changes(after: last)
                    last = seq
                    guard !batch.isEmpty else { continue }
                    commits.increment()
                    await changed(batch)
                } catch {
                    logger.warning("reading the changes of other replicas failed; trying again", metadata: ["error": "\(error)"])
                }
            }
            group.cancelAll()
        }
    }

    /// The approvals changed by audit entries after `seq`, at most 10,000 entries at a time, each approval once per
    /// kind, and the number of the last entry read.
    func changes(after seq: Int64) async throws -> ([SharedChange], Int64) {
        try await read { connection in
            var last = seq
            var seen: Set<String> = []
            var batch: [SharedChange] = []
            let rows = try await connection.query(
                "SELECT seq, approval_id, kind FROM audit_log WHERE seq > \(seq) ORDER BY seq LIMIT 10000", logger: self.logger)
            for try await (entry, approvalID, kind) in rows.decode((Int64, String?, String).self) {
                last = entry
                guard let approvalID, seen.insert(approvalID + "\u{0}" + kind).inserted else { continue }
                batch.append(SharedChange(approvalID: ApprovalID(rawValue: approvalID), kind: kind))
            }
            return (batch, last)
        }
    }

    /// Holds one pooled connection listening on both channels, signalling `look` on each approval notification (and
    /// `outboxEnqueued` on each outbox one), and once after every (re)connection, for what it may have missed.
    private func listen(whenNotified look: Wakeup, listening: @escaping @Sendable () -> Void) async {
        var first = true
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.approvalChannel) { approvals in
                        try await connection.listen(on: Self.outboxChannel) { outbox in
                            if first {
                                first = false
                                listening()
                            }
                            look.signal()
                            self.outboxEnqueued.signal()
                            try await withThrowingTaskGroup(of: Void.self) { group in
                                group.addTask { for try await _ in approvals { look.signal() } }
                                group.addTask { for try await _ in outbox { self.outboxEnqueued.signal() } }
                                try await group.next()
                                group.cancelAll()
                            }
                        }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for other replicas' changes failed; reconnecting", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
