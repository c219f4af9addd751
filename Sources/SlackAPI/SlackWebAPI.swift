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
