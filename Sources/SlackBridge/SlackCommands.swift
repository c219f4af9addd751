import ApprovalCore
import Foundation
import SlackAPI
import Storage

/// The slash command: answers within Slack's 3 seconds, always ephemeral, with a short text.
public struct SlackCommands: Sendable {
    let database: GatehouseDatabase
    let clock: any WallClock
    /// Admins from `GATEHOUSE_ADMINS`; those added with `admin add` are in the database.
    let configuredAdmins: Set<String>

    public init(database: GatehouseDatabase, clock: any WallClock, configuredAdmins: [String] = []) {
        self.database = database
        self.clock = clock
        self.configuredAdmins = Set(configuredAdmins)
    }

    public func answer(_ command: SlashCommand) async throws -> String {
        let words = command.text.split(whereSeparator: \.isWhitespace).map(String.init)
        switch words.first?.lowercased() {
        case nil, "help": return Self.help(command.command)
        case "pending": return try await pending()
        default:
            return "I don't know `\(Mrkdwn.escape(words[0]))`.\n\n" + Self.help(command.command)
        }
    }

    static func help(_ name: String) -> String {
        let name = name.isEmpty ? "/gatehouse" : name
        return """
            *Gatehouse* — approvals for agents and pipelines.
            • `\(name) pending` — requests waiting for a decision
            • `\(name) help` — this text
            Requests appear in the approvals channel with *Approve*, *Reject* and *Modify* buttons.
            """
    }

    func pending() async throws -> String {
        let page = try await database.list(ApprovalFilter(status: .pending), limit: 20)
        if page.approvals.isEmpty { return "Nothing is waiting for a decision." }
        let now = clock.now
        var lines = ["*Pending requests* (newest first):"]
        for approval in page.approvals {
            var line = "• *\(Mrkdwn.escape(String(approval.action.prefix(80))))* — gate `\(Mrkdwn.escape(approval.gate))`, "
                + "\(Self.age(now.timeIntervalSince(approval.createdAt))) old, level \(approval.escalationLevel)"
            if let link = try await database.slackMessages(for: approval.id).first(where: { $0.kind == .channel })?.permalink {
                line += " — <\(link)|open>"
            }
            lines.append(line)
        }
        if page.next != nil { lines.append("… and more; see `GET /v1/approvals?status=pending`.") }
        return lines.joined(separator: "\n")
    }

    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 90 { return "\(s)s" }
        if s < 5400 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86_400)d"
    }
}
