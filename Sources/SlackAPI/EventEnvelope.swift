/// What arrives on the Events API URL.
public enum EventEnvelope: Sendable, Hashable, Decodable {
    /// Slack checking the URL: answer 200 with the challenge (after verifying the signature).
    case urlVerification(challenge: String)
    case eventCallback(EventCallback)
    /// Another envelope type (e.g. `app_rate_limited`).
    case other(type: String)

    private enum CodingKeys: String, CodingKey {
        case type, challenge
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "url_verification": self = .urlVerification(challenge: try container.decode(String.self, forKey: .challenge))
        case "event_callback": self = .eventCallback(try EventCallback(from: decoder))
        default: self = .other(type: type)
        }
    }

    /// Decodes a raw Events API body; verify it first.
    public static func decode(json: [UInt8]) throws(SlackPayloadError) -> EventEnvelope {
        try SlackJSON.decode(EventEnvelope.self, from: json)
    }
}
