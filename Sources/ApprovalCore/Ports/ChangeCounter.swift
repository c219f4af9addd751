import Synchronization

/// Counts changes (commits of a store, calls to a stand-in) and lets a task wait for the next one: a signal to wait on
/// instead of a loop that polls. Counting costs one lock when nobody waits.
public final class ChangeCounter: Sendable {
    private struct State {
        var count: UInt64 = 0
        var waiters: [UInt64: (after: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// How many changes so far.
    public var count: UInt64 { state.withLock { $0.count } }

    /// One more change: wakes those waiting for it.
    public func increment() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count &+= 1
            guard !state.waiters.isEmpty else { return [] }
            let count = state.count
            let due = state.waiters.filter { $0.value.after < count }
            for key in due.keys { state.waiters[key] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once the count is past `count` (at once if it already is), or when the task is cancelled.
    public func wait(after count: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.count > count || Task.isCancelled { return true }
                    state.waiters[id] = (count, continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}
