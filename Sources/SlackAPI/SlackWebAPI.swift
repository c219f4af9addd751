/// The Slack Web API methods this service calls. Each call is one HTTP attempt.
public protocol SlackWebAPI: Sendable {
    /// `chat.postMessage`: posts to a channel (ID or name), optionally in a thread.
    func postMessage(channel: String, text: String, blocks: [Block]?, threadTS: String?) async throws(SlackAPIError) -> PostedMessage
    /// `chat.update`: replaces a message's text and blocks; `channel` must be the ID.
    func updateMessage(channel: String, ts: String, text: String, blocks: [Block]?) async throws(SlackAPIError)
    /// `chat.postEphemeral`: shows a message to one user only; returns its `message_ts`.
    @discardableResult
    func postEphemeral(channel: String, user: String, text: String, blocks: [Block]?, threadTS: String?)
        async throws(SlackAPIError) -> String
    /// `chat.getPermalink`: a link to the message.
    func permalink(channel: String, messageTS: String) async throws(SlackAPIError) -> String
    /// `views.open`: opens a modal for a `trigger_id` (valid 3 s, once); returns the view ID.
    func openView(triggerID: String, view: View) async throws(SlackAPIError) -> String
    /// `conversations.open`: the DM (or group DM) channel ID with these users.
    func openConversation(users: [String]) async throws(SlackAPIError) -> String
    /// `users.info`.
    func userInfo(_ id: String) async throws(SlackAPIError) -> SlackUser
    /// `usergroups.users.list`: the member user IDs of a user group.
    func usergroupMembers(_ id: String) async throws(SlackAPIError) -> [String]
}

/// Who a bot token is, and what it may do: `auth.test` and its `x-oauth-scopes` header.
public struct SlackAuth: Sendable, Equatable {
    public var userID: String
    public var team: String
    /// The scopes Slack granted the token; `nil` when the answer did not say.
    public var scopes: [String]?

    public init(userID: String, team: String, scopes: [String]?) {
        self.userID = userID
        self.team = team
        self.scopes = scopes
    }
}

/// The two calls of the startup check. Clients that cannot make them answer `not_supported`, which the check reports
/// and gives up on.
public protocol SlackTokenCheck: Sendable {
    /// `auth.test`.
    func authTest() async throws(SlackAPIError) -> SlackAuth
    /// `conversations.info`: whether the bot is a member of the channel (by ID).
    func isMember(ofChannel id: String) async throws(SlackAPIError) -> Bool
}

