/// An element of a context block: text or a small image.
public enum ContextElement: Sendable, Hashable, Codable {
    case text(TextObject)
    case image(ImageElement)

    private enum CodingKeys: String, CodingKey {
        case type
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "image": self = .image(try ImageElement(from: decoder))
        default: self = .text(try TextObject(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .text(let text): try text.encode(to: encoder)
        case .image(let image): try image.encode(to: encoder)
        }
    }
}
