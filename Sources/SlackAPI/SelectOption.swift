/// An option object of a select menu.
public struct SelectOption: Sendable, Hashable, Codable {
    public var text: TextObject
    public var value: String

    /// An option showing `text` and submitting `value`.
    public init(text: TextObject, value: String) {
        self.text = text
        self.value = value
    }
}
