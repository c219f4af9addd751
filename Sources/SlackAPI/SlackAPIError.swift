import Foundation

/// Why a Web API call failed. One value per HTTP attempt; retrying is the caller's decision.
public enum SlackAPIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// HTTP 429 or `ratelimited`: wait this long before calling the same method again.
    case rateLimited(retryAfter: TimeInterval)
    /// Slack answered with a 5xx status.
    case server(status: Int)
    /// No usable HTTP answer (connection refused, timeout, TLS, cancellation).
    case network(String)
    /// Slack answered `ok: false` with this error code.
    case api(String)
    /// The answer was not the JSON Slack documents.
    case decoding(String)

    public var description: String {
        switch self {
        case .rateLimited(let seconds): "Slack rate limit: retry after \(Self.format(seconds)) s"
        case .server(let status): "Slack answered HTTP \(status)"
        case .network(let detail): "cannot reach Slack: \(detail)"
        case .api(let code): "Slack error `\(code)`"
        case .decoding(let detail): "unreadable Slack answer: \(detail)"
        }
    }

    private static func format(_ seconds: TimeInterval) -> String {
        seconds.rounded() == seconds ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}
