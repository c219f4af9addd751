import ApprovalCore
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Resolves a host name to its addresses, for checking where a callback would go before it goes.
public protocol HostResolver: Sendable {
    func addresses(of host: String) async throws -> [IPAddress]
}

/// The system's resolver (`getaddrinfo`), off the tasks' threads: it blocks.
public struct SystemResolver: HostResolver {
    public init() {}

    public func addresses(of host: String) async throws -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, nil, &hints, &list)
                guard status == 0, let first = list else {
                    continuation.resume(throwing: ResolutionError(host: host, reason: String(cString: gai_strerror(status))))
                    return
                }
                defer { freeaddrinfo(list) }
                var addresses: [IPAddress] = []
                var entry: UnsafeMutablePointer<addrinfo>? = first
                while let current = entry {
                    if let address = current.pointee.ai_addr {
                        switch Int32(current.pointee.ai_family) {
                        case AF_INET:
                            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                                var raw = $0.pointee.sin_addr
                                addresses.append(IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }))
                            }
                        case AF_INET6:
                            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                                var raw = $0.pointee.sin6_addr
                                addresses.append(IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }))
                            }
                        default: break
                        }
                    }
                    entry = current.pointee.ai_next
                }
                var seen: Set<IPAddress> = []
                continuation.resume(returning: addresses.filter { seen.insert($0).inserted })
            }
        }
    }

    struct ResolutionError: Error, CustomStringConvertible {
        let host: String
        let reason: String
        var description: String { "cannot resolve \(host): \(reason)" }
    }
}
