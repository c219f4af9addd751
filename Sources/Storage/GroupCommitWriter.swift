import ApprovalCore
import Dispatch
import Foundation
import GRDB
import Synchronization

/// Runs concurrent write requests in shared transactions, so that one fsync makes many of them durable.
///
/// With `synchronous = FULL` every commit waits for the disk. Writers that arrive while a commit is in
/// flight are queued and committed together in the next transaction, each inside its own savepoint so one
/// failure rolls back only its own work. Callers are resumed only once the transaction that holds their
/// work has committed (or failed).
///
/// The batches run on one dispatch queue, which calls GRDB's synchronous `write`: GRDB then runs the
/// transaction on this thread, so a batch costs one hand-off in and one resume per caller out. (An async
/// GRDB write from a task, as before, hopped from the task to a detached task, to GRDB's writer queue and back.)
final class GroupCommitWriter: Sendable {
    /// One caller's work and the way to resume it.
    private struct Job: Sendable {
        /// Runs the work (inside its savepoint) and keeps its result for `finish`.
        let run: @Sendable (Database) throws -> Void
        /// Resumes the caller: with the kept result when `error` is nil.
        let finish: @Sendable (_ error: (any Error)?) -> Void
    }

    /// A result handed from the writer thread to the resumed caller; the resume orders the two accesses.
    private final class Outcome<T>: @unchecked Sendable {
        var value: T?
    }

    private struct Pending {
        var jobs: [Job] = []
        var draining = false
    }

    let writer: any DatabaseWriter
    /// Names writes that fail for lack of space, and knows whether the last ones did.
    let failures: WriteFailures
    /// Counts the transactions that committed.
    let commits = ChangeCounter()
    private let pending = Mutex(Pending())
    private let queue = DispatchQueue(label: "gatehouse.group-commit", qos: .userInitiated)

    init(writer: any DatabaseWriter, failures: WriteFailures) {
        self.writer = writer
        self.failures = failures
    }

    /// Runs `work` in a write transaction (shared with other writers) and returns once it is durable.
    ///
    /// Not cancellable on purpose: once queued, the work commits or fails with the batch, and the caller
    /// learns which.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            enqueue(Job(
                run: { db in outcome.value = try work(db) },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(returning: outcome.value!)
                    }
                }))
        }
    }

    private func enqueue(_ job: Job) {
        let start = pending.withLock { pending -> Bool in
            pending.jobs.append(job)
            if pending.draining { return false }
            pending.draining = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    /// Commits batches until nobody is waiting; whatever arrives during a commit forms the next batch.
    private func drain() {
        while true {
            let jobs = pending.withLock { pending -> [Job] in
                let jobs = pending.jobs
                pending.jobs = []
                if jobs.isEmpty { pending.draining = false }
                return jobs
            }
            if jobs.isEmpty { return }
            commit(jobs)
        }
    }

    private func commit(_ jobs: [Job]) {
        var outcomes = [(any Error)?](repeating: nil, count: jobs.count)
        var committed = false
        do {
            try writer.write { db in
                if jobs.count == 1 {
                    // Alone in its transaction: a failure rolls the transaction back, no savepoint needed.
                    try jobs[0].run(db)
                    return
                }
                for (index, job) in jobs.enumerated() {
                    outcomes[index] = try Self.inSavepoint(db, job.run)
                }
            }
            committed = true
            commits.increment()
        } catch {
            // The transaction did not commit: nobody's work is stored.
            for index in outcomes.indices { outcomes[index] = error }
        }
        let errors = outcomes.map { $0.map(failures.classify) }
        if committed && !errors.contains(where: { $0 is StorageFull }) { failures.committed() }
        for (index, job) in jobs.enumerated() {
            job.finish(errors[index])
        }
    }

    /// Runs `work` in a savepoint with cached statements (GRDB's `inSavepoint` prepares them again each time).
    /// Returns the work's error after rolling its changes back; throws only when the transaction itself is lost,
    /// which fails the whole batch. GRDB refuses statements in an aborted transaction, so no work can slip
    /// into autocommit mode after such a failure.
    private static func inSavepoint(_ db: Database, _ work: (Database) throws -> Void) throws -> (any Error)? {
        try db.cachedStatement(sql: "SAVEPOINT gatehouse_job").execute()
        do {
            try work(db)
            try db.cachedStatement(sql: "RELEASE SAVEPOINT gatehouse_job").execute()
            return nil
        } catch {
            // Rollback alone would leave the savepoint on SQLite's stack: release it too.
            try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT gatehouse_job").execute()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT gatehouse_job").execute()
            return error
        }
    }
}
