import ApprovalCore
import Foundation
import SlackAPI

/// Small pieces of Slack text shared by messages, modals and replies.
public enum SlackText {
    /// A Slack user ID such as `U012ABC` (or `W…` on Enterprise Grid).
    public static func isUserID(_ text: String) -> Bool {
        guard let first = text.first, first == "U" || first == "W", text.count >= 3, text.count <= 32 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    /// How a person or system is named in a message: a mention for Slack users, escaped text otherwise.
    public static func who(_ id: String?, name: String? = nil) -> String {
        guard let id else { return "someone" }
        if isUserID(id) { return "<@\(id)>" }
        if id == "system:timeout" { return "Gatehouse (deadline passed)" }
        if id.hasPrefix("key:") {
            let key = String(id.dropFirst(4))
            return name.map { "\(Mrkdwn.escape($0)) (API key \(Mrkdwn.escape(key)))" } ?? "API key \(Mrkdwn.escape(key))"
        }
        if id.hasPrefix("policy:") { return "policy \(Mrkdwn.escape(String(id.dropFirst(7))))" }
        return Mrkdwn.escape(name ?? id)
    }

    /// A time every reader sees in their own time zone, with a UTC fallback.
    public static func date(_ date: Date) -> String {
        "<!date^\(Int64(date.timeIntervalSince1970))^{date_short_pretty} at {time}|\(RFC3339.string(from: date))>"
    }

    /// Text shown inside a ``` block: escaped, and unable to close the block early.
    public static func code(_ text: String) -> String {
        // A zero-width space between every two backticks: no run of them can form a closing fence.
        var out = ""
        var previousWasBacktick = false
        for character in Mrkdwn.escape(text) {
            if character == "`" && previousWasBacktick { out.append("\u{200B}") }
            out.append(character)
            previousWasBacktick = character == "`"
        }
        return out
    }

    /// `text` cut to `limit` (counted as Slack counts), ending in "…" when cut.
    public static func fit(_ text: String, _ limit: Int) -> String {
        BlockKitLimits.truncate(text, to: limit)
    }
}
