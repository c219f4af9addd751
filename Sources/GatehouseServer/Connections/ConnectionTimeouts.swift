import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// How long a connection may take over each part of a request, so that connections that send nothing, or send a
/// request a byte at a time, cannot hold file descriptors that real clients need.
public struct ConnectionTimeouts: Sendable, Equatable {
    /// From a new connection to a complete request head.
    public var header: TimeInterval = 10
    /// From the head to the end of the body.
    public var body: TimeInterval = 30
    /// The body of a request from Slack, which sends small bodies at once (read before its signature is checked).
    public var slackBody: TimeInterval = 5
    /// A kept-alive connection between the end of an answer and the next request's head.
    public var idle: TimeInterval = 60

    public init() {}
}

/// Closes a connection that takes too long over a request's head, its body, or the wait for the next request (see
/// `ConnectionTimeouts`). While a request is being answered no clock runs: a long-poll may wait its minute.
///
/// Sits after the HTTP codec, so it sees parts, not bytes: before the first request, waiting for the head is timed
/// with `header`; between requests, with `idle`.
final class ConnectionTimeoutsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    enum Phase: String {
        case head, body, idle
    }

    let timeouts: ConnectionTimeouts
    /// Told of each connection closed for taking too long, with the phase it was in.
    let timedOut: @Sendable (Phase) -> Void
    private var timer: Scheduled<Void>?
    /// The response going out is a parked long-poll's placeholder: the poll still waits, so no idle clock starts at
    /// its end, but when its answer is out (`EarlyResponseHandler.Answered`).
    private var placeholder = false

    init(timeouts: ConnectionTimeouts, timedOut: @escaping @Sendable (Phase) -> Void) {
        self.timeouts = timeouts
        self.timedOut = timedOut
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(.head, after: timeouts.header, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(.head, after: timeouts.header, context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let slack = head.path?.hasPrefix("/slack/") ?? false
            arm(.body, after: slack ? timeouts.slackBody : timeouts.body, context: context)
        case .body:
            break
        case .end:
            // Being answered: however long that takes (a long-poll), the client is not to blame.
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            placeholder = head.headerFields[EarlyResponseHandler.parkedField] != nil
        case .body:
            break
        case .end:
            if !placeholder { arm(.idle, after: timeouts.idle, context: context) }
            placeholder = false
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is EarlyResponseHandler.Answered { arm(.idle, after: timeouts.idle, context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    private func arm(_ phase: Phase, after seconds: TimeInterval, context: ChannelHandlerContext) {
        disarm()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let timedOut = self.timedOut
        timer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            timedOut(phase)
            loopBound.value.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
