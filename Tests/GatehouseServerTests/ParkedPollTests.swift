import ApprovalCore
import DomainTestSupport
import Foundation
@testable import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import ServerTestSupport
import Testing

/// A held long-poll is parked at its connection: its request's task ends at once, and the poll is answered on the
/// connection when a decision, its deadline or a stop comes. What the connection would send after it waits for that
/// answer.
@Suite("Long-polls parked at their connections")
struct ParkedPollTests {
    /// An application over a new environment (logging into `lines` when given), a pending approval filed there, and
    /// a raw connection to it for the poll.
    static func withApproval(
        lines: RequestLogTests.Lines? = nil,
        _ body: @escaping @Sendable (TestEnvironment, any TestClientProtocol, JSONResponse, RawHTTPConnection) async throws -> Void
    ) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let app = lines.map { RequestLogTests.application(env, lines: $0) } ?? env.application()
        try await app.test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            try await body(env, client, created, try await RawHTTPConnection.connect(port: client.port!))
        }
    }

    /// The request log line of the request with id `requestID`, once it is written: the request's task has ended.
    static func logLine(of requestID: String, in lines: RequestLogTests.Lines) async throws -> JSONValue {
        try await withTimeout {
            while true {
                let seen = lines.changes.count
                if let line = try lines.objects().first(where: { $0["request_id"] == .string(requestID) }) { return line }
                await lines.changes.wait(after: seen)
            }
        }
    }

    @Test("a held poll's request ends at once (its log line is written while it waits), and the decision's answer still comes on its connection")
    func taskEndsWhileThePollWaits() async throws {
        let lines = RequestLogTests.Lines()
        try await Self.withApproval(lines: lines) { env, client, created, poll in
            try await poll.send(
                "GET /v1/approvals/\(created.id)?wait=60 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(env.requestKey)\r\nX-Request-Id: parked-1\r\n\r\n")
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            let logged = try await Self.logLine(of: "parked-1", in: lines)
            #expect(logged["long_poll"] == .string("parked"))
            #expect(logged["status"] == .number(200))
            #expect(env.longPolls.count == 1)

            let decided = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"lee"}"#)
            let answer = try await withTimeout { try await poll.readAnswer() }
            #expect(answer.status == 200)
            #expect(answer.headers["x-request-id"] == "parked-1")
            #expect(try JSONValue.parse(Data(answer.body.utf8)) == decided.json)
            #expect(answer.headers[EarlyResponseHandler.parkedField.canonicalName.lowercased()] == nil)
            await poll.close()
        }
    }

    @Test("a request sent after a parked poll on its connection is answered after the poll's answer, in order")
    func pipelinedRequestWaitsItsTurn() async throws {
        let lines = RequestLogTests.Lines()
        try await Self.withApproval(lines: lines) { env, client, created, connection in
            let auth = "Authorization: Bearer \(env.requestKey)\r\n"
            try await connection.send(
                "GET /v1/approvals/\(created.id)?wait=60 HTTP/1.1\r\nHost: x\r\n\(auth)X-Request-Id: first\r\n\r\n"
                    + "GET /v1/approvals/\(created.id) HTTP/1.1\r\nHost: x\r\n\(auth)X-Request-Id: second\r\n\r\n")
            // The second request has been answered by its task (it read the approval pending) before the decision.
            _ = try await Self.logLine(of: "second", in: lines)
            #expect(connection.unreadBytes == 0)
            _ = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"lee","reason":"no"}"#)
            let first = try await withTimeout { try await connection.readAnswer() }
            let second = try await withTimeout { try await connection.readAnswer() }
            #expect(first.headers["x-request-id"] == "first")
            #expect(try JSONValue.parse(Data(first.body.utf8))["status"] == .string("rejected"))
            #expect(second.headers["x-request-id"] == "second")
            #expect(try JSONValue.parse(Data(second.body.utf8))["status"] == .string("pending"))
            await connection.close()
        }
    }

    @Test("a parked poll whose client leaves is forgotten at once")
    func clientLeaves() async throws {
        try await Self.withApproval { env, _, created, poll in
            try await poll.sendGET("/v1/approvals/\(created.id)?wait=60", key: env.requestKey)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            await poll.close()
            try await withTimeout { await env.longPolls.whenCount { $0 == 0 } }
            #expect(env.longPolls.isWaiting(for: created.id) == false)
        }
    }

    @Test("a poll sent with Connection: close gets its answer before the connection closes")
    func connectionClose() async throws {
        try await Self.withApproval { env, client, created, poll in
            try await poll.send(
                "GET /v1/approvals/\(created.id)?wait=60 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(env.requestKey)\r\nConnection: close\r\n\r\n")
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            _ = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"lee"}"#)
            let rest = try await withTimeout { try await poll.readUntilClosed() }
            #expect(rest.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(rest.contains(#""status":"approved""#))
            #expect(rest.components(separatedBy: "HTTP/1.1 ").count == 2)
        }
    }

    @Test("a stop answers a parked poll with the approval's current state, then closes its connection", .timeLimit(.minutes(1)))
    func stopAnswersParkedPolls() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let (poll, id) = try await env.application().test(.live) { client -> (RawHTTPConnection, ApprovalID) in
            let created = try await client.createApproval(key: env.requestKey)
            let poll = try await RawHTTPConnection.connect(port: client.port!)
            try await poll.sendGET("/v1/approvals/\(created.id)?wait=60", key: env.requestKey)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            return (poll, created.id)
        }
        let answer = try await withTimeout { try await poll.readAnswer() }
        #expect(answer.status == 200)
        let json = try JSONValue.parse(Data(answer.body.utf8))
        #expect(json["id"] == .string(id.rawValue))
        #expect(json["status"] == .string("pending"))
        #expect(try await withTimeout { try await poll.readUntilClosed() } == "")
        #expect(env.longPolls.count == 0)
    }

    @Test("/metrics tells how many polls are held now")
    func waitingGauge() async throws {
        try await Self.withApproval { env, client, created, poll in
            try await poll.sendGET("/v1/approvals/\(created.id)?wait=60", key: env.requestKey)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            let held = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(held.contains("gatehouse_long_polls_waiting 1.0"))
            await poll.close()
            try await withTimeout { await env.longPolls.whenCount { $0 == 0 } }
            let none = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(none.contains("gatehouse_long_polls_waiting 0.0"))
        }
    }

    @Test("long-polls are set up a few at a time: past the limit, each waits for one to leave, in the order they came")
    func admission() async throws {
        let admission = LongPollResponder.Admission(limit: 2)
        await admission.enter()
        await admission.enter()
        let order = Entered()
        let started = ChangeCounter()
        var waiting: [Task<Void, Never>] = []
        for index in 0..<3 {
            waiting.append(Task {
                started.increment()
                await admission.enter()
                order.append(index)
            })
            await started.wait(after: UInt64(index))
            // Each enters the queue before the next is started: the order they came is the order of `index`.
            try await withTimeout { while admission.queued < index + 1 { await Task.yield() } }
        }
        #expect(order.all.isEmpty)
        admission.leave()
        await waiting[0].value
        #expect(order.all == [0])
        admission.leave()
        admission.leave()
        await waiting[1].value
        await waiting[2].value
        #expect(order.all == [0, 1, 2])
    }

    final class Entered: Sendable {
        private let entered = Mutex<[Int]>([])
        var all: [Int] { entered.withLock { $0 } }
        func append(_ index: Int) { entered.withLock { $0.append(index) } }
    }
}
