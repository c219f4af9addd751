import Foundation
import GatehouseTestSupport
import Hummingbird
import SlackAPI
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("URLSession calls end when their task is cancelled, and never hang")
struct URLSessionCancellationTests {
    /// Holds every request to `/hold` until the test lets go; answers `/now` at once.
    final class Server: Sendable {
        let arrived = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        let server: LocalHTTPServer

        init() async throws {
            let router = Router()
            let (arrivals, releases) = (arrived.continuation, release.stream)
            router.get("hold") { _, _ -> String in
                arrivals.yield()
                for await _ in releases { break }
                return "late"
            }
            router.get("now") { _, _ in "now" }
            server = try await LocalHTTPServer.start(router: router)
        }

        func stop() async {
            release.continuation.finish()
            await server.stop()
        }
    }

    @Test("cancelling a call the server is still holding ends it with an error, and the session keeps working")
    func cancelWhileHeld() async throws {
        let server = try await Server()
        let session = URLSession(configuration: .ephemeral)
        let call = Task { try await session.dataCancellably(for: URLRequest(url: server.server.baseURL.appendingPathComponent("hold"))) }
        var arrivals = server.arrived.stream.makeAsyncIterator()
        _ = await arrivals.next()
        call.cancel()
        let outcome = await call.result
        #expect(throws: CancellationError.self) { try outcome.get() }

        let (data, response) = try await session.dataCancellably(for: URLRequest(url: server.server.baseURL.appendingPathComponent("now")))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self) == "now")
        await server.stop()
    }

    @Test("a task cancelled before its call starts does not wait for the server")
    func cancelledBeforeStart() async throws {
        let server = try await Server()
        let session = URLSession(configuration: .ephemeral)
        let url = server.server.baseURL.appendingPathComponent("hold")
        let outcome = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await session.dataCancellably(for: URLRequest(url: url))
        }.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        await server.stop()
    }

    /// Cancellation racing the end of the transfer: with `data(for:)` this could deadlock the task's lock against
    /// the session's queue, and `URLSessionTask.cancel()` could stop the process on an assertion. Every call must
    /// end, with the answer or with `CancellationError`, and nothing else.
    @Test("cancellations racing completed transfers all end", .timeLimit(.minutes(1)))
    func cancellationRacingCompletion() async throws {
        let server = try await Server()
        let session = URLSession(configuration: .ephemeral)
        let url = server.server.baseURL.appendingPathComponent("now")
        let ended = await withTaskGroup(of: Bool.self) { group in
            for round in 0..<400 {
                let call = Task { try await session.dataCancellably(for: URLRequest(url: url)) }
                group.addTask {
                    if round % 2 == 0 { await Task.yield() }
                    call.cancel()
                    switch await call.result {
                    case .success(let (data, _)): return String(decoding: data, as: UTF8.self) == "now"
                    case .failure(let error): return error is CancellationError
                    }
                }
            }
            var ended = 0
            for await asExpected in group where asExpected { ended += 1 }
            return ended
        }
        #expect(ended == 400)
        await server.stop()
    }
}
