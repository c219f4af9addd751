import Foundation
import GRDB
import Synchronization

/// Runs concurrent write requests in shared transactions, so that one fsync makes many of them durable.
///
/// With `synchronous = FULL` every commit waits for the disk (a few milliseconds here). Writers that
/// arrive while a commit is in flight are queued and committed together in the next transaction, each
/// inside its own savepoint so one failure rolls back only its own work. The first writer to find no
/// commit in flight leads: it runs one batch, then hands the lead to the oldest writer still waiting,
/// so no caller drains the queue for others indefinitely and no background task is needed.
final class GroupCommitWriter: Sendable {
    private enum Role { case lead, finished }

    private final class Job: @unchecked Sendable {
        let work: @Sendable (Database) throws -> any Sendable
        let continuation: CheckedContinuation<Role, Never>
        // Written by the leader before `continuation` is resumed, read by the owner after: ordered by the resume.
        var result: Result<any Sendable, any Error> = .failure(CancellationError())

        init(work: @escaping @Sendable (Database) throws -> any Sendable, continuation: CheckedContinuation<Role, Never>) {
            self.work = work
            self.continuation = continuation
        }
    }

    private struct State {
        var queue: [Job] = []
        var leading = false
    }

    let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in a write transaction (shared with other writers) and returns once it is durable.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        var job: Job!
        let role = await withCheckedContinuation { (continuation: CheckedContinuation<Role, Never>) in
            let newJob = Job(work: { try work($0) }, continuation: continuation)
            job = newJob
            let lead = state.withLock { state in
                state.queue.append(newJob)
                if state.leading { return false }
                state.leading = true
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        if role == .lead { await runBatch(leader: job) }
        return try job.result.get() as! T
    }

    private func runBatch(leader: Job) async {
        let jobs = state.withLock { state in
            let jobs = state.queue
            state.queue.removeAll(keepingCapacity: true)
            return jobs
        }
        let writer = self.writer
        // Detached so that a cancelled leader cannot abort the commit the others are waiting for.
        let outcome = await Task.detached {
            try await writer.write { db in
                for job in jobs {
                    do {
                        var value: (any Sendable)?
                        try db.inSavepoint {
                            value = try job.work(db)
                            return .commit
                        }
                        job.result = .success(value!)
                    } catch {
                        job.result = .failure(error)
                    }
                }
            }
        }.result
        if case .failure(let error) = outcome {
            for job in jobs { job.result = .failure(error) }
        }
        for job in jobs where job !== leader {
            job.continuation.resume(returning: .finished)
        }
        let next = state.withLock { state -> Job? in
            guard let first = state.queue.first else {
                state.leading = false
                return nil
            }
            return first
        }
        next?.continuation.resume(returning: .lead)
    }
}
