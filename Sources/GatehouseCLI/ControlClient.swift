import ApprovalCore
import Dispatch
import Foundation
import GatehouseServer

#if canImport(Glibc)
import Glibc
#endif

/// The command line's side of the control socket: the running service makes the change (see `ControlController`), so
/// the command line never writes the database beside it. One short HTTP/1.1 exchange per call over a Unix socket.
struct ControlClient: AdministrationPort {
    let socketPath: String

    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var code: String
        var message: String
        var description: String { message }
    }

    func createKey(name: String, scope: APIKeyScope, boundTo: String?, breakGlass: Bool, by actor: Actor) async throws -> String {
        let answer = try await post(
            ControlProtocol.keys,
            ControlProtocol.KeyRequest(name: name, scope: scope, boundTo: boundTo, breakGlass: breakGlass, user: Self.user(actor)))
        return try decode(ControlProtocol.KeyCreated.self, answer).key
    }

    func revokeKey(name: String, by actor: Actor) async throws {
        _ = try await post(ControlProtocol.revokeKey, ControlProtocol.KeyRequest(name: name, scope: nil, user: Self.user(actor)))
    }

    func applyChains(_ chains: [EscalationChain], pruning: Bool, dryRun: Bool, by actor: Actor) async throws -> Administration.ChainsApplied {
        let answer = try await post(ControlProtocol.chains, ControlProtocol.ChainsRequest(chains: chains, prune: pruning, dryRun: dryRun, user: Self.user(actor)))
        return try decode(Administration.ChainsApplied.self, answer)
    }

    func applyPolicies(_ set: PolicySet, dryRun: Bool, by actor: Actor) async throws -> Administration.PoliciesApplied {
        let answer = try await post(ControlProtocol.policies, ControlProtocol.PoliciesRequest(policies: set, dryRun: dryRun, user: Self.user(actor)))
        return try decode(Administration.PoliciesApplied.self, answer)
    }

    /// The account the service records the change as `cli:NAME` for.
    static func user(_ actor: Actor) -> String {
        if case .cli(let name) = actor { return name }
        return actor.id
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: data)
    }

    /// Sends `body` as JSON to `path`; the answer's body on a 2xx, else its error as a `Failure`.
    func post(_ path: String, _ body: some Encodable) async throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let payload = try encoder.encode(body)
        var request = Data("POST /\(path) HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/json\r\n".utf8)
        request += Data("Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8)
        request += payload
        // Blocking socket calls, kept off the tasks' threads (a service in the same process answers on them).
        let (socketPath, bytes) = (self.socketPath, request)
        let (status, answer) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int, Data), any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.exchange(bytes, over: socketPath) })
            }
        }
        guard (200..<300).contains(status) else {
            let error = try? JSONValue.parse(answer)["error"]
            throw Failure(
                status: status, code: error?["code"]?.stringValue ?? "http_\(status)",
                message: error?["message"]?.stringValue ?? "The service answered HTTP \(status).")
        }
        return answer
    }

    /// A socket connected to the service's control socket. A service that holds the database's lock but has not
    /// opened its socket yet is starting (`gatehouse serve &` just before this command): it is given 5 s to.
    private static func connected(to socketPath: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard socketPath.utf8.count < capacity else {
            throw Failure(status: 0, code: "path_too_long", message: "the control socket path '\(socketPath)' is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            bytes.copyBytes(from: socketPath.utf8)
            bytes[socketPath.utf8.count] = 0
        }
        for attempt in 1...50 {
            let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw Failure(status: 0, code: "socket", message: "cannot make a socket: \(Self.errorText())") }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if result == 0 { return socket }
            let failure = errno
            let text = Self.errorText()
            close(socket)
            guard attempt < 50, failure == ENOENT || failure == ECONNREFUSED else {
                throw Failure(
                    status: 0, code: "unreachable",
                    message: "cannot reach the service at '\(socketPath)': \(text) (it holds the database but does not answer)")
            }
            usleep(100_000)
        }
        throw Failure(status: 0, code: "unreachable", message: "cannot reach the service at '\(socketPath)'")
    }

    /// Writes the whole request, reads the answer (its `Content-Length`, or to the end of the connection), and splits
    /// off the status and body.
    private static func exchange(_ request: Data, over socketPath: String) throws -> (status: Int, body: Data) {
        let socket = try connected(to: socketPath)
        defer { close(socket) }
        try request.withUnsafeBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let n = send(socket, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw Failure(status: 0, code: "unreachable", message: "the service closed the control socket") }
                sent += n
            }
        }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while !Self.isComplete(answer) {
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer.append(contentsOf: buffer[..<n])
        }
        guard let (status, _, body) = Self.split(answer) else {
            throw Failure(status: 0, code: "bad_answer", message: "the service's answer on the control socket could not be read")
        }
        return (status, body)
    }

    /// The status, the `Content-Length` (when given) and the body received so far; `nil` before the head is whole.
    private static func split(_ answer: Data) -> (status: Int, length: Int?, body: Data)? {
        guard let end = answer.range(of: Data("\r\n\r\n".utf8)),
            let head = String(data: answer[..<end.lowerBound], encoding: .utf8)
        else { return nil }
        let lines = head.split(separator: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        let length = lines.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
        return (status, length, Data(answer[end.upperBound...]))
    }

    private static func isComplete(_ answer: Data) -> Bool {
        guard let (_, length, body) = split(answer), let length else { return false }
        return body.count >= length
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
