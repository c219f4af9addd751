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
    /// The open answer streams, by the request's id (as canonical JSON: `7`, `"abc"`).
    private var streams: [String: AsyncThrowingStream<[UInt8], any Error>.Continuation] = [:]
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
            streams[key]?.yield(Self.event(data))
            streams.removeValue(forKey: key)?.finish()
            progressTokens = progressTokens.filter { $0.value != key }
        } else if message["method"]?.stringValue == ProgressNotification.name,
            let token = message["params"]?["progressToken"], let request = progressTokens[CanonicalJSON.serialize(token)]
        {
            streams[request]?.yield(Self.event(data))
        }
    }

    /// A request POSTed by the client (`id` and `progressToken` as found in it): its answer stream, as SSE bytes.
    func request(_ data: Data, id: JSONValue, progressToken: JSONValue?) -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        guard !closed else {
            continuation.finish()
            return stream
        }
        let key = CanonicalJSON.serialize(id)
        streams.removeValue(forKey: key)?.finish()
        streams[key] = continuation
        if let progressToken { progressTokens[CanonicalJSON.serialize(progressToken)] = key }
        incomingContinuation.yield(data)
        return stream
    }

    /// A notification or an answer POSTed by the client.
    func deliver(_ data: Data) {
        guard !closed else { return }
        incomingContinuation.yield(data)
    }

    /// The client went away before request `id` was answered: the server is told as if it had cancelled it.
    func abandon(_ id: JSONValue) {
        let key = CanonicalJSON.serialize(id)
        guard streams.removeValue(forKey: key) != nil else { return }
        progressTokens = progressTokens.filter { $0.value != key }
        let cancelled: JSONValue = .object([
            "jsonrpc": .string("2.0"), "method": .string(CancelledNotification.name),
            "params": .object(["requestId": id, "reason": .string("The client closed the connection.")]),
        ])
        deliver(Data(CanonicalJSON.utf8(cancelled)))
    }

    /// Ends the session: every open stream ends, and the server's loop with them.
    func close() {
        guard !closed else { return }
        closed = true
        for continuation in streams.values { continuation.finish() }
        streams = [:]
        progressTokens = [:]
        incomingContinuation.finish()
    }

    /// A message as a server-sent event.
    static func event(_ data: Data) -> [UInt8] {
        Array("event: message\ndata: ".utf8) + Array(data) + Array("\n\n".utf8)
    }
}
