import ApprovalCore
import Foundation
import Logging
import MCP

/// Checks each `tools/call`'s arguments on the message's own text, before the MCP library reads them: it reads numbers
/// as doubles, so `0.30000000000000000001` would reach the tools as `0.3` and bind an approval to another number. A
/// number that a double cannot carry exactly is answered with the tool error the API gives for it (`invalid_field`),
/// and the call goes no further; everything else passes through unchanged.
actor ExactArgumentsTransport: Transport {
    nonisolated let logger: Logger
    private let inner: any Transport
    private let incoming: AsyncThrowingStream<Data, any Error>
    private let incomingContinuation: AsyncThrowingStream<Data, any Error>.Continuation
    private var forwarding: Task<Void, Never>?

    init(_ inner: any Transport, logger: Logger) {
        self.inner = inner
        self.logger = logger
        (incoming, incomingContinuation) = AsyncThrowingStream<Data, any Error>.makeStream()
    }

    func connect() async throws {
        try await inner.connect()
        let upstream = await inner.receive()
        let continuation = incomingContinuation
        forwarding = Task { [weak self] in
            do {
                for try await data in upstream {
                    if let refusal = Self.refusal(of: data) {
                        try? await self?.send(refusal)
                    } else {
                        continuation.yield(data)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    func disconnect() async {
        forwarding?.cancel()
        await inner.disconnect()
    }

    func send(_ data: Data) async throws { try await inner.send(data) }

    func receive() -> AsyncThrowingStream<Data, any Error> { incoming }

    /// The answer to `data` when it is a `tools/call` whose arguments hold an inexact number; `nil` otherwise.
    static func refusal(of data: Data) -> Data? {
        let bytes = Array(data)
        guard bytes.count < APIError.maxBodySize, let message = try? JSONValue.parse(utf8: bytes),
            message["method"]?.stringValue == CallTool.name, let id = message["id"]
        else { return nil }
        do {
            _ = try JSONValue.parse(utf8: bytes, exactNumbers: true)
            return nil
        } catch {
            var error = error
            // Named from the arguments, as the tool names its fields: `payload.cents`, not `params.arguments.payload.cents`.
            if error.path.first == .string("params"), error.path.dropFirst().first == .string("arguments") {
                error.path.removeFirst(2)
            }
            guard let sentence = error.inexactNumberSentence(root: "") else { return nil }
            let result = ApprovalTools.failure(APIError.invalid(error.pathText(root: ""), sentence))
            guard let encoded = try? JSONEncoder().encode(result), let body = try? JSONValue.parse(encoded) else { return nil }
            let answer: JSONValue = .object(["jsonrpc": .string("2.0"), "id": id, "result": body])
            return Data(CanonicalJSON.utf8(answer))
        }
    }
}

extension ApprovalTools {
    /// Starts a server offering these tools over `transport`, each call's arguments checked for exact numbers first.
    public func serve(over transport: any Transport, logger: Logger) async throws -> Server {
        let server = await server()
        try await server.start(transport: ExactArgumentsTransport(transport, logger: logger))
        return server
    }
}
