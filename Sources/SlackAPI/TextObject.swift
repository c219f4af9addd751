/// A Block Kit text object: `plain_text` or `mrkdwn`.
public enum TextObject: Sendable, Hashable, Codable {
    case plainText(String, emoji: Bool? = nil)
    /// Markdown-like text; escape user-supplied parts with `Mrkdwn.escape(_:)`.
    case mrkdwn(String)

    /// The characters shown.
    public var text: String {
        switch self {
        case .plainText(let text, _), .mrkdwn(let text): text
        }
    }

    /// Whether this is `plain_text`, which headers, buttons and modal titles require.
    public var isPlainText: Bool {
        if case .plainText = self { return true }
        return false
    }

    private enum CodingKeys: String, CodingKey {
        case type, text, emoji
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        let text = try container.decode(String.self, forKey: .text)
        switch type {
        case "plain_text": self = .plainText(text, emoji: try container.decodeIfPresent(Bool.self, forKey: .emoji))
        case "mrkdwn": self = .mrkdwn(text)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown text object type `\(type)`")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .plainText(let text, let emoji):
            try container.encode("plain_text", forKey: .type)
            try container.encode(text, forKey: .text)
            try container.encodeIfPresent(emoji, forKey: .emoji)
        case .mrkdwn(let text):
            try container.encode("mrkdwn", forKey: .type)
            try container.encode(text, forKey: .text)
        }
    }
}
