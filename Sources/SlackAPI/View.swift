/// A modal view, for `views.open`.
public struct View: Sendable, Hashable, Codable {
    /// `plain_text`, at most 24 characters.
    public var title: TextObject
    /// Required when the view has an input block; `plain_text`, at most 24 characters.
    public var submit: TextObject?
    /// `plain_text`, at most 24 characters.
    public var close: TextObject?
    /// At most 100.
    public var blocks: [Block]
    /// Returned in `view_submission`; at most 3,000 characters.
    public var privateMetadata: String?
    /// At most 255 characters.
    public var callbackID: String?
    /// Whether Slack sends `view_closed` when the user dismisses the modal.
    public var notifyOnClose: Bool?

    /// A modal.
    public init(
        title: TextObject, submit: TextObject? = nil, close: TextObject? = nil, blocks: [Block],
        privateMetadata: String? = nil, callbackID: String? = nil, notifyOnClose: Bool? = nil
    ) {
        self.title = title
        self.submit = submit
        self.close = close
        self.blocks = blocks
        self.privateMetadata = privateMetadata
        self.callbackID = callbackID
        self.notifyOnClose = notifyOnClose
    }

    private enum CodingKeys: String, CodingKey {
        case type, title, submit, close, blocks
        case privateMetadata = "private_metadata"
        case callbackID = "callback_id"
        case notifyOnClose = "notify_on_close"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        guard type == "modal" else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "not a modal: `\(type)`")
        }
        title = try container.decode(TextObject.self, forKey: .title)
        submit = try container.decodeIfPresent(TextObject.self, forKey: .submit)
        close = try container.decodeIfPresent(TextObject.self, forKey: .close)
        blocks = try container.decode([Block].self, forKey: .blocks)
        privateMetadata = try container.decodeIfPresent(String.self, forKey: .privateMetadata)
        callbackID = try container.decodeIfPresent(String.self, forKey: .callbackID)
        notifyOnClose = try container.decodeIfPresent(Bool.self, forKey: .notifyOnClose)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("modal", forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encodeIfPresent(submit, forKey: .submit)
        try container.encodeIfPresent(close, forKey: .close)
        try container.encode(blocks, forKey: .blocks)
        try container.encodeIfPresent(privateMetadata, forKey: .privateMetadata)
        try container.encodeIfPresent(callbackID, forKey: .callbackID)
        try container.encodeIfPresent(notifyOnClose, forKey: .notifyOnClose)
    }
}
