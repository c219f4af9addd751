/// What arrives on the interactivity URL, told apart by its `type`.
public enum InteractionPayload: Sendable, Hashable, Decodable {
    case blockActions(BlockActions)
    case viewSubmission(ViewSubmission)
    case viewClosed(ViewClosed)
    /// A payload type this module does not model (shortcuts, suggestions, …).
    case other(type: String)

    private enum CodingKeys: String, CodingKey {
        case type
    }

    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .type)
        switch type {
        case "block_actions": self = .blockActions(try BlockActions(from: decoder))
        case "view_submission": self = .viewSubmission(try ViewSubmission(from: decoder))
        case "view_closed": self = .viewClosed(try ViewClosed(from: decoder))
        default: self = .other(type: type)
        }
    }

    /// Decodes the JSON of the `payload` field.
    public static func decode(json: [UInt8]) throws(SlackPayloadError) -> InteractionPayload {
        try SlackJSON.decode(InteractionPayload.self, from: json)
    }

    /// Decodes a raw interactivity request body (`payload=<url-encoded JSON>`); verify it first.
    public static func decode(formBody: [UInt8]) throws(SlackPayloadError) -> InteractionPayload {
        guard let payload = FormBody.parse(formBody)["payload"] else { throw .missingField("payload") }
        return try decode(json: Array(payload.utf8))
    }
}
