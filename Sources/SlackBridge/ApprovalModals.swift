import ApprovalCore
import Foundation
import SlackAPI

/// The modals opened from an approval's buttons, and the reading of their submissions.
public enum ApprovalModals {
    /// Asks for a reason (required) and a reason code.
    public static func reject(_ approval: Approval) -> View {
        View(
            title: .plainText("Reject request"), submit: .plainText("Reject"), close: .plainText("Cancel"),
            blocks: [
                .section(text: .mrkdwn(SlackText.fit("You are rejecting *\(Mrkdwn.escape(approval.action))*.", BlockKitLimits.sectionText))),
                .input(
                    label: .plainText("Why?"),
                    element: .plainTextInput(PlainTextInput(
                        actionID: SlackInputID.reason.rawValue, multiline: true, maxLength: 2_000, minLength: 1,
                        placeholder: .plainText("The requester sees this"))),
                    blockID: SlackInputID.reason.rawValue),
                .input(
                    label: .plainText("Reason"),
                    element: .staticSelect(StaticSelect(
                        actionID: SlackInputID.reasonCode.rawValue, placeholder: .plainText("Pick one"),
                        options: RejectReasonCode.allCases.map { SelectOption(text: .plainText($0.label), value: $0.rawValue) })),
                    blockID: SlackInputID.reasonCode.rawValue, optional: true),
            ],
            privateMetadata: ButtonValue(approvalID: approval.id).encoded, callbackID: SlackCallbackID.reject.rawValue
        )
    }

    /// The largest payload (pretty-printed) that fits an editable text input.
    public static let editableLimit = BlockKitLimits.inputMaxLength

    /// The payload as editable JSON, or `nil` when it is too large to edit in Slack.
    public static func modify(_ approval: Approval) -> View? {
        let pretty = CanonicalJSON.pretty(approval.payload)
        guard BlockKitLimits.length(pretty) <= editableLimit else { return nil }
        return View(
            title: .plainText("Modify request"), submit: .plainText("Approve changes"), close: .plainText("Cancel"),
            blocks: [
                .section(text: .mrkdwn(SlackText.fit(
                    "Edit the payload of *\(Mrkdwn.escape(approval.action))*. Submitting approves the request with your changes; the requester must run them instead of the original.",
                    BlockKitLimits.sectionText))),
                .input(
                    label: .plainText("Payload (JSON object)"),
                    element: .plainTextInput(PlainTextInput(
                        actionID: SlackInputID.payload.rawValue, multiline: true, maxLength: editableLimit, initialValue: pretty)),
                    blockID: SlackInputID.payload.rawValue),
            ],
            privateMetadata: ButtonValue(approvalID: approval.id).encoded, callbackID: SlackCallbackID.modify.rawValue
        )
    }

    /// The whole payload, in as many code blocks as it needs (up to the modal's 100 blocks).
    public static func details(_ approval: Approval) -> View {
        let code = SlackText.code(CanonicalJSON.pretty(approval.payload))
        var blocks: [Block] = [
            .section(text: .mrkdwn(SlackText.fit("*\(Mrkdwn.escape(approval.action))*\n`\(approval.id.rawValue)` · sha256 `\(approval.payloadSHA256)`", BlockKitLimits.sectionText)))
        ]
        let chunk = 2_900
        // Slack refuses a view over 250 kB of JSON: stop well before, counting each chunk as it will be encoded.
        let byteBudget = BlockKitLimits.viewBytes - 10_000
        var bytes = 0
        var rest = Substring(code)
        while !rest.isEmpty && blocks.count < BlockKitLimits.modalBlocks - 1 {
            var piece = rest.prefix(chunk)
            while BlockKitLimits.length(String(piece)) > chunk { piece = piece.dropLast() }
            let size = Self.encodedSize(piece) + 80
            if bytes + size > byteBudget { break }
            bytes += size
            blocks.append(.section(text: .mrkdwn("```\(piece)```")))
            rest = rest.dropFirst(piece.count)
        }
        if !rest.isEmpty {
            blocks.append(.context(elements: [.text(.mrkdwn("Too long to show here; the whole payload is at `GET /v1/approvals/\(approval.id.rawValue)`."))]))
        }
        return View(title: .plainText("Payload"), close: .plainText("Close"), blocks: blocks, callbackID: SlackCallbackID.details.rawValue)
    }

    /// Bytes `text` takes inside a JSON string.
    static func encodedSize(_ text: Substring) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            switch scalar {
            case "\"", "\\", "\n", "\r", "\t": total + 2
            case _ where scalar.value < 0x20: total + 6
            default: total + String(scalar).utf8.count
            }
        }
    }

    /// The reject modal's answers.
    public static func rejection(from values: [String: [String: StateValue]]) -> (reason: String, code: String?)? {
        guard let reason = values[SlackInputID.reason.rawValue]?[SlackInputID.reason.rawValue]?.value?
            .trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty
        else { return nil }
        let code = values[SlackInputID.reasonCode.rawValue]?[SlackInputID.reasonCode.rawValue]?.selectedOption?.value
        return (reason, code.flatMap { RejectReasonCode(rawValue: $0)?.rawValue })
    }

    /// The modify modal's payload: a JSON object, or the sentence to show under the input.
    public static func editedPayload(from values: [String: [String: StateValue]], original: JSONValue) -> Result<JSONValue, ModalError> {
        let text = values[SlackInputID.payload.rawValue]?[SlackInputID.payload.rawValue]?.value ?? ""
        return editedPayload(text, original: original).mapError { ModalError(block: SlackInputID.payload.rawValue, message: $0.message) }
    }

    /// An edited payload as typed (in a modal or on the web page): a JSON object other than `original`, or the
    /// sentence to show beside the editor.
    public static func editedPayload(_ text: String, original: JSONValue) -> Result<JSONValue, PayloadEditError> {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(text, exactNumbers: true)
        } catch {
            return .failure(PayloadEditError(
                message: error.inexactNumberSentence(root: "payload") ?? "That is not valid JSON: \(error.message) (byte \(error.offset))."))
        }
        guard parsed.objectValue != nil else { return .failure(PayloadEditError(message: "The payload must be a JSON object ({ … }).")) }
        guard parsed != original else {
            return .failure(PayloadEditError(message: "Nothing changed. To approve as it is, use Approve."))
        }
        return .success(parsed)
    }
}

/// Why an edited payload is refused, as a sentence.
public struct PayloadEditError: Error, Sendable, Equatable {
    public var message: String
}

/// An inline error in a modal: `{"response_action": "errors", "errors": {block: message}}`.
public struct ModalError: Error, Sendable, Equatable {
    public var block: String
    public var message: String

    public init(block: String, message: String) {
        self.block = block
        self.message = message
    }

    public var responseBody: JSONValue {
        .object(["response_action": .string("errors"), "errors": .object([block: .string(SlackText.fit(message, 1_000))])])
    }
}
