import SlackAPI

/// Reads rendered blocks the way the tests need: which texts Slack parses as mrkdwn, which buttons are offered.
enum BlockTexts {
    /// Every `mrkdwn` text in `blocks`, where Slack turns `<…>` into mentions and links.
    static func mrkdwn(in blocks: [Block]) -> [String] {
        var texts: [String] = []
        func add(_ text: TextObject?) {
            if case .mrkdwn(let value)? = text { texts.append(value) }
        }
        func add(_ element: BlockElement) {
            if case .button(let button) = element, let confirm = button.confirm {
                add(confirm.text)
            }
        }
        for block in blocks {
            switch block {
            case .section(let text, let fields, let accessory, _):
                add(text)
                fields?.forEach { add($0) }
                if let accessory { add(accessory) }
            case .context(let elements, _):
                for case .text(let text) in elements { add(text) }
            case .actions(let elements, _):
                elements.forEach(add)
            case .input(_, _, _, _, let hint):
                add(hint)
            case .header, .divider:
                break
            }
        }
        return texts
    }

    /// The section texts (not fields), in order.
    static func sections(in blocks: [Block]) -> [String] {
        blocks.compactMap { if case .section(let text?, _, _, _) = $0 { text.text } else { nil } }
    }

    /// The section whose text starts with `prefix`.
    static func section(startingWith prefix: String, in blocks: [Block]) -> String? {
        sections(in: blocks).first { $0.hasPrefix(prefix) }
    }

    /// The fields of the first section that has fields.
    static func fields(in blocks: [Block]) -> [String] {
        for case .section(_, let fields?, _, _) in blocks { return fields.map(\.text) }
        return []
    }

    /// Every button in the message's actions blocks.
    static func buttons(in blocks: [Block]) -> [ButtonElement] {
        blocks.flatMap { block -> [ButtonElement] in
            guard case .actions(let elements, _) = block else { return [] }
            return elements.compactMap { if case .button(let button) = $0 { button } else { nil } }
        }
    }

    static func header(in blocks: [Block]) -> TextObject? {
        for case .header(let text, _) in blocks { return text }
        return nil
    }

    /// How often "```" occurs: two per intact code block.
    static func fences(in text: String) -> Int {
        text.components(separatedBy: "```").count - 1
    }
}
