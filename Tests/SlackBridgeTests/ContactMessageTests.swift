import ApprovalCore
import Foundation
import SlackAPI
import SlackBridge
import Testing

/// A contact request's message and reply form: within Slack's limits whatever the agent asks, and buttons whose
/// values come back as they were set.
@Suite("Contact request messages")
struct ContactMessageTests {
    /// Wide characters and Slack's own markup, each counted as Slack counts them.
    static let wide = String(repeating: "ß<&>`*😀", count: 3_000)

    static func contact(options: Int = ContactRequest.optionLimit, answered: Bool = false) -> ContactRequest {
        let question = ContactQuestion(
            runID: String(wide.prefix(255)), callID: String(wide.prefix(255)), message: String(wide.prefix(ContactRequest.messageLimit)),
            subject: String(wide.prefix(ContactRequest.subjectLimit)),
            options: (0..<options).map { index in
                ResponseOption(
                    name: "option-\(index)", title: String(wide.prefix(1_000)), description: String(wide.prefix(1_000)),
                    promptFill: String(wide.prefix(ContactRequest.responseLimit)))
            },
            spec: .object([:]))
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        return ContactRequest(
            id: ContactID(rawValue: "hc_test"), ownerKey: "agent", ownerKeyID: 1, question: question, createdAt: at,
            answer: answered
                ? ContactAnswer(response: String(wide.prefix(ContactRequest.responseLimit)), optionName: "option-3", by: "U0ALICE", byName: nil, at: at)
                : nil)
    }

    @Test("the longest question with the most options fits a message, asked and answered")
    func longestFits() throws {
        try Self.contact().question.validate()
        for answered in [false, true] {
            let rendered = ContactMessage.render(Self.contact(answered: answered))
            #expect(BlockKitLimits.problems(inMessageBlocks: rendered.blocks, text: rendered.text) == [])
        }
    }

    @Test("the reply form fits a modal, filled with an option's text or empty")
    func formFits() {
        for option in [nil, 0, 19] as [Int?] {
            let form = ContactMessage.replyForm(Self.contact(), option: option)
            #expect(BlockKitLimits.problems(inView: form) == [])
            #expect(ContactButtonValue.decode(form.privateMetadata) == ContactButtonValue(contactID: ContactID(rawValue: "hc_test"), option: option))
        }
    }

    @Test("Reply and each option get a button with a unique action id; an answered question has none")
    func buttons() {
        let rendered = ContactMessage.render(Self.contact(options: 2))
        let buttons = rendered.blocks.flatMap { block -> [ButtonElement] in
            guard case .actions(let elements, _) = block else { return [] }
            return elements.compactMap { if case .button(let button) = $0 { button } else { nil } }
        }
        #expect(buttons.map(\.actionID) == [SlackContactID.reply, SlackContactID.option(0), SlackContactID.option(1)])
        #expect(buttons.map { ContactButtonValue.decode($0.value)?.option } == [nil, 0, 1])
        let answered = ContactMessage.render(Self.contact(options: 2, answered: true))
        #expect(!answered.blocks.contains { if case .actions = $0 { true } else { false } })
    }

    @Test("a button value from elsewhere or another version is not read as one")
    func staleValues() {
        #expect(ContactButtonValue.decode(#"{"v":1,"id":"apr_x"}"#) == nil)
        #expect(ContactButtonValue.decode(#"{"v":2,"contact":"hc_x"}"#) == nil)
        #expect(ContactButtonValue.decode(#"{"v":1,"contact":"hc_x","option":-1}"#) == nil)
        #expect(ContactButtonValue.decode(#"{"v":1,"contact":"hc_x","option":1.5}"#) == nil)
        #expect(ContactButtonValue.decode(#"{"v":1,"contact":"hc_x","option":3}"#)?.option == 3)
    }
}
