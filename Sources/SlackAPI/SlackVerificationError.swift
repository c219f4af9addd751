/// Why a request claiming to come from Slack was refused.
public enum SlackVerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `X-Slack-Request-Timestamp` or `X-Slack-Signature` is absent.
    case missingHeaders
    /// The timestamp header is not a decimal integer.
    case malformedTimestamp
    /// The timestamp is further from now than the tolerance, in either direction.
    case stale
    /// The signature does not match the body under the signing secret.
    case badSignature

    public var description: String {
        switch self {
        case .missingHeaders: "the Slack signature or timestamp header is missing"
        case .malformedTimestamp: "the Slack request timestamp is not a whole number of seconds"
        case .stale: "the Slack request timestamp is too far from the current time"
        case .badSignature: "the Slack signature does not match the request body"
        }
    }
}
