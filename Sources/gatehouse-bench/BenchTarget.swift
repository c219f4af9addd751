import NIOCore

/// Where the load goes: an `http://` URL whose host must be a loopback address.
///
/// Only `127.0.0.0/8`, `::1` and `localhost` (taken as 127.0.0.1, without asking a resolver) are accepted,
/// so the load generator cannot be pointed at another machine.
struct BenchTarget: Sendable, CustomStringConvertible {
    let address: SocketAddress
    /// The value of the `Host` header.
    let hostHeader: String

    var description: String { "http://\(hostHeader)" }

    init(url: String) throws(BenchError) {
        let scheme = "http://"
        guard url.lowercased().hasPrefix(scheme) else {
            throw BenchError.usage("--url must start with http:// (TLS is not supported): \(url)")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else { throw BenchError.usage("--url must not have a path: \(url)") }
            rest = rest[..<slash]
        }
        guard !rest.contains("@") else { throw BenchError.usage("--url must not carry credentials") }

        let host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw BenchError.usage("--url has an unclosed '[': \(url)") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw BenchError.usage("--url is malformed: \(url)") }
                portText = after.dropFirst()
            }
        } else {
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
        }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw BenchError.usage("--url has an invalid port: \(url)")
            }
            port = value
        }
        let address = try Self.loopbackAddress(String(host), port: port)
        self.address = address
        let literal = host.contains(":") ? "[\(host)]" : String(host)
        self.hostHeader = port == 80 ? literal : "\(literal):\(port)"
    }

    /// The socket address for `host` if it is a loopback address; throws otherwise.
    static func loopbackAddress(_ host: String, port: Int) throws(BenchError) -> SocketAddress {
        let refusal = BenchError.usage("refusing to target '\(host)': only 127.0.0.0/8, ::1 and localhost are allowed")
        if host.lowercased() == "localhost" {
            guard let address = try? SocketAddress(ipAddress: "127.0.0.1", port: port) else { throw refusal }
            return address
        }
        // inet_pton: dotted quads only for IPv4, so no "127.1" or hostnames slip through.
        guard let address = try? SocketAddress(ipAddress: host, port: port), let normal = address.ipAddress else {
            throw refusal
        }
        switch address {
        case .v4 where normal.hasPrefix("127."): return address
        case .v6 where normal == "::1": return address
        default: throw refusal
        }
    }
}

/// Why a run stopped.
enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    case failed(String)

    var description: String {
        switch self {
        case .usage(let text), .failed(let text): text
        }
    }
}
