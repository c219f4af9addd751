/// Walks blocks collecting every broken limit; IDs are tracked across the whole message or view.
struct BlockKitChecker {
    private(set) var problems: [String] = []
    private var blockIDs: Set<String> = []
    private var actionIDs: Set<String> = []

    typealias Limits = BlockKitLimits

    mutating func report(_ problem: String) {
        problems.append(problem)
    }

    mutating func count(_ place: String, _ count: Int, limit: Int) {
        if count > limit { report("\(place): \(count) items; the limit is \(limit)") }
    }

    mutating func length(of text: String, at place: String, limit: Int) {
        let length = Limits.length(text)
        if length > limit { report("\(place) is \(length) characters; the limit is \(limit)") }
    }

    mutating func text(_ text: TextObject?, at place: String, limit: Int, plainText: Bool = false) {
        guard let text else { return }
        if plainText, !text.isPlainText { report("\(place) must be plain_text") }
        length(of: text.text, at: place, limit: limit)
    }

    mutating func check(_ blocks: [Block]) {
        for (index, block) in blocks.enumerated() {
            check(block, at: "blocks[\(index)] (\(block.typeName))")
        }
    }

    private mutating func check(_ block: Block, at place: String) {
        if let id = block.blockID { identifier(id, kind: "block_id", at: place) }
        switch block {
        case .header(let text, _):
            self.text(text, at: "\(place) text", limit: Limits.headerText, plainText: true)
        case .section(let text, let fields, let accessory, _):
            if text == nil, fields?.isEmpty ?? true { report("\(place) needs text or fields") }
            self.text(text, at: "\(place) text", limit: Limits.sectionText)
            if let fields {
                count("\(place) fields", fields.count, limit: Limits.sectionFields)
                for (index, field) in fields.enumerated() {
                    self.text(field, at: "\(place) fields[\(index)]", limit: Limits.sectionFieldText)
                }
            }
            if let accessory { element(accessory, at: "\(place) accessory") }
        case .context(let elements, _):
            count("\(place) elements", elements.count, limit: Limits.contextElements)
        case .actions(let elements, _):
            count("\(place) elements", elements.count, limit: Limits.actionsElements)
            for (index, element) in elements.enumerated() {
                self.element(element, at: "\(place) elements[\(index)]")
            }
        case .divider:
            break
        case .input(_, let element, _, _, _):
            self.element(element, at: "\(place) element")
        }
    }

    private mutating func element(_ element: BlockElement, at place: String) {
        if let id = element.actionID { identifier(id, kind: "action_id", at: place) }
        switch element {
        case .button(let button):
            text(button.text, at: "\(place) text", limit: Limits.buttonText, plainText: true)
            if let value = button.value { length(of: value, at: "\(place) value", limit: Limits.buttonValue) }
            if let url = button.url { length(of: url, at: "\(place) url", limit: Limits.buttonURL) }
            style(button.style, at: place)
            if let confirm = button.confirm { self.confirm(confirm, at: "\(place) confirm") }
        case .plainTextInput(let input):
            if let maxLength = input.maxLength, !(1...Limits.inputMaxLength).contains(maxLength) {
                report("\(place) max_length is \(maxLength); it must be 1…\(Limits.inputMaxLength)")
            }
            if let minLength = input.minLength, !(0...Limits.inputMaxLength).contains(minLength) {
                report("\(place) min_length is \(minLength); it must be 0…\(Limits.inputMaxLength)")
            }
        case .staticSelect, .image:
            break
        }
    }

    private mutating func confirm(_ dialog: ConfirmDialog, at place: String) {
        text(dialog.title, at: "\(place) title", limit: Limits.confirmTitle, plainText: true)
        text(dialog.text, at: "\(place) text", limit: Limits.confirmText)
        text(dialog.confirm, at: "\(place) confirm", limit: Limits.confirmButton, plainText: true)
        text(dialog.deny, at: "\(place) deny", limit: Limits.confirmButton, plainText: true)
        style(dialog.style, at: place)
    }

    private mutating func style(_ style: ButtonStyle?, at place: String) {
        if let style, !style.isValid { report("\(place) style is `\(style.rawValue)`; it must be primary or danger") }
    }

    private mutating func identifier(_ id: String, kind: String, at place: String) {
        length(of: id, at: "\(place) \(kind)", limit: Limits.identifier)
        let isNew = kind == "block_id" ? blockIDs.insert(id).inserted : actionIDs.insert(id).inserted
        if !isNew {
            report("\(place) \(kind) `\(Limits.truncate(id, to: 40))` is used more than once")
        }
    }
}
