import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Where a request comes from, for counting refusals per source: the connection's address, or, behind a reverse
/// proxy that the service is told to trust (`trust_forwarded_for`), the last address the proxy appended to
/// `X-Forwarded-For`.
struct ClientSources: Sendable {
    let trustForwardedFor: Bool

    func source(of request: Request, context: GatehouseRequestContext) -> String {
        if trustForwardedFor, let forwarded = request.headers[.forwardedFor],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return String(last.prefix(64))
        }
        return context.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

extension HTTPField.Name {
    static let forwardedFor = Self("X-Forwarded-For")!
}
