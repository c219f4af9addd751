import Foundation
import NIOCore
import NIOPosix

/// One keep-alive HTTP/1.1 connection to 127.0.0.1 that sends requests as written and reads answers byte for byte,
/// so a test can see exactly what the server put on the wire: how many answers, and in which order.
public final class RawHTTPConnection: Sendable {
    /// An answer as it arrived.
    public struct Answer: Sendable {
        public let status: Int
        /// Header names lowercased.
        public let headers: [String: String]
        public let body: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case closed(afterBytes: Int)
        case malformed(String)

        public var description: String {
            switch self {
            case .closed(let count): "the connection closed after \(count) bytes of an answer"
            case .malformed(let text): "not an HTTP/1.1 answer: \(text.prefix(200))"
            }
        }
    }

    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let reader: Reader

    /// Buffers what the server sent until a whole answer is there.
    private final class Reader: @unchecked Sendable {
        // Only ever used by one task at a time: the test's, one call after the other.
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var pending = ByteBuffer()

        init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }
    }

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
        self.reader = Reader(channel.inbound.makeAsyncIterator())
    }

    public static func connect(port: Int) async throws -> RawHTTPConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawHTTPConnection(channel: channel)
    }

    /// Sends `GET path` with the API key, and does not wait for the answer.
    public func sendGET(_ path: String, key: String? = nil) async throws {
        var text = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let key { text += "Authorization: Bearer \(key)\r\n" }
        text += "\r\n"
        try await channel.outbound.write(ByteBuffer(string: text))
    }

    /// Sends `text` as it is: a request broken on purpose, or part of one.
    public func send(_ text: String) async throws {
        try await channel.outbound.write(ByteBuffer(string: text))
    }

    /// Closes the sending side, so the server reads the end of the stream after what was sent.
    public func finishSending() async throws {
        try await channel.channel.close(mode: .output)
    }

    /// Everything the server sends from now until it closes the connection.
    public func readUntilClosed() async throws -> String {
        while var more = try await reader.iterator.next() { reader.pending.writeBuffer(&more) }
        defer { reader.pending.clear() }
        return String(buffer: reader.pending)
    }

    /// Reads the next whole answer (head and a `Content-Length` body).
    public func readAnswer() async throws -> Answer {
        while true {
            if let answer = try Self.takeAnswer(from: &reader.pending) { return answer }
            guard var more = try await reader.iterator.next() else {
                throw Failure.closed(afterBytes: reader.pending.readableBytes)
            }
            reader.pending.writeBuffer(&more)
        }
    }

    /// Reads until what was received contains `text` (a streamed answer's event, say), and returns it all.
    public func read(until text: String) async throws -> String {
        while !String(buffer: reader.pending).contains(text) {
            guard var more = try await reader.iterator.next() else {
                throw Failure.closed(afterBytes: reader.pending.readableBytes)
            }
            reader.pending.writeBuffer(&more)
        }
        defer { reader.pending.clear() }
        return String(buffer: reader.pending)
    }

    /// Bytes received beyond the answers read so far.
    public var unreadBytes: Int { reader.pending.readableBytes }

    public func close() async {
        try? await channel.channel.close()
    }

    private static func takeAnswer(from buffer: inout ByteBuffer) throws -> Answer? {
        let bytes = buffer.readableBytesView
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let headText = String(decoding: bytes[bytes.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw Failure.malformed(headText)
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw Failure.malformed(headText) }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let length = headers["content-length"].flatMap(Int.init) else { throw Failure.malformed(headText) }
        let headLength = end.upperBound - bytes.startIndex
        guard buffer.readableBytes >= headLength + length else { return nil }
        buffer.moveReaderIndex(forwardBy: headLength)
        let body = buffer.readString(length: length) ?? ""
        buffer.discardReadBytes()
        return Answer(status: status, headers: headers, body: body)
    }
}
