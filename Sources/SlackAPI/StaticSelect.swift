/// A `static_select` element.
public struct StaticSelect: Sendable, Hashable, Codable {
    public var actionID: String
    public var placeholder: TextObject?
    public var options: [SelectOption]
    public var initialOption: SelectOption?

    /// A select menu over fixed options.
    public init(actionID: String, placeholder: TextObject? = nil, options: [SelectOption], initialOption: SelectOption? = nil) {
        self.actionID = actionID
        self.placeholder = placeholder
        self.options = options
        self.initialOption = initialOption
    }

    private enum CodingKeys: String, CodingKey {
        case type, placeholder, options
        case actionID = "action_id"
        case initialOption = "initial_option"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        actionID = try container.decode(String.self, forKey: .actionID)
        placeholder = try container.decodeIfPresent(TextObject.self, forKey: .placeholder)
        options = try container.decode([SelectOption].self, forKey: .options)
        initialOption = try container.decodeIfPresent(SelectOption.self, forKey: .initialOption)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("static_select", forKey: .type)
        try container.encode(actionID, forKey: .actionID)
        try container.encodeIfPresent(placeholder, forKey: .placeholder)
        try container.encode(options, forKey: .options)
        try container.encodeIfPresent(initialOption, forKey: .initialOption)
    }
}
