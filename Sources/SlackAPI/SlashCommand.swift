/// A slash command invocation, from the form fields Slack posts to the command URL.
public struct SlashCommand: Sendable, Hashable {
    /// The command as typed, e.g. `/approve`.
    public var command: String
    /// Everything after the command; empty when nothing was typed.
    public var text: String
    public var userID: String
    /// Deprecated by Slack; a display aid only.
    public var userName: String?
    public var channelID: String
    public var channelName: String?
    public var teamID: String
    public var responseURL: String?
    public var triggerID: String?

    /// A command as Slack would send it.
    public init(
        command: String, text: String = "", userID: String, userName: String? = nil, channelID: String,
        channelName: String? = nil, teamID: String, responseURL: String? = nil, triggerID: String? = nil
    ) {
        self.command = command
        self.text = text
        self.userID = userID
        self.userName = userName
        self.channelID = channelID
        self.channelName = channelName
        self.teamID = teamID
        self.responseURL = responseURL
        self.triggerID = triggerID
    }

    /// Reads the command from parsed form fields; throws when a field Slack always sends is missing.
    public init(fields: [String: String]) throws(SlackPayloadError) {
        func required(_ name: String) throws(SlackPayloadError) -> String {
            guard let value = fields[name], !value.isEmpty else { throw .missingField(name) }
            return value
        }
        self.init(
            command: try required("command"),
            text: fields["text"] ?? "",
            userID: try required("user_id"),
            userName: fields["user_name"],
            channelID: try required("channel_id"),
            channelName: fields["channel_name"],
            teamID: try required("team_id"),
            responseURL: fields["response_url"],
            triggerID: fields["trigger_id"]
        )
    }

    /// Reads the command from a raw form body; verify it first.
    public init(formBody: [UInt8]) throws(SlackPayloadError) {
        try self.init(fields: FormBody.parse(formBody))
    }

    /// Whether the fields are Slack's certificate probe (`ssl_check=1`), to be answered 200 and otherwise ignored.
    public static func isSSLCheck(_ fields: [String: String]) -> Bool {
        fields["ssl_check"] == "1"
    }
}
