import Foundation
import SlackAPI
import Testing

@Suite("Block Kit limits")
struct BlockKitLimitsTests {
    static func text(_ count: Int) -> String {
        String(repeating: "a", count: count)
    }

    static func message(_ blocks: [Block], text: String? = nil) -> [String] {
        BlockKitLimits.problems(inMessageBlocks: blocks, text: text)
    }

    static func button(
        _ id: String = "b", text: String = "Approve", value: String? = nil, url: String? = nil, style: ButtonStyle? = nil,
        confirm: ConfirmDialog? = nil
    ) -> BlockElement {
        .button(ButtonElement(actionID: id, text: .plainText(text), value: value, style: style, confirm: confirm, url: url))
    }

    static func confirm(title: Int = 5, text: Int = 5, confirm: Int = 3, deny: Int = 2, style: ButtonStyle? = nil) -> ConfirmDialog {
        ConfirmDialog(
            title: .plainText(Self.text(title)), text: .mrkdwn(Self.text(text)), confirm: .plainText(Self.text(confirm)),
            deny: .plainText(Self.text(deny)), style: style)
    }

    static func modal(
        title: String = "Reject", submit: String? = "Send", close: String? = nil, blocks: [Block] = [],
        privateMetadata: String? = nil, callbackID: String? = nil
    ) -> [String] {
        BlockKitLimits.problems(
            inView: View(
                title: .plainText(title), submit: submit.map { .plainText($0) }, close: close.map { .plainText($0) }, blocks: blocks,
                privateMetadata: privateMetadata, callbackID: callbackID))
    }

    /// The value at the limit passes; one more gives exactly one problem.
    static func expectLimit(at: [String], over: [String], mentioning word: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(at.isEmpty, "at the limit: \(at)", sourceLocation: sourceLocation)
        #expect(over.count == 1, "over the limit: \(over)", sourceLocation: sourceLocation)
        #expect(over.first?.contains(word) == true, "\(over) mentions \(word)", sourceLocation: sourceLocation)
    }

    @Test("a message holds at most 50 blocks")
    func messageBlocks() {
        Self.expectLimit(
            at: Self.message(Array(repeating: .divider(), count: 50)), over: Self.message(Array(repeating: .divider(), count: 51)),
            mentioning: "50")
    }

    @Test("a modal holds at most 100 blocks")
    func modalBlocks() {
        Self.expectLimit(
            at: Self.modal(blocks: Array(repeating: .divider(), count: 100)),
            over: Self.modal(blocks: Array(repeating: .divider(), count: 101)), mentioning: "100")
    }

    @Test("section text is at most 3,000 characters")
    func sectionText() {
        Self.expectLimit(
            at: Self.message([.section(text: .mrkdwn(Self.text(3000)))]),
            over: Self.message([.section(text: .mrkdwn(Self.text(3001)))]), mentioning: "3000")
    }

    @Test("a section has at most 10 fields")
    func sectionFieldCount() {
        let fields = Array(repeating: TextObject.mrkdwn("f"), count: 10)
        Self.expectLimit(
            at: Self.message([.section(fields: fields)]), over: Self.message([.section(fields: fields + [.mrkdwn("f")])]),
            mentioning: "10")
    }

    @Test("a section field is at most 2,000 characters")
    func sectionFieldText() {
        Self.expectLimit(
            at: Self.message([.section(fields: [.mrkdwn("x"), .mrkdwn(Self.text(2000))])]),
            over: Self.message([.section(fields: [.mrkdwn("x"), .mrkdwn(Self.text(2001))])]), mentioning: "fields[1]")
    }

    @Test("a section needs text or fields")
    func sectionNeedsContent() {
        #expect(Self.message([.section(accessory: Self.button())]).count == 1)
        #expect(Self.message([.section(fields: [])]).count == 1)
    }

    @Test("header text is plain_text of at most 150 characters")
    func header() {
        Self.expectLimit(
            at: Self.message([.header(text: .plainText(Self.text(150)))]),
            over: Self.message([.header(text: .plainText(Self.text(151)))]), mentioning: "150")
        #expect(Self.message([.header(text: .mrkdwn("*bold*"))]) == ["blocks[0] (header) text must be plain_text"])
    }

    @Test("block_id is at most 255 characters")
    func blockIDLength() {
        Self.expectLimit(
            at: Self.message([.divider(blockID: Self.text(255))]), over: Self.message([.divider(blockID: Self.text(256))]),
            mentioning: "block_id")
    }

