import ApprovalCore
import Foundation
import Signing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Delivers decided approvals to their `callback_url`, signed as CONTRACT.md §6 says:
/// `X-Gatehouse-Signature: v1=<hex HMAC-SHA256 of "v1:" + timestamp + ":" + body>`.
struct CallbackDelivery: OutboxHandler {
    let approvals: any ApprovalRepository
    let poster: any HTTPPoster
    let clock: any WallClock
    let secret: String?
    /// Where deliveries may go; checked on the addresses the host resolves to now, not only when it was filed.
    let targets: CallbackTargets
    let resolver: any HostResolver

    var kinds: [String] { [CallbackOutboxPlanner.kind] }

    /// The signature header value for `body` sent at `timestamp`.
    static func signature(secret: String, timestamp: String, body: Data) -> String {
        let message = Array("v1:\(timestamp):".utf8) + Array(body)
        return "v1=" + HMACSHA256.authenticate(key: Array(secret.utf8), message: message).hexString
    }

    func deliver(_ item: OutboxItem) async throws(OutboxFailure) {
        guard let text = item.payload["url"]?.stringValue, let url = URL(string: text) else {
            throw .permanent("the callback URL is missing or invalid")
        }
        guard let id = item.approvalID else { throw .permanent("the item names no approval") }
        guard let approval = try await OutboxFailure.retryingDatabase({ try await approvals.approval(id) }) else {
            throw .permanent("the approval is gone")
        }
        try await checkTarget(url)
        let body = Data(ApprovalJSON.utf8(approval))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.setValue("Gatehouse-Callback/1", forHTTPHeaderField: "User-Agent")
        request.setValue(approval.id.rawValue, forHTTPHeaderField: "X-Gatehouse-Approval")
        if let secret {
            let timestamp = String(Int64(clock.now.timeIntervalSince1970))
            request.setValue(timestamp, forHTTPHeaderField: "X-Gatehouse-Timestamp")
            request.setValue(Self.signature(secret: secret, timestamp: timestamp, body: body), forHTTPHeaderField: "X-Gatehouse-Signature")
        }
        // While the service stops no callback starts; one on its way runs to its end, so a receiver that took it is
        // not sent it again after the restart. The poster's timeout bounds the wait.
        if Task.isCancelled { throw .retry("not sent, the service is stopping") }
        let poster = self.poster
        let status: Int
        do {
            status = try await Task { [request] in try await poster.send(request).status }.value
        } catch {
            throw .retry("request failed: \(error.localizedDescription)")
        }
        if (300..<400).contains(status) {
            throw .permanent("the receiver answered HTTP \(status), a redirect; callbacks do not follow redirects")
        }
        guard (200..<300).contains(status) else { throw .retry("the receiver answered HTTP \(status)") }
    }

    /// Refuses (for good) a URL whose host is, or resolves to, an address the targets do not allow; a name that does
    /// not resolve now is tried again later.
    private func checkTarget(_ url: URL) async throws(OutboxFailure) {
        guard let host = url.host, !host.isEmpty else { throw .permanent("the callback URL names no host") }
        if targets.allows(host: host) { return }
        let addresses: [IPAddress]
        do {
            addresses = try await resolver.addresses(of: host)
        } catch {
            throw .retry("\(error)")
        }
        guard !addresses.isEmpty else { throw .retry("\(host) resolves to no address") }
        for address in addresses {
            if let refusal = targets.refusal(of: address) { throw .permanent("callback to \(host) refused: \(refusal)") }
        }
    }
}
