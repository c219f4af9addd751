import Synchronization

/// A call a test server keeps waiting until the test releases it: a slow Slack or receiver, at the moment the test
/// chooses. `FakeSlackWebAPI.hold(_:)` makes one for a Web API method; a test's own handler calls `holdHere()`.
public final class FakeHold: Sendable {
    private struct State {
        var arrived = false
        var released = false
        var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
        var releaseWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Returns once the held call has reached the server (it is then waiting for `release()`).
    public func arrived() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.arrived { return true }
                state.arrivalWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets the held call be answered. Safe to call more than once, and before the call came.
    public func release() {
        let waiters = state.withLock { state in
            state.released = true
            defer { state.releaseWaiters = [] }
            return state.releaseWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Called by the server's handler for the held call: marks it arrived, then waits for `release()`.
    public func holdHere() async {
        let arrivals = state.withLock { state in
            state.arrived = true
            defer { state.arrivalWaiters = [] }
            return state.arrivalWaiters
        }
        for waiter in arrivals { waiter.resume() }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.released { return true }
                state.releaseWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
