/// A `plain_text_input` element, for input blocks in modals.
public struct PlainTextInput: Sendable, Hashable, Codable {
    public var actionID: String
    public var multiline: Bool?
    /// 1 … 3,000.
    public var maxLength: Int?
    public var minLength: Int?
    public var initialValue: String?
    public var placeholder: TextObject?

    /// A text input.
    public init(
        actionID: String, multiline: Bool? = nil, maxLength: Int? = nil, minLength: Int? = nil,
        initialValue: String? = nil, placeholder: TextObject? = nil
    ) {
        self.actionID = actionID
        self.multiline = multiline
        self.maxLength = maxLength
        self.minLength = minLength
        self.initialValue = initialValue
        self.placeholder = placeholder
    }

    private enum CodingKeys: String, CodingKey {
        case type, multiline, placeholder
        case actionID = "action_id"
        case maxLength = "max_length"
        case minLength = "min_length"
        case initialValue = "initial_value"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        actionID = try container.decode(String.self, forKey: .actionID)
        multiline = try container.decodeIfPresent(Bool.self, forKey: .multiline)
        maxLength = try container.decodeIfPresent(Int.self, forKey: .maxLength)
        minLength = try container.decodeIfPresent(Int.self, forKey: .minLength)
        initialValue = try container.decodeIfPresent(String.self, forKey: .initialValue)
        placeholder = try container.decodeIfPresent(TextObject.self, forKey: .placeholder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("plain_text_input", forKey: .type)
        try container.encode(actionID, forKey: .actionID)
        try container.encodeIfPresent(multiline, forKey: .multiline)
        try container.encodeIfPresent(maxLength, forKey: .maxLength)
        try container.encodeIfPresent(minLength, forKey: .minLength)
        try container.encodeIfPresent(initialValue, forKey: .initialValue)
        try container.encodeIfPresent(placeholder, forKey: .placeholder)
    }
}
