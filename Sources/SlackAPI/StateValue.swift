/// One input's state in a view or message: `state.values[block_id][action_id]`.
public struct StateValue: Sendable, Hashable, Decodable {
    /// The element type, e.g. `plain_text_input` or `static_select`.
    public var type: String
    /// A text input's value; `nil` when left empty.
    public var value: String?
    /// A select's chosen option.
    public var selectedOption: SelectedOption?

    /// The option a select menu holds.
    public struct SelectedOption: Sendable, Hashable, Decodable {
        public var value: String

        /// An option with `value`.
        public init(value: String) {
            self.value = value
        }
    }

    /// A state value as Slack would send it.
    public init(type: String, value: String? = nil, selectedOption: SelectedOption? = nil) {
        self.type = type
        self.value = value
        self.selectedOption = selectedOption
    }

    enum CodingKeys: String, CodingKey {
        case type, value
        case selectedOption = "selected_option"
    }
}
