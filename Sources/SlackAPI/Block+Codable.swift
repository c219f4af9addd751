extension Block: Codable {
    private enum CodingKeys: String, CodingKey {
        case type, text, fields, accessory, elements, label, element, optional, hint
        case blockID = "block_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        let blockID = try container.decodeIfPresent(String.self, forKey: .blockID)
        switch type {
        case "header":
            self = .header(text: try container.decode(TextObject.self, forKey: .text), blockID: blockID)
        case "section":
            self = .section(
                text: try container.decodeIfPresent(TextObject.self, forKey: .text),
                fields: try container.decodeIfPresent([TextObject].self, forKey: .fields),
                accessory: try container.decodeIfPresent(BlockElement.self, forKey: .accessory),
                blockID: blockID
            )
        case "context":
            self = .context(elements: try container.decode([ContextElement].self, forKey: .elements), blockID: blockID)
        case "actions":
            self = .actions(elements: try container.decode([BlockElement].self, forKey: .elements), blockID: blockID)
        case "divider":
            self = .divider(blockID: blockID)
        case "input":
            self = .input(
                label: try container.decode(TextObject.self, forKey: .label),
                element: try container.decode(BlockElement.self, forKey: .element),
                blockID: blockID,
                optional: try container.decodeIfPresent(Bool.self, forKey: .optional),
                hint: try container.decodeIfPresent(TextObject.self, forKey: .hint)
            )
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unsupported block type `\(type)`")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(typeName, forKey: .type)
        try container.encodeIfPresent(blockID, forKey: .blockID)
        switch self {
        case .header(let text, _):
            try container.encode(text, forKey: .text)
        case .section(let text, let fields, let accessory, _):
            try container.encodeIfPresent(text, forKey: .text)
            try container.encodeIfPresent(fields, forKey: .fields)
            try container.encodeIfPresent(accessory, forKey: .accessory)
        case .context(let elements, _):
            try container.encode(elements, forKey: .elements)
        case .actions(let elements, _):
            try container.encode(elements, forKey: .elements)
        case .divider:
            break
        case .input(let label, let element, _, let optional, let hint):
            try container.encode(label, forKey: .label)
            try container.encode(element, forKey: .element)
            try container.encodeIfPresent(optional, forKey: .optional)
            try container.encodeIfPresent(hint, forKey: .hint)
        }
    }
}
