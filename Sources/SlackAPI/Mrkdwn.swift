/// Slack's `mrkdwn` text format.
public enum Mrkdwn {
    /// Escapes `&`, `<` and `>` so user-supplied text cannot form links, mentions or `<!channel>` pings.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