    @Test("action_id is at most 255 characters")
    func actionIDLength() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(Self.text(255))])]),
            over: Self.message([.actions(elements: [Self.button(Self.text(256))])]), mentioning: "action_id")
    }

    @Test("block_id is unique within the message")
    func blockIDUnique() {
        Self.expectLimit(
            at: Self.message([.divider(blockID: "a"), .divider(blockID: "b")]),
            over: Self.message([.divider(blockID: "a"), .divider(blockID: "a")]), mentioning: "more than once")
    }

    @Test("action_id is unique within the message, across blocks")
    func actionIDUnique() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button("x")]), .section(text: .mrkdwn("t"), accessory: Self.button("y"))]),
            over: Self.message([.actions(elements: [Self.button("x")]), .section(text: .mrkdwn("t"), accessory: Self.button("x"))]),
            mentioning: "more than once")
    }

    @Test("action_id is unique within a modal too")
    func actionIDUniqueInView() {
        let input = { (id: String) in Block.input(label: .plainText("L"), element: .plainTextInput(PlainTextInput(actionID: id))) }
        Self.expectLimit(
            at: Self.modal(blocks: [input("a"), input("b")]), over: Self.modal(blocks: [input("a"), input("a")]),
            mentioning: "more than once")
    }

    @Test("an actions block has at most 25 elements")
    func actionsElements() {
        let buttons = (0..<25).map { Self.button("b\($0)") }
        Self.expectLimit(
            at: Self.message([.actions(elements: buttons)]), over: Self.message([.actions(elements: buttons + [Self.button("b25")])]),
            mentioning: "25")
    }

    @Test("a context block has at most 10 elements")
    func contextElements() {
        let elements = Array(repeating: ContextElement.text(.mrkdwn("c")), count: 10)
        Self.expectLimit(
            at: Self.message([.context(elements: elements)]), over: Self.message([.context(elements: elements + [.text(.mrkdwn("c"))])]),
            mentioning: "10")
    }

    @Test("button text is plain_text of at most 75 characters")
    func buttonText() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(text: Self.text(75))])]),
            over: Self.message([.actions(elements: [Self.button(text: Self.text(76))])]), mentioning: "75")
        let mrkdwn = BlockElement.button(ButtonElement(actionID: "b", text: .mrkdwn("*Go*")))
        #expect(Self.message([.actions(elements: [mrkdwn])]).count == 1)
    }

    @Test("button value is at most 2,000 characters")
    func buttonValue() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(value: Self.text(2000))])]),
            over: Self.message([.actions(elements: [Self.button(value: Self.text(2001))])]), mentioning: "value")
    }

    @Test("button url is at most 3,000 characters")
    func buttonURL() {
        let url = { (count: Int) in "https://x.test/" + Self.text(count - 15) }
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(url: url(3000))])]),
            over: Self.message([.actions(elements: [Self.button(url: url(3001))])]), mentioning: "url")
    }

    @Test("button style is primary or danger")
    func buttonStyle() throws {
        #expect(Self.message([.actions(elements: [Self.button("p", style: .primary), Self.button("d", style: .danger)])]).isEmpty)
        #expect(Self.message([.actions(elements: [Self.button(style: ButtonStyle(rawValue: "blue"))])]).count == 1)
        let json = #"""
            [{"type": "actions", "elements": [
                {"type": "button", "action_id": "b", "text": {"type": "plain_text", "text": "B"}, "style": "default"}
            ]}]
            """#
        let decoded = try JSONDecoder().decode([Block].self, from: Data(json.utf8))
        #expect(Self.message(decoded) == ["blocks[0] (actions) elements[0] style is `default`; it must be primary or danger"])
    }

    @Test("confirm dialog title is at most 100 characters")
    func confirmTitle() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(title: 100))])]),
            over: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(title: 101))])]), mentioning: "title")
    }

    @Test("confirm dialog text is at most 300 characters")
    func confirmText() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(text: 300))])]),
            over: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(text: 301))])]), mentioning: "300")
    }

    @Test("confirm dialog confirm text is at most 30 characters")
    func confirmConfirm() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(confirm: 30))])]),
            over: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(confirm: 31))])]), mentioning: "confirm confirm")
    }

    @Test("confirm dialog deny text is at most 30 characters")
    func confirmDeny() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(deny: 30))])]),
            over: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(deny: 31))])]), mentioning: "deny")
    }

    @Test("confirm dialog style is primary or danger")
    func confirmStyle() {
        Self.expectLimit(
            at: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(style: .danger))])]),
            over: Self.message([.actions(elements: [Self.button(confirm: Self.confirm(style: ButtonStyle(rawValue: "warning")))])]),
            mentioning: "style")
    }

    @Test("modal title is plain_text of at most 24 characters")
    func modalTitle() {
        Self.expectLimit(at: Self.modal(title: Self.text(24)), over: Self.modal(title: Self.text(25)), mentioning: "title")
        #expect(BlockKitLimits.problems(inView: View(title: .mrkdwn("T"), blocks: [])) == ["view title must be plain_text"])
    }

    @Test("modal submit is at most 24 characters")
    func modalSubmit() {
        Self.expectLimit(at: Self.modal(submit: Self.text(24)), over: Self.modal(submit: Self.text(25)), mentioning: "submit")
    }

    @Test("modal close is at most 24 characters")
    func modalClose() {
        Self.expectLimit(at: Self.modal(close: Self.text(24)), over: Self.modal(close: Self.text(25)), mentioning: "close")
    }

    @Test("a modal with an input block needs a submit button")
    func submitRequired() {
        let input = Block.input(label: .plainText("Reason"), element: .plainTextInput(PlainTextInput(actionID: "r")))
        Self.expectLimit(at: Self.modal(submit: "Send", blocks: [input]), over: Self.modal(submit: nil, blocks: [input]), mentioning: "submit")
        #expect(Self.modal(submit: nil, blocks: [.divider()]).isEmpty)
    }

    @Test("modal private_metadata is at most 3,000 characters")
    func privateMetadata() {
        Self.expectLimit(
            at: Self.modal(privateMetadata: Self.text(3000)), over: Self.modal(privateMetadata: Self.text(3001)),
            mentioning: "private_metadata")
    }

    @Test("modal callback_id is at most 255 characters")
    func callbackID() {
        Self.expectLimit(
            at: Self.modal(callbackID: Self.text(255)), over: Self.modal(callbackID: Self.text(256)), mentioning: "callback_id")
    }

    @Test("plain_text_input max_length is 1 … 3,000")
    func inputMaxLength() {
        let input = { (max: Int) in
            Self.modal(blocks: [.input(label: .plainText("L"), element: .plainTextInput(PlainTextInput(actionID: "i", maxLength: max)))])
        }
        Self.expectLimit(at: input(3000), over: input(3001), mentioning: "max_length")
        Self.expectLimit(at: input(1), over: input(0), mentioning: "max_length")
    }

    @Test("message text is at most 4,000 characters")
    func messageText() {
        Self.expectLimit(at: Self.message([], text: Self.text(4000)), over: Self.message([], text: Self.text(4001)), mentioning: "4000")
    }

    @Test("a whole view is at most 250 kB of JSON")
    func viewSize() throws {
        func view(sections: Int, padding: Int) -> View {
            var blocks = Array(repeating: Block.section(text: .mrkdwn(Self.text(2900))), count: sections)
            blocks.append(.section(text: .mrkdwn(Self.text(padding))))
            return View(title: .plainText("Big"), blocks: blocks)
        }
        func size(_ view: View) throws -> Int { try JSONEncoder().encode(view).count }
        let sections = try #require(
            try (1..<100).reversed().first { try size(view(sections: $0, padding: 0)) < BlockKitLimits.viewBytes - 1 })
        let padding = BlockKitLimits.viewBytes - (try size(view(sections: sections, padding: 0)))
        try #require(padding < BlockKitLimits.sectionText)
        let exact = view(sections: sections, padding: padding)
        #expect(try size(exact) == 250_000)
        let over = view(sections: sections, padding: padding + 1)
        Self.expectLimit(at: BlockKitLimits.problems(inView: exact), over: BlockKitLimits.problems(inView: over), mentioning: "bytes")
    }

    @Test("lengths count UTF-16 units, never fewer than Slack's characters")
    func lengthMeasure() {
        let emoji = String(repeating: "😀", count: 1500)
        #expect(Self.message([.section(text: .mrkdwn(emoji))]).isEmpty)
        #expect(Self.message([.section(text: .mrkdwn(emoji + "😀"))]).count == 1)
    }

    @Test("every problem is reported, not just the first")
    func reportsAll() {
        let problems = Self.message(
            [.header(text: .plainText(Self.text(151)), blockID: "x"), .divider(blockID: "x")] + Array(repeating: .divider(), count: 50),
            text: Self.text(4001))
        #expect(problems.count == 4)
    }

    @Test("truncate leaves short text alone and cuts long text to the limit with an ellipsis")
    func truncate() {
        #expect(BlockKitLimits.truncate("hello", to: 5) == "hello")
        #expect(BlockKitLimits.truncate("hello!", to: 5) == "hell…")
        #expect(BlockKitLimits.truncate("hello", to: 1) == "…")
        #expect(BlockKitLimits.truncate("hello", to: 0) == "")
        let long = Self.text(3500)
        let cut = BlockKitLimits.truncate(long, to: BlockKitLimits.sectionText)
        #expect(BlockKitLimits.length(cut) == 3000)
        #expect(cut.hasSuffix("…"))
        #expect(Self.message([.section(text: .mrkdwn(cut))]).isEmpty)
    }

    @Test("truncate never splits a character")
    func truncateOnCharacterBoundary() {
        let thumbs = "👍🏽"
        #expect(thumbs.utf16.count == 4)
        #expect(BlockKitLimits.truncate("ab" + thumbs + "cd", to: 6) == "ab…")
        #expect(BlockKitLimits.truncate("ab" + thumbs + "cd", to: 7) == "ab" + thumbs + "…")
        let accented = "e\u{301}e\u{301}e\u{301}"
        #expect(BlockKitLimits.truncate(accented, to: 4) == "e\u{301}…")
        #expect(BlockKitLimits.truncate(accented, to: 4).unicodeScalars.count == 3)
    }
}
