import ApprovalCore
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Where a long-poll is parked and answered: the connection's own pipeline, ahead of the task that took the request.
///
/// A parked poll's request returns a placeholder response at once (`LongPolls.placeholder`), which is dropped here:
/// its task's frames through the middleware and the route are freed while the poll waits. The poll's answer is written
/// here later, from the event loop: when a decision wakes it (one pass per loop for a thousand polls, as bytes encoded
/// once for all of them), or with the current state when its wait runs out or the service stops. Until then, whatever
/// the connection would send after it (a pipelined request's answer, the end of its output) is held back, in order;
/// asked to quiesce, the connection first has its poll answered.
///
/// Sits in the pipeline after the HTTP codec; answers go to the socket side of the HTTP encoder, which holds no state
/// between two responses.
final class EarlyResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Marks the placeholder response of a parked poll; it never reaches the wire.
    static let parkedField = HTTPField.Name("X-Gatehouse-Parked")!

    /// Fired inbound once a parked poll's answer is out and its placeholder gone, so the connection's idle clock starts.
    struct Answered {}

    /// What the connection was asked to do while its poll was parked, done once it is answered.
    private enum Held {
        case write(NIOAny, EventLoopPromise<Void>?)
        case flush
        case close(CloseMode, EventLoopPromise<Void>?)
        case event(Any)
    }

    private let owner: LongPolls
    private var context: ChannelHandlerContext?
    /// The encoder's context: what is written on it goes straight to the socket.
    private var wire: ChannelHandlerContext?
    /// Answers written before their placeholder arrived (0 or 1): the next placeholder is dropped on arrival.
    private var answeredAhead = 0
    /// Dropping the parts of a placeholder until its end.
    private var dropping = false
    /// Whether the placeholder being dropped is of a poll that still waits.
    private var droppingParked = false
    /// A placeholder went by and its poll's answer has not: later output waits in `held`.
    private var parked = false
    /// The parked poll, once `LongPolls.park` has told this handler (`waits`).
    private var slot: LongPolls.Slot?
    private var held: [Held] = []
    /// The client ended its side of the connection.
    private var inputClosed = false

    init(owner: LongPolls) {
        self.owner = owner
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        wire = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        // A connection keeps its receive buffer between reads: 2 KiB by default, for a request head that is a few
        // hundred bytes. Starting at 256 bytes (growing when reads fill it) saves about 17 MB over 10,000 waiting polls.
        try? context.channel.syncOptions?.setOption(
            ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        wire = nil
    }

    /// Learns which poll waits here, for a quiesce or a close before its answer.
    func waits(_ slot: LongPolls.Slot) {
        self.slot = slot
        let quiescing = held.contains { if case .event(let event) = $0 { event is ChannelShouldQuiesceEvent } else { false } }
        if quiescing { owner.release(slot) }
    }

    /// Writes a poll's whole encoded answer now, flushed. When its placeholder went by already, what was held back
    /// goes out after it; otherwise the placeholder is dropped when it comes. Must run on the channel's event loop;
    /// writes nothing when the channel is gone.
    func answer(_ response: ByteBuffer) {
        guard let wire, let context, wire.channel.isActive else { return }
        wire.eventLoop.assertInEventLoop()
        slot = nil
        wire.writeAndFlush(NIOAny(IOData.byteBuffer(response)), promise: nil)
        guard parked else {
            answeredAhead += 1
            return
        }
        parked = false
        context.fireUserInboundEventTriggered(Answered())
        replayHeld(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !parked else {
            held.append(.write(data, promise))
            return
        }
        let part = unwrapOutboundIn(data)
        if case .head(let head) = part, head.headerFields[Self.parkedField] != nil {
            dropping = true
            droppingParked = answeredAhead == 0
            if !droppingParked { answeredAhead -= 1 }
        }
        guard dropping else { return context.write(data, promise: promise) }
        promise?.succeed(())
        guard case .end = part else { return }
        dropping = false
        if droppingParked {
            parked = true
            if inputClosed { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(Answered())
        }
    }

    func flush(context: ChannelHandlerContext) {
        if parked { held.append(.flush) } else { context.flush() }
    }

    /// The end of the output (a `Connection: close` request, or the client's end of input) waits for the answer.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if parked, mode == .output {
            held.append(.close(mode, promise))
        } else {
            context.close(mode: mode, promise: promise)
        }
    }

    /// Asked to quiesce (the service stops), a connection with a parked poll has it answered first. A client that
    /// ends its side while its poll waits has left: the poll is forgotten and the connection closed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { inputClosed = true }
        guard parked else { return context.fireUserInboundEventTriggered(event) }
        switch event {
        case is ChannelShouldQuiesceEvent:
            held.append(.event(event))
            if let slot { owner.release(slot) }
        case ChannelEvent.inputClosed:
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let slot { owner.abandon(slot) }
        slot = nil
        parked = false
        let held = self.held
        self.held = []
        for item in held {
            switch item {
            case .write(_, let promise), .close(_, let promise): promise?.fail(ChannelError.ioOnClosedChannel)
            case .flush, .event: break
            }
        }
        context.fireChannelInactive()
    }

    /// Sends on what waited behind a parked poll, in order, until another parked poll's placeholder holds the rest.
    private func replayHeld(context: ChannelHandlerContext) {
        var queue = held[...]
        held = []
        while let item = queue.popFirst() {
            if parked {
                held.append(item)
                continue
            }
            switch item {
            case .write(let data, let promise): write(context: context, data: data, promise: promise)
            case .flush: context.flush()
            case .close(let mode, let promise): context.close(mode: mode, promise: promise)
            case .event(let event): context.fireUserInboundEventTriggered(event)
            }
        }
    }

    /// The handler of `channel`, found on its event loop.
    static func on(_ channel: any Channel) -> EarlyResponseHandler? {
        channel.eventLoop.assertInEventLoop()
        return try? channel.pipeline.syncOperations.handler(type: EarlyResponseHandler.self)
    }
}
