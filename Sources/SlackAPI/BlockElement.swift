/// An interactive element of an actions block, a section accessory, or an input block.
public enum BlockElement: Sendable, Hashable, Codable {
    case button(ButtonElement)
    case plainTextInput(PlainTextInput)
    case staticSelect(StaticSelect)
    case image(ImageElement)

    /// The element's `action_id`, if it has one.
    public var actionID: String? {
        switch self {
        case .button(let button): button.actionID
        case .plainTextInput(let input): input.actionID
        case .staticSelect(let select): select.actionID
        case .image: nil
        }
    }

    /// The element's `type` on the wire.
    public var typeName: String {
        switch self {
        case .button: "button"
        case .plainTextInput: "plain_text_input"
        case .staticSelect: "static_select"
        case .image: "image"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "button": self = .button(try ButtonElement(from: decoder))
        case "plain_text_input": self = .plainTextInput(try PlainTextInput(from: decoder))
        case "static_select": self = .staticSelect(try StaticSelect(from: decoder))
        case "image": self = .image(try ImageElement(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unsupported element type `\(type)`")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .button(let button): try button.encode(to: encoder)
        case .plainTextInput(let input): try input.encode(to: encoder)
        case .staticSelect(let select): try select.encode(to: encoder)
        case .image(let image): try image.encode(to: encoder)
        }
    }
}
