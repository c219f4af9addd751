import ApprovalCore
import Foundation
import SlackAPI

/// What a contact request's button (or its form's `private_metadata`) carries: the question and, for an option's
/// button, which option; versioned as approvals' buttons are.
public struct ContactButtonValue: Sendable, Equatable {
    public static let currentVersion = 1

    public var contactID: ContactID
    /// The index of the option among the question's options; `nil` for **Reply**.
    public var option: Int?

    public init(contactID: ContactID, option: Int? = nil) {
        self.contactID = contactID
        self.option = option
    }

    public var encoded: String {
        var members: [String: JSONValue] = ["v": .number(Double(Self.currentVersion)), "contact": .string(contactID.rawValue)]
        if let option { members["option"] = .number(Double(option)) }
        return CanonicalJSON.serialize(.object(members))
    }

    /// The value, or `nil` when it is not one this version understands.
    public static func decode(_ text: String?) -> ContactButtonValue? {
        guard let text, let json = try? JSONValue.parse(text), json["v"] == .number(Double(currentVersion)),
            let id = json["contact"]?.stringValue, id.hasPrefix("hc_"), id.count <= 64
        else { return nil }
        var option: Int?
        if case .number(let index)? = json["option"] {
            guard index >= 0, index < Double(ContactRequest.optionLimit), index.rounded() == index else { return nil }
            option = Int(index)
        }
        return ContactButtonValue(contactID: ContactID(rawValue: id), option: option)
    }
}

/// A contact request as a Block Kit message (the question, **Reply** and one button per option; once answered, the
/// answer and who gave it) and the form **Reply** opens. Pure, and cut to Slack's limits whatever the input.
public enum ContactMessage {
    /// The notification text and the blocks for `contact` as it stands.
    public static func render(_ contact: ContactRequest) -> (text: String, blocks: [Block]) {
        var blocks: [Block] = [
            .header(text: .plainText(SlackText.fit(
                contact.subject.map { "Question: " + $0.split(whereSeparator: \.isNewline).joined(separator: " ") } ?? "Question from an agent",
                BlockKitLimits.headerText))),
            .section(text: .mrkdwn(SlackText.fit(Mrkdwn.escape(contact.message), BlockKitLimits.sectionText))),
        ]
        let described = contact.options.filter { $0.description?.isEmpty == false }
        if !described.isEmpty {
            let lines = described.map { "*\(Mrkdwn.escape($0.answerText))*: \(Mrkdwn.escape($0.description ?? ""))" }
            blocks.append(.section(text: .mrkdwn(SlackText.fit(lines.joined(separator: "\n"), BlockKitLimits.sectionText))))
        }
        if let answer = contact.answer {
            let option = answer.optionName.map { " (option `\(Mrkdwn.escape(SlackText.fit($0, 100)))`)" } ?? ""
            let quoted = Mrkdwn.escape(answer.response).split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }
            blocks.append(.section(text: .mrkdwn(SlackText.fit(
                ":speech_balloon: *Answered* by \(SlackText.who(answer.by, name: answer.byName)) \(SlackText.date(answer.at))\(option)\n"
                    + quoted.joined(separator: "\n"),
                BlockKitLimits.sectionText))))
        } else {
            var buttons: [BlockElement] = [
                .button(ButtonElement(
                    actionID: SlackContactID.reply, text: .plainText("Reply"), value: ContactButtonValue(contactID: contact.id).encoded,
                    style: .primary))
            ]
            for (index, option) in contact.options.enumerated().prefix(BlockKitLimits.actionsElements - 1) {
                buttons.append(.button(ButtonElement(
                    actionID: SlackContactID.option(index), text: .plainText(SlackText.fit(option.answerText, BlockKitLimits.buttonText)),
                    value: ContactButtonValue(contactID: contact.id, option: index).encoded)))
            }
            blocks.append(.actions(elements: buttons, blockID: "gatehouse.contact_actions"))
        }
        let asked = "Asked by run `\(Mrkdwn.escape(SlackText.fit(contact.runID, 200)))` with API key \(Mrkdwn.escape(contact.ownerKey))"
            + " · `\(Mrkdwn.escape(SlackText.fit(contact.callID, 200)))` · \(SlackText.date(contact.createdAt))"
        blocks.append(.context(elements: [.text(.mrkdwn(SlackText.fit(asked, 2_000)))]))
        let head = contact.answer == nil ? "Question" : "Answered"
        return (SlackText.fit("\(head): \(Mrkdwn.escape(contact.subject ?? contact.message))", 300), blocks)
    }

    /// The form for an answer in free text, opened by **Reply**, or by an option with text to fill in (`option`, whose
    /// text it starts with).
    public static func replyForm(_ contact: ContactRequest, option: Int? = nil) -> View {
        let chosen = option.flatMap { contact.options.indices.contains($0) ? contact.options[$0] : nil }
        var intro = "*\(Mrkdwn.escape(SlackText.fit(contact.subject ?? "The agent asks", 200)))*\n\(Mrkdwn.escape(contact.message))"
        if let chosen { intro = "Answering with *\(Mrkdwn.escape(chosen.answerText))*. " + intro }
        return View(
            title: .plainText("Reply"), submit: .plainText("Send"), close: .plainText("Cancel"),
            blocks: [
                .section(text: .mrkdwn(SlackText.fit(intro, BlockKitLimits.sectionText))),
                .input(
                    label: .plainText("Your answer"),
                    element: .plainTextInput(PlainTextInput(
                        actionID: SlackContactID.response, multiline: true, maxLength: ContactRequest.responseLimit, minLength: 1,
                        initialValue: chosen?.promptFill.map { SlackText.fit($0, ContactRequest.responseLimit) },
                        placeholder: .plainText("The agent reads this"))),
                    blockID: SlackContactID.response),
            ],
            privateMetadata: ContactButtonValue(contactID: contact.id, option: chosen == nil ? nil : option).encoded,
            callbackID: SlackContactID.replyForm)
    }

    /// The text typed in the form, trimmed; `nil` when empty.
    public static func response(from values: [String: [String: StateValue]]) -> String? {
        guard let text = values[SlackContactID.response]?[SlackContactID.response]?.value?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else { return nil }
        return text
    }
}
