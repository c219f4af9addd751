/// A `button` element.
public struct ButtonElement: Sendable, Hashable, Codable {
    public var actionID: String
    /// `plain_text`, at most 75 characters.
    public var text: TextObject
    /// Returned as set in `block_actions`; at most 2,000 characters.
    public var value: String?
    public var style: ButtonStyle?
    public var confirm: ConfirmDialog?
    /// Opens in the browser as well; at most 3,000 characters.
    public var url: String?

    /// A button.
    public init(
        actionID: String, text: TextObject, value: String? = nil, style: ButtonStyle? = nil,
        confirm: ConfirmDialog? = nil, url: String? = nil
    ) {
        self.actionID = actionID
        self.text = text
        self.value = value
        self.style = style
        self.confirm = confirm
        self.url = url
    }

    private enum CodingKeys: String, CodingKey {
        case type, text, value, style, confirm, url
        case actionID = "action_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        actionID = try container.decode(String.self, forKey: .actionID)
        text = try container.decode(TextObject.self, forKey: .text)
        value = try container.decodeIfPresent(String.self, forKey: .value)
        style = try container.decodeIfPresent(ButtonStyle.self, forKey: .style)
        confirm = try container.decodeIfPresent(ConfirmDialog.self, forKey: .confirm)
        url = try container.decodeIfPresent(String.self, forKey: .url)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("button", forKey: .type)
        try container.encode(actionID, forKey: .actionID)
        try container.encode(text, forKey: .text)
        try container.encodeIfPresent(value, forKey: .value)
        try container.encodeIfPresent(style, forKey: .style)
        try container.encodeIfPresent(confirm, forKey: .confirm)
        try container.encodeIfPresent(url, forKey: .url)
    }
}
