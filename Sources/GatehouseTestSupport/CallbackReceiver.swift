import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Receives callback deliveries on a local port, records them, and answers with scripted statuses.
public final class CallbackReceiver: Sendable {
    public struct Delivery: Sendable {
        public var headers: [String: String]
        public var body: Data
    }

    private struct State {
        var deliveries: [Delivery] = []
        var statuses: [Int] = []
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
        var holds: [FakeHold] = []
    }

    private let state = Mutex(State())
    private let server: Mutex<LocalHTTPServer?> = Mutex(nil)

    public init() {}

    /// Starts listening; each delivery is answered with the next scripted status, then 200, and `headers`.
    public func start(statuses: [Int] = [], headers answerHeaders: [String: String] = [:]) async throws -> URL {
        state.withLock { $0.statuses = statuses }
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let hold = self.state.withLock { $0.holds.isEmpty ? nil : $0.holds.removeFirst() }
            await hold?.holdHere()
            var request = request
            let buffer = try await request.collectBody(upTo: 2 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = self.record(Delivery(headers: headers, body: Data(buffer.readableBytesView)))
            var fields = HTTPFields()
            for (name, value) in answerHeaders { fields[HTTPField.Name(name)!] = value }
            return Response(status: .init(code: status), headers: fields)
        }
        let server = try await LocalHTTPServer.start(router: router)
        self.server.withLock { $0 = server }
        return server.baseURL.appendingPathComponent("hook")
    }

    public func stop() async {
        await server.withLock { $0 }?.stop()
    }

    public var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    /// Keeps the next delivery waiting, before it is answered or recorded, until the returned hold is released.
    public func hold() -> FakeHold {
        let hold = FakeHold()
        state.withLock { $0.holds.append(hold) }
        return hold
    }

    /// Returns once at least `count` deliveries arrived.
    public func waitForDeliveries(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.deliveries.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func record(_ delivery: Delivery) -> Int {
        let (status, ready) = state.withLock { state -> (Int, [CheckedContinuation<Void, Never>]) in
            state.deliveries.append(delivery)
            let status = state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
            let count = state.deliveries.count
            let ready = state.waiters.filter { $0.0 <= count }.map(\.1)
            state.waiters.removeAll { $0.0 <= count }
            return (status, ready)
        }
        for continuation in ready { continuation.resume() }
        return status
    }
}
