import Hummingbird
import Synchronization

/// The application's responder: the router, with a long-poll's request (`GET /v1/approvals/{id}?wait=N`) handled in
/// a task of its own rather than in its connection's task, and at most `concurrent` of them set up at once.
///
/// Swift keeps the memory a task's frames once needed until the task ends. A connection's task lives as long as the
/// connection, so a request handled in it leaves the connection holding the deepest stack it ever had: about 32 KiB
/// for the router, the middleware, the route and the storage reads of a long-poll. A parked poll's request is done in a
/// millisecond, but its connection stays open for up to a minute, 10,000 of them at once under load: in a task of its
/// own, those frames are freed as soon as the poll parks. And 10,000 polls sent at once would otherwise all be set up
/// at once, their frames all alive together while they queue for the database, leaving the allocator's heap that
/// large and fragmented long after they parked. Measured in BENCHMARKS.md (memory per waiting long-poll). Other
/// requests, short and on connections that do not wait, are handled as before.
public struct LongPollResponder: HTTPResponder {
    public typealias Context = GatehouseRequestContext

    let router: RouterResponder<Context>
    let admission: Admission

    init(router: RouterResponder<Context>, concurrent: Int = 32) {
        self.router = router
        admission = Admission(limit: concurrent)
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        guard Self.isLongPoll(request) else { return try await router.respond(to: request, context: context) }
        await admission.enter()
        defer { admission.leave() }
        let task = Task { try await router.respond(to: request, context: context) }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// A GET under `/v1/approvals/` asking to wait.
    static func isLongPoll(_ request: Request) -> Bool {
        guard request.method == .get, request.uri.path.hasPrefix("/v1/approvals/"), let wait = request.uri.queryParameters["wait"] else {
            return false
        }
        return (Double(String(wait)) ?? 0) > 0
    }

    /// At most `limit` callers between `enter` and `leave`; the others wait their turn, in order.
    final class Admission: Sendable {
        private struct State {
            var inside = 0
            var waiting: [CheckedContinuation<Void, Never>] = []
            var first = 0
        }

        let limit: Int
        private let state = Mutex(State())

        init(limit: Int) {
            self.limit = limit
        }

        /// How many wait to enter.
        var queued: Int { state.withLock { $0.waiting.count - $0.first } }

        func enter() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let admitted = state.withLock { state -> Bool in
                    guard state.inside < limit else {
                        state.waiting.append(continuation)
                        return false
                    }
                    state.inside += 1
                    return true
                }
                if admitted { continuation.resume() }
            }
        }

        func leave() {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard state.first < state.waiting.count else {
                    state.inside -= 1
                    return nil
                }
                let next = state.waiting[state.first]
                state.first += 1
                if state.first == state.waiting.count {
                    state.waiting.removeAll(keepingCapacity: true)
                    state.first = 0
                }
                return next
            }
            next?.resume()
        }
    }
}
