/// A Block Kit layout block, for messages and modals.
public enum Block: Sendable, Hashable {
    /// Large bold `plain_text`, at most 150 characters.
    case header(text: TextObject, blockID: String? = nil)
    /// Text (≤ 3,000) and/or fields (≤ 10 × 2,000), with an optional accessory element.
    case section(text: TextObject? = nil, fields: [TextObject]? = nil, accessory: BlockElement? = nil, blockID: String? = nil)
    /// Small print: at most 10 text or image elements.
    case context(elements: [ContextElement], blockID: String? = nil)
    /// At most 25 interactive elements.
    case actions(elements: [BlockElement], blockID: String? = nil)
    case divider(blockID: String? = nil)
    /// A labelled input, in modals.
    case input(label: TextObject, element: BlockElement, blockID: String? = nil, optional: Bool? = nil, hint: TextObject? = nil)

    /// The block's `block_id`, if set.
    public var blockID: String? {
        switch self {
        case .header(_, let id), .section(_, _, _, let id), .context(_, let id), .actions(_, let id), .divider(let id),
            .input(_, _, let id, _, _):
            id
        }
    }

    /// The block's `type` on the wire.
    public var typeName: String {
        switch self {
        case .header: "header"
        case .section: "section"
        case .context: "context"
        case .actions: "actions"
        case .divider: "divider"
        case .input: "input"
        }
    }
}
