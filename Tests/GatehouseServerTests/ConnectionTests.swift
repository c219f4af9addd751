import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import ServerTestSupport
import ServiceLifecycle
import Synchronization
import Testing

/// Connections that send nothing, or a request a byte at a time, are closed; broken framing is the client's 400; at
/// the connection cap the service stops accepting, says so, and serves the next one when a connection closes.
@Suite("Connections: timeouts, the cap, broken framing")
struct ConnectionTests {
    /// The phases connections were closed in.
    final class Closed: Sendable {
        private let phases = Mutex<[ConnectionTimeoutsHandler.Phase]>([])
        func append(_ phase: ConnectionTimeoutsHandler.Phase) { phases.withLock { $0.append(phase) } }
        func withLock<T>(_ body: ([ConnectionTimeoutsHandler.Phase]) -> T) -> T { phases.withLock { body($0) } }
    }

    /// A channel with only the timeouts handler, on a loop whose clock the test moves.
    static func channel(_ timeouts: ConnectionTimeouts = ConnectionTimeouts()) throws -> (EmbeddedChannel, Closed) {
        let closed = Closed()
        let channel = EmbeddedChannel()
        let handler = ConnectionTimeoutsHandler(timeouts: timeouts, timedOut: { phase in closed.append(phase) })
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, closed)
    }

    static func head(_ path: String) -> HTTPRequestPart {
        .head(HTTPRequest(method: .post, scheme: nil, authority: "x", path: path))
    }

    @Test("a connection that does not finish its request head in time is closed; one that does is not")
    func headTimeout() throws {
        let (slow, closed) = try Self.channel()
        let loop = slow.embeddedEventLoop
        loop.advanceTime(by: .seconds(9))
        #expect(slow.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!slow.isActive)
        #expect(closed.withLock { $0 } == [.head])

        let (prompt, _) = try Self.channel()
        try prompt.writeInbound(Self.head("/v1/approvals"))
        prompt.embeddedEventLoop.advanceTime(by: .seconds(15))
        #expect(prompt.isActive)
    }

    @Test("a body must arrive within its timeout, Slack's much sooner; once the request is whole no clock runs, however long the answer takes")
    func bodyTimeoutsAndLongPolls() throws {
        let (api, apiClosed) = try Self.channel()
        try api.writeInbound(Self.head("/v1/approvals"))
        api.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(api.isActive)
        api.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(apiClosed.withLock { $0 } == [.body])

        let (slack, slackClosed) = try Self.channel()
        try slack.writeInbound(Self.head("/slack/interactions"))
        slack.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(slackClosed.withLock { $0 } == [.body])

        let (poll, pollClosed) = try Self.channel()
        try poll.writeInbound(Self.head("/v1/approvals/apr_x?wait=60"))
        try poll.writeInbound(HTTPRequestPart.end(nil))
        poll.embeddedEventLoop.advanceTime(by: .seconds(120))
        #expect(poll.isActive)
        #expect(pollClosed.withLock { $0 }.isEmpty)
    }

    @Test("after an answer, a kept-alive connection idle past its timeout is closed")
    func idleTimeout() throws {
        var timeouts = ConnectionTimeouts()
        timeouts.idle = 30
        let (channel, closed) = try Self.channel(timeouts)
        try channel.writeInbound(Self.head("/v1/approvals"))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(closed.withLock { $0 } == [.idle])
    }

    @Test("a parked long-poll's placeholder starts no idle clock; its answer going out does")
    func parkedPollIdle() throws {
        var timeouts = ConnectionTimeouts()
        timeouts.idle = 30
        let (channel, closed) = try Self.channel(timeouts)
        try channel.writeInbound(Self.head("/v1/approvals/apr_x?wait=60"))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [EarlyResponseHandler.parkedField: "1"])))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(EarlyResponseHandler.Answered())
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(closed.withLock { $0 } == [.idle])
    }

    @Test("broken framing is answered 400 malformed_request and the connection closed: a bad chunk size, a short body, Expect without a body")
    func brokenFraming() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let start = "POST /v1/approvals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(env.requestKey)\r\n"
            for (text, finish) in [
                (start + "Transfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n", false),
                (start + "Content-Length: 100\r\n\r\n{\"a\"", true),
                (start + "Expect: 100-continue\r\nContent-Length: 10\r\n\r\n", true),
            ] {
                let connection = try await RawHTTPConnection.connect(port: client.port!)
                try await connection.send(text)
                if finish { try await connection.finishSending() }
                let answer = try await withTimeout { try await connection.readUntilClosed() }
                #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request"), "\(answer.prefix(200))")
                #expect(answer.contains(#""code":"malformed_request""#))
            }
        }
        #expect(try await env.database.countsByStatus().isEmpty)
    }

    @Test("at the connection cap the service stops accepting and counts it; a waiting connection is served once another closes")
    func connectionCap() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        var configuration = GatehouseConfiguration()
        configuration.port = 0
        configuration.maxConnections = 3
        // Run as `serve` runs it (the test framework would replace the listener and its cap), on a port of its own.
        let port = Mutex<Int?>(nil)
        let running = ChangeCounter()
        var dependencies = GatehouseDependencies(database: env.database, clock: env.clock, logger: Logger(label: "cap"))
        dependencies.serverRunning = { bound in
            port.withLock { $0 = bound }
            running.increment()
        }
        let group = ServiceGroup(configuration: .init(services: [buildApplication(configuration: configuration, dependencies: dependencies)], logger: Logger(label: "cap")))
        async let served: Void = group.run()
        try await withTimeout { await running.wait(after: 0) }
        let listening = try #require(port.withLock { $0 })
        var held: [RawHTTPConnection] = []
        for _ in 0..<3 {
            let connection = try await RawHTTPConnection.connect(port: listening)
            try await connection.sendGET("/healthz")
            #expect(try await connection.readAnswer().status == 200)
            held.append(connection)
        }
        try await held[0].sendGET("/metrics")
        let metrics = try await held[0].readAnswer().body
        #expect(metrics.contains("gatehouse_connections_open 3"))
        #expect(metrics.contains("gatehouse_connection_cap_reached_total 1"))
        // The kernel takes the fourth connection; the service reads it only once one of the three has closed.
        let waiting = try await RawHTTPConnection.connect(port: listening)
        try await waiting.sendGET("/healthz")
        await held[1].close()
        #expect(try await withTimeout { try await waiting.readAnswer() }.status == 200)
        for connection in held + [waiting] { await connection.close() }
        await group.triggerGracefulShutdown()
        try await served
    }
}
