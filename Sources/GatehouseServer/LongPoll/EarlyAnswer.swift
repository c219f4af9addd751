import HTTPTypes
import NIOCore

/// An answer to parked long-polls, encoded once as HTTP/1.1: the head shared by all of them (one decision's answer to
/// every poll it wakes), each poll's own `X-Request-Id`, and the body.
struct EarlyAnswer: Sendable {
    let head: ByteBuffer
    let body: ByteBuffer

    init(status: HTTPResponse.Status = .ok, body: ByteBuffer, serverName: String?, date: String = HTTPDate.now()) {
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: \(ApprovalsController.jsonContentType)\r\n"
        head += "Content-Length: \(body.readableBytes)\r\nDate: \(date)\r\n"
        if let serverName { head += "Server: \(serverName)\r\n" }
        self.head = ByteBuffer(string: head)
        self.body = body
    }

    /// The whole answer for a poll with `requestID`, in one buffer (one write on the socket).
    func bytes(requestID: String?) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(head.readableBytes + body.readableBytes + 160)
        out.writeImmutableBuffer(head)
        if let requestID, Self.isFieldValue(requestID) {
            out.writeString("X-Request-Id: ")
            out.writeString(requestID)
            out.writeString("\r\n")
        }
        out.writeString("\r\n")
        out.writeImmutableBuffer(body)
        return out
    }

    /// Visible ASCII and spaces only: the id is echoed from the request, and nothing may break the head.
    private static func isFieldValue(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 == 0x20 || (0x21...0x7E).contains($0) }
    }
}
