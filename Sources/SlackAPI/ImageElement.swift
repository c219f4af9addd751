/// An `image` element, for context blocks and section accessories.
public struct ImageElement: Sendable, Hashable, Codable {
    public var imageURL: String
    public var altText: String

    /// An image with its alternative text.
    public init(imageURL: String, altText: String) {
        self.imageURL = imageURL
        self.altText = altText
    }

    private enum CodingKeys: String, CodingKey {
        case type
        case imageURL = "image_url"
        case altText = "alt_text"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        imageURL = try container.decode(String.self, forKey: .imageURL)
        altText = try container.decode(String.self, forKey: .altText)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("image", forKey: .type)
        try container.encode(imageURL, forKey: .imageURL)
        try container.encode(altText, forKey: .altText)
    }
}
