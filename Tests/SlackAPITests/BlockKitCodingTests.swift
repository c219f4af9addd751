import Foundation
import SlackAPI
import Testing

@Suite("Block Kit JSON")
struct BlockKitCodingTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let reasonInput = Block.input(
        label: .plainText("Reason"),
        element: .plainTextInput(
            PlainTextInput(
                actionID: "reason", multiline: true, maxLength: 500, minLength: 1, initialValue: "because",
                placeholder: .plainText("Why?"))),
        blockID: "i", optional: true, hint: .plainText("Shown to the requester"))

    static let blocks: [Block] = [
        .header(text: .plainText("Deploy to production", emoji: true), blockID: "h"),
        .section(
            text: .mrkdwn("*Requested by* <@U1>"), fields: [.mrkdwn("*Risk*\nhigh"), .plainText("plain")],
            accessory: .button(ButtonElement(actionID: "open", text: .plainText("Open"), url: "https://example.test/a/b")),
            blockID: "s"),
        .context(elements: [.text(.mrkdwn("ctx")), .image(ImageElement(imageURL: "https://example.test/i.png", altText: "icon"))]),
        .actions(
            elements: [
                .button(
                    ButtonElement(
                        actionID: "approve", text: .plainText("Approve"), value: "v1", style: .primary,
                        confirm: ConfirmDialog(
                            title: .plainText("Sure?"), text: .mrkdwn("Really"), confirm: .plainText("Yes"),
                            deny: .plainText("No"), style: .danger))),
                .staticSelect(
                    StaticSelect(
                        actionID: "pick", placeholder: .plainText("Choose"),
                        options: [SelectOption(text: .plainText("One"), value: "1"), SelectOption(text: .plainText("Two"), value: "2")],
                        initialOption: SelectOption(text: .plainText("Two"), value: "2"))),
            ], blockID: "a"),
        .divider(),
        reasonInput,
    ]

    /// Golden files written from Slack's Block Kit reference, independently of the encoder.
    static func golden(_ name: String) throws -> String {
        try Fixture.text(name).trimmingCharacters(in: .newlines)
    }

    @Test("blocks encode with Slack's field names")
    func blocksEncode() throws {
        #expect(try Self.json(Self.blocks) == (try Self.golden("golden_message_blocks.json")))
    }

    @Test("blocks decode back to the same values")
    func blocksRoundTrip() throws {
        let golden = try Self.golden("golden_message_blocks.json")
        #expect(try JSONDecoder().decode([Block].self, from: Data(golden.utf8)) == Self.blocks)
    }

    @Test("a modal encodes with type modal and its optional fields")
    func viewEncodes() throws {
        let view = View(
            title: .plainText("Reject"), submit: .plainText("Reject"), close: .plainText("Cancel"), blocks: [Self.reasonInput],
            privateMetadata: #"{"id":"apr_1"}"#, callbackID: "reject", notifyOnClose: true)
        let golden = try Self.golden("golden_modal.json")
        #expect(try Self.json(view) == golden)
        #expect(try JSONDecoder().decode(View.self, from: Data(golden.utf8)) == view)
    }

    @Test("nil fields are omitted")
    func nilFieldsOmitted() throws {
        #expect(try Self.json(Block.divider()) == #"{"type":"divider"}"#)
        #expect(try Self.json(Block.section(text: .mrkdwn("hi"))) == #"{"text":{"text":"hi","type":"mrkdwn"},"type":"section"}"#)
        #expect(
            try Self.json(BlockElement.button(ButtonElement(actionID: "b", text: .plainText("B"))))
                == #"{"action_id":"b","text":{"text":"B","type":"plain_text"},"type":"button"}"#)
        #expect(
            try Self.json(View(title: .plainText("T"), blocks: []))
                == #"{"blocks":[],"title":{"text":"T","type":"plain_text"},"type":"modal"}"#)
    }

    @Test("blocks Slack sent back in a home tab decode, extra fields ignored")
    func homeTabBlocks() throws {
        let view = try #require(try Fixture.object("block_actions_home_tab_real_payload.json")["view"] as? [String: Any])
        let data = try JSONSerialization.data(withJSONObject: try #require(view["blocks"]))
        let blocks = try JSONDecoder().decode([Block].self, from: data)
        #expect(blocks.count == 10)
        #expect(blocks.map(\.typeName).filter { $0 == "divider" }.count == 3)
        guard case .actions(let elements, let blockID) = blocks[1] else {
            Issue.record("second block is not actions")
            return
        }
        #expect(blockID == "home_actions")
        let first = ButtonElement(
            actionID: "home_button_1", text: .plainText("Create New Task", emoji: true), value: "create_task", style: .primary)
        #expect(elements.first == .button(first))
        guard case .context(let context, _) = blocks[2] else {
            Issue.record("third block is not context")
            return
        }
        let image = ImageElement(
            imageURL: "https://docs.slack.dev/img/blocks/bkb_template_images/placeholder.png", altText: "placeholder")
        #expect(context == [.image(image)])
        #expect(BlockKitLimits.problems(inMessageBlocks: blocks, text: nil).isEmpty)
    }

    @Test("the modal of Slack's views.open example decodes and passes the limits")
    func viewsOpenExample() throws {
        let answer = try Fixture.object("web_api/views.open.success.json")
        let data = try JSONSerialization.data(withJSONObject: try #require(answer["view"]))
        let view = try JSONDecoder().decode(View.self, from: data)
        #expect(view.title == .plainText("Quite a plain modal"))
        #expect(view.submit == .plainText("Create"))
        #expect(view.callbackID == "identify_your_modals")
        #expect(view.privateMetadata == "Shh it is a secret")
        #expect(
            view.blocks == [
                .input(
                    label: .plainText("A simple label", emoji: true), element: .plainTextInput(PlainTextInput(actionID: "an_action_id")),
                    blockID: "a_block_id", optional: false)
            ])
        #expect(BlockKitLimits.problems(inView: view).isEmpty)
    }

    @Test("unknown block, element and text types are refused")
    func unknownTypes() {
        for json in [
            #"[{"type":"rich_text","elements":[]}]"#,
            #"[{"type":"actions","elements":[{"type":"overflow","action_id":"o","options":[]}]}]"#,
            #"[{"type":"section","text":{"type":"markdown","text":"x"}}]"#,
        ] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode([Block].self, from: Data(json.utf8)) }
        }
    }

    @Test("mrkdwn escaping covers &, < and > only")
    func mrkdwnEscape() {
        #expect(Mrkdwn.escape("a & b <@U123> <!channel> > *c* _d_ `e`") == "a &amp; b &lt;@U123&gt; &lt;!channel&gt; &gt; *c* _d_ `e`")
        #expect(Mrkdwn.escape("&amp;") == "&amp;amp;")
        #expect(Mrkdwn.escape("Grüße 👋") == "Grüße 👋")
    }
}
