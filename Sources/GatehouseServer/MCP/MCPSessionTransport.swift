import ApprovalCore
import Foundation
import Logging
import MCP

/// One Streamable HTTP session's side of an MCP server: messages POSTed to `/mcp` go in; each request's answer goes
/// back as a server-sent event on its own POST's stream, and so do the progress notifications of that request (found
/// by its progress token), so nothing depends on a second stream. Nothing is kept once a request is answered.
actor MCPSessionTransport: Transport {
    nonisolated let logger: Logger
    private let incoming: AsyncThrowingStream<Data, any Error>
    private let incomingContinuation: AsyncThrowingStream<Data, any Error>.Continuation
    /// The open answer streams, by the request's id (as canonical JSON: `7`, `"abc"`), each with the number of the
    /// POST it answers (an id may be used again once answered).
    private var streams: [String: (post: Int, continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation)] = [:]
    private var posts = 0
    /// Which request a progress token belongs to.
    private var progressTokens: [String: String] = [:]
    private var closed = false

    init(logger: Logger) {
        self.logger = logger
        (incoming, incomingContinuation) = AsyncThrowingStream<Data, any Error>.makeStream()
    }

    func connect() async throws {}

    func disconnect() async { close() }

    func receive() -> AsyncThrowingStream<Data, any Error> { incoming }

    /// Routes what the server sends: an answer ends its request's stream; a progress notification goes on the stream of
    /// the request that asked for it; anything else has nowhere to go (there is no standalone stream) and is dropped.
    func send(_ data: Data) async throws {
        guard !closed else { throw MCPError.connectionClosed }
        guard let message = try? JSONValue.parse(data) else { return }
        if let id = message["id"], message["method"] == nil {
            let key = CanonicalJSON.serialize(id)
            streams[key]?.continuation.yield(Self.event(data))
            streams.removeValue(forKey: key)?.continuation.finish()
            progressTokens = progressTokens.filter { $0.value != key }
        } else if message["method"]?.stringValue == ProgressNotification.name,
            let token = message["params"]?["progressToken"], let request = progressTokens[CanonicalJSON.serialize(token)]
        {
            streams[request]?.continuation.yield(Self.event(data))
        }
    }

    /// A request POSTed by the client (`id` and `progressToken` as found in it): its answer stream, as SSE bytes, and
    /// the number of this POST, for `abandon`.
    func request(_ data: Data, id: JSONValue, progressToken: JSONValue?) -> (stream: AsyncThrowingStream<[UInt8], any Error>, post: Int) {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        posts += 1
        guard !closed else {
            continuation.finish()
            return (stream, posts)
        }
        let key = CanonicalJSON.serialize(id)
        streams.removeValue(forKey: key)?.continuation.finish()
        streams[key] = (posts, continuation)
        if let progressToken { progressTokens[CanonicalJSON.serialize(progressToken)] = key }
        incomingContinuation.yield(data)
        return (stream, posts)
    }

    /// A notification or an answer POSTed by the client.
    func deliver(_ data: Data) {
        guard !closed else { return }
        incomingContinuation.yield(data)
    }

    /// The client went away before request `id` (POST number `post`) was answered: the server is told as if it had
    /// cancelled it.
    func abandon(_ id: JSONValue, post: Int) {
        let key = CanonicalJSON.serialize(id)
        guard streams[key]?.post == post else { return }
        streams[key] = nil
        progressTokens = progressTokens.filter { $0.value != key }
        let cancelled: JSONValue = .object([
            "jsonrpc": .string("2.0"), "method": .string(CancelledNotification.name),
            "params": .object(["requestId": id, "reason": .string("The client closed the connection.")]),
        ])
        deliver(Data(CanonicalJSON.utf8(cancelled)))
    }

    /// An SSE comment on every open stream: it keeps idle streams alive through proxies and client read timeouts, and a
    /// write to a client that went away fails, which ends its call (`abandon`).
    func keepAlive() {
        for stream in streams.values { stream.continuation.yield(Array(": keep-alive\n\n".utf8)) }
    }

    /// Ends the session: every open stream ends, and the server's loop with them.
    func close() {
        guard !closed else { return }
        closed = true
        for stream in streams.values { stream.continuation.finish() }
        streams = [:]
        progressTokens = [:]
        incomingContinuation.finish()
    }

    /// A message as a server-sent event.
    static func event(_ data: Data) -> [UInt8] {
        Array("event: message\ndata: ".utf8) + Array(data) + Array("\n\n".utf8)
    }
}
