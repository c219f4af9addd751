import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Lets a long-poll be answered from the event loop, ahead of the task that holds the request.
///
/// A decision can wake a thousand held polls at once. Resuming a thousand tasks, each walking back through the
/// middleware and handing its response to the event loop, took tens of milliseconds on two cores. Instead, the
/// registry writes each answer here, on the connection's own event loop, in one pass per loop, as bytes encoded once
/// for all of them; the tasks are resumed afterwards to finish their bookkeeping (metrics, log line), and the
/// response each then writes for the same request is dropped here, so the client sees exactly one.
///
/// Sits in the pipeline after the HTTP codec; answers go to the socket side of the HTTP encoder, which holds no
/// state between two responses.
final class EarlyResponseHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The encoder's context: what is written on it goes straight to the socket.
    private var wire: ChannelHandlerContext?
    /// Responses already answered early, whose late copy from the request's task is still to come (0 or 1).
    private var toDrop = 0

    func handlerAdded(context: ChannelHandlerContext) {
        wire = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        wire = nil
    }

    /// Writes a whole encoded response now, flushed; the next response the request's task writes through the
    /// pipeline is its late copy and is dropped. Must run on the channel's event loop; writes nothing when the
    /// channel is gone.
    func answer(_ response: ByteBuffer) {
        guard let wire, wire.channel.isActive else { return }
        wire.eventLoop.assertInEventLoop()
        toDrop += 1
        wire.writeAndFlush(NIOAny(IOData.byteBuffer(response)), promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard toDrop > 0 else {
            context.write(data, promise: promise)
            return
        }
        if case .end = unwrapOutboundIn(data) { toDrop -= 1 }
        promise?.succeed(())
    }

    /// The handler of `channel`, found on its event loop.
    static func on(_ channel: any Channel) -> EarlyResponseHandler? {
        channel.eventLoop.assertInEventLoop()
        return try? channel.pipeline.syncOperations.handler(type: EarlyResponseHandler.self)
    }
}
