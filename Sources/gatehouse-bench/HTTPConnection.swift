import NIOCore
import NIOHTTP1
import NIOPosix

/// One request as the load client sends it.
struct BenchRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var key: String
    var body: ByteBuffer?
    /// Keep the response's headers and body (otherwise only the status is kept).
    var keepBody = false
    /// Fail the request and close the connection if no full response arrives in time.
    var timeout: TimeAmount = .seconds(10)
    /// The body's media type.
    var contentType = "application/json"
    /// Further headers (a Slack signature, say).
    var headers: [(String, String)] = []
}

/// One response, time-stamped on the event loop: `sentAt` just before the request is written,
/// `receivedAt` when its last byte has been parsed, so task scheduling in the client does not count.
struct BenchResponse: Sendable {
    var status: UInt
    var headers: HTTPHeaders?
    var body: ByteBuffer?
    var sentAt: NIODeadline
    var receivedAt: NIODeadline

    var latencyNanoseconds: Int64 { (receivedAt - sentAt).nanoseconds }

    func bodyContains(_ text: String) -> Bool {
        guard let body else { return false }
        return String(buffer: body).contains(text)
    }
}

enum HTTPConnectionError: Error, CustomStringConvertible {
    case timedOut
    case closed
    case busy

    var description: String {
        switch self {
        case .timedOut: "no response in time"
        case .closed: "connection closed"
        case .busy: "a request is already in flight on this connection"
        }
    }
}

/// A persistent HTTP/1.1 connection carrying one request at a time.
struct HTTPConnection: Sendable {
    let channel: any Channel
    let hostHeader: String

    static func connect(to target: BenchTarget, on group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)) async throws -> HTTPConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
                }
            }
            .connect(to: target.address)
            .get()
        return HTTPConnection(channel: channel, hostHeader: target.hostHeader)
    }

    /// Sends `request`; `written` completes once it is on the socket, `response` when the answer is in.
    func send(_ request: BenchRequest) -> (written: EventLoopFuture<Void>, response: EventLoopFuture<BenchResponse>) {
        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path)
        head.headers.add(name: "Host", value: hostHeader)
        if !request.key.isEmpty { head.headers.add(name: "Authorization", value: "Bearer \(request.key)") }
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        if let body = request.body {
            head.headers.add(name: "Content-Type", value: request.contentType)
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        let response = channel.eventLoop.makePromise(of: BenchResponse.self)
        let exchange = Exchange(head: head, body: request.body, keepBody: request.keepBody, timeout: request.timeout, response: response)
        let written = channel.writeAndFlush(exchange)
        // A write that never reaches the handler (closed channel) still fails the response; a second completion is a no-op.
        written.whenFailure { response.fail($0) }
        return (written, response.futureResult)
    }

    func request(_ request: BenchRequest) async throws -> BenchResponse {
        try await send(request).response.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// What travels down the pipeline for one request.
private struct Exchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var keepBody: Bool
    var timeout: TimeAmount
    var response: EventLoopPromise<BenchResponse>
}

/// Writes one request, collects its response, completes its promise; one exchange at a time.
private final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    private struct InFlight {
        var exchange: Exchange
        var sentAt: NIODeadline
        var timer: Scheduled<Void>
        var status: UInt = 0
        var headers: HTTPHeaders?
        var body: ByteBuffer?
    }

    private var inFlight: InFlight?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard inFlight == nil else {
            exchange.response.fail(HTTPConnectionError.busy)
            promise?.fail(HTTPConnectionError.busy)
            return
        }
        let channel = context.channel
        let response = exchange.response
        let timer = context.eventLoop.scheduleTask(in: exchange.timeout) {
            response.fail(HTTPConnectionError.timedOut)
            channel.close(promise: nil)
        }
        inFlight = InFlight(exchange: exchange, sentAt: .now(), timer: timer)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            inFlight?.status = head.status.code
            if inFlight?.exchange.keepBody == true { inFlight?.headers = head.headers }
        case .body(var part):
            guard inFlight?.exchange.keepBody == true else { return }
            if inFlight?.body == nil {
                inFlight?.body = part
            } else {
                inFlight?.body?.writeBuffer(&part)
            }
        case .end:
            let receivedAt = NIODeadline.now()
            guard let done = inFlight else { return }
            inFlight = nil
            done.timer.cancel()
            done.exchange.response.succeed(
                BenchResponse(status: done.status, headers: done.headers, body: done.body, sentAt: done.sentAt, receivedAt: receivedAt))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failInFlight(HTTPConnectionError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failInFlight(error)
        context.close(promise: nil)
    }

    private func failInFlight(_ error: any Error) {
        guard let done = inFlight else { return }
        inFlight = nil
        done.timer.cancel()
        done.exchange.response.fail(error)
    }
}
