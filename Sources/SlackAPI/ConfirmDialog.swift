/// A confirmation dialog shown before a button's action goes through.
public struct ConfirmDialog: Sendable, Hashable, Codable {
    /// `plain_text`, at most 100 characters.
    public var title: TextObject
    /// At most 300 characters.
    public var text: TextObject
    /// `plain_text`, at most 30 characters.
    public var confirm: TextObject
    /// `plain_text`, at most 30 characters.
    public var deny: TextObject
    public var style: ButtonStyle?

    /// A dialog with the given wording.
    public init(title: TextObject, text: TextObject, confirm: TextObject, deny: TextObject, style: ButtonStyle? = nil) {
        self.title = title
        self.text = text
        self.confirm = confirm
        self.deny = deny
        self.style = style
    }
}
