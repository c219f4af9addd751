import Foundation

/// Slack's Block Kit limits, checked before sending so a message is never refused with `invalid_blocks`.
///
/// Lengths are counted in UTF-16 code units: never fewer than the characters Slack counts, so text that
/// passes here passes there.
public enum BlockKitLimits {
    public static let messageBlocks = 50
    public static let modalBlocks = 100
    public static let sectionText = 3000
    public static let sectionFields = 10
    public static let sectionFieldText = 2000
    public static let headerText = 150
    /// `block_id` and `action_id`.
    public static let identifier = 255
    public static let actionsElements = 25
    public static let contextElements = 10
    public static let buttonText = 75
    public static let buttonValue = 2000
    public static let buttonURL = 3000
    public static let confirmTitle = 100
    public static let confirmText = 300
    /// The confirm dialog's `confirm` and `deny` texts.
    public static let confirmButton = 30
    /// A modal's `title`, `submit` and `close`.
    public static let modalText = 24
    public static let privateMetadata = 3000
    public static let callbackID = 255
    public static let inputMaxLength = 3000
    /// A message's `text`; `chat.update` refuses more.
    public static let messageText = 4000
    /// A whole view, as JSON bytes.
    public static let viewBytes = 250_000

    /// The length Slack's limits are checked against.
    public static func length(_ text: String) -> Int {
        text.utf16.count
    }

    /// Every limit a message's blocks and fallback text break, as readable sentences; empty when Slack would accept it.
    public static func problems(inMessageBlocks blocks: [Block], text: String?) -> [String] {
        var checker = BlockKitChecker()
        checker.count("blocks", blocks.count, limit: messageBlocks)
        if let text { checker.length(of: text, at: "text", limit: messageText) }
        checker.check(blocks)
        return checker.problems
    }

    /// Every limit a modal breaks, as readable sentences; empty when Slack would accept it.
    public static func problems(inView view: View) -> [String] {
        var checker = BlockKitChecker()
        checker.count("view blocks", view.blocks.count, limit: modalBlocks)
        checker.text(view.title, at: "view title", limit: modalText, plainText: true)
        checker.text(view.submit, at: "view submit", limit: modalText, plainText: true)
        checker.text(view.close, at: "view close", limit: modalText, plainText: true)
        let hasInput = view.blocks.contains { if case .input = $0 { true } else { false } }
        if hasInput, view.submit == nil {
            checker.report("view has an input block but no submit button")
        }
        if let metadata = view.privateMetadata { checker.length(of: metadata, at: "view private_metadata", limit: privateMetadata) }
        if let callback = view.callbackID { checker.length(of: callback, at: "view callback_id", limit: callbackID) }
        checker.check(view.blocks)
        if let json = try? SlackJSON.encoder().encode(view), json.count > viewBytes {
            checker.report("view is \(json.count) bytes of JSON; the limit is \(viewBytes)")
        }
        return checker.problems
    }

    /// `text` cut on a character boundary to at most `limit` (as `length(_:)` counts), ending in "…" when cut.
    public static func truncate(_ text: String, to limit: Int) -> String {
        guard length(text) > limit else { return text }
        guard limit > 0 else { return "" }
        let ellipsis = "…"
        let budget = limit - length(ellipsis)
        var out = ""
        var used = 0
        for character in text {
            let size = character.utf16.count
            if used + size > budget { break }
            out.append(character)
            used += size
        }
        return out + ellipsis
    }
}
