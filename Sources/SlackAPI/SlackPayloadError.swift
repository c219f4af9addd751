/// Why an inbound Slack payload could not be read.
public enum SlackPayloadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A required field is absent.
    case missingField(String)
    /// The payload is not the JSON or form shape Slack documents.
    case malformed(String)

    public var description: String {
        switch self {
        case .missingField(let name): "the Slack payload has no `\(name)` field"
        case .malformed(let detail): "the Slack payload is malformed: \(detail)"
        }
    }
}
