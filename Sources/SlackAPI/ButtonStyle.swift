/// A button's or confirm dialog's `style`; Slack accepts only `primary` and `danger`.
///
/// Open rather than a closed enum so that `BlockKitLimits` can report a wrong style found in decoded blocks.
public struct ButtonStyle: RawRepresentable, Sendable, Hashable, Codable {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Green.
    public static let primary = ButtonStyle(rawValue: "primary")
    /// Red.
    public static let danger = ButtonStyle(rawValue: "danger")

    /// Whether Slack accepts this style.
    public var isValid: Bool { self == .primary || self == .danger }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
