import Synchronization

/// A call a test server keeps waiting until the test releases it: a slow Slack or receiver, at the moment the test
/// chooses. `FakeSlackWebAPI.hold(_:)` and `CallbackReceiver.hold()` make one for their next call.
public final class FakeHold: Sendable {
    private enum Event: Hashable {
        case arrived, released
    }

    private struct State {
        var happened: Set<Event> = []
        var waiters: [Event: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Returns once the held call has reached the server (it is then waiting for `release()`).
    public func arrived() async {
        await wait(for: .arrived)
    }

    /// Lets the held call be answered. Safe to call more than once, and before the call came.
    public func release() {
        signal(.released)
    }

    /// Called by the server's handler for the held call: marks it arrived, then waits for `release()`.
    public func holdHere() async {
        signal(.arrived)
        await wait(for: .released)
    }

    private func wait(for event: Event) async {
        await withCheckedContinuation { continuation in
            let happened = state.withLock { state in
                if state.happened.contains(event) { return true }
                state.waiters[event, default: []].append(continuation)
                return false
            }
            if happened { continuation.resume() }
        }
    }

    private func signal(_ event: Event) {
        let waiters = state.withLock { state in
            state.happened.insert(event)
            return state.waiters.removeValue(forKey: event) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }
}
