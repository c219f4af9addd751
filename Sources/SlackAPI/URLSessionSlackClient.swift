import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The Slack Web API over `URLSession` (libcurl on Linux), with per-method rate-limit memory and per-channel pacing.
///
/// One call is one HTTP attempt; retries belong to the caller's durable outbox.
public final class URLSessionSlackClient: SlackWebAPI {
    let token: String
    let baseURL: URL
    let pacing: TimeInterval
    let now: @Sendable () -> Date
    let sleep: @Sendable (Duration) async throws -> Void
    let session: URLSession
    /// Told each HTTP attempt's method and time taken, answered or not (the service's latency histogram).
    let onCall: (@Sendable (_ method: String, _ duration: Duration) -> Void)?
    let state = Mutex(State())

    struct State {
        /// Method → the moment its `Retry-After` ends.
        var blockedUntil: [String: Date] = [:]
        /// Channel → the earliest moment the next `chat.postMessage` to it may go out.
        var nextPost: [String: Date] = [:]
    }

    /// A client for one bot token. `pacing` spaces `chat.postMessage` per channel (0 turns it off);
    /// `now` and `sleep` are injected so tests neither wait nor depend on the wall clock.
    public init(
        token: String,
        baseURL: URL = URL(string: "https://slack.com/api/")!,
        pacing: TimeInterval = 1,
        timeout: TimeInterval = 15,
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        onCall: (@Sendable (_ method: String, _ duration: Duration) -> Void)? = nil
    ) {
        self.onCall = onCall
        self.token = token
        self.baseURL = baseURL
        self.pacing = pacing
        self.now = now
        self.sleep = sleep
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        self.session = URLSession(configuration: configuration)
    }

    public func postMessage(channel: String, text: String, blocks: [Block]?, threadTS: String?)
        async throws(SlackAPIError) -> PostedMessage
    {
        let method = "chat.postMessage"
        try checkRateLimit(method)
        try await pace(channel: channel)
        let answer: WebAPIWire.PostMessageAnswer = try await call(
            method, json: WebAPIWire.PostMessage(channel: channel, text: text, blocks: blocks, threadTS: threadTS))
        return PostedMessage(channel: answer.channel, ts: answer.ts)
    }

    public func updateMessage(channel: String, ts: String, text: String, blocks: [Block]?) async throws(SlackAPIError) {
        let _: WebAPIWire.Status = try await call(
            "chat.update", json: WebAPIWire.Update(channel: channel, ts: ts, text: text, blocks: blocks))
    }

    @discardableResult
    public func postEphemeral(channel: String, user: String, text: String, blocks: [Block]?, threadTS: String?)
        async throws(SlackAPIError) -> String
    {
        let answer: WebAPIWire.PostEphemeralAnswer = try await call(
            "chat.postEphemeral",
            json: WebAPIWire.PostEphemeral(channel: channel, user: user, text: text, blocks: blocks, threadTS: threadTS))
        return answer.messageTS
    }

    public func permalink(channel: String, messageTS: String) async throws(SlackAPIError) -> String {
        let answer: WebAPIWire.PermalinkAnswer = try await call(
            "chat.getPermalink", query: [("channel", channel), ("message_ts", messageTS)])
        return answer.permalink
    }

    public func openView(triggerID: String, view: View) async throws(SlackAPIError) -> String {
        let answer: WebAPIWire.OpenViewAnswer = try await call(
            "views.open", json: WebAPIWire.OpenView(triggerID: triggerID, view: view))
        return answer.view.id
    }

    public func openConversation(users: [String]) async throws(SlackAPIError) -> String {
        let answer: WebAPIWire.OpenConversationAnswer = try await call(
            "conversations.open", json: WebAPIWire.OpenConversation(users: users.joined(separator: ",")))
        return answer.channel.id
    }

    public func userInfo(_ id: String) async throws(SlackAPIError) -> SlackUser {
        let answer: WebAPIWire.UserInfoAnswer = try await call("users.info", query: [("user", id)])
        return answer.slackUser
    }

    public func usergroupMembers(_ id: String) async throws(SlackAPIError) -> [String] {
        let answer: WebAPIWire.UsergroupMembersAnswer = try await call(
            "usergroups.users.list", query: [("usergroup", id)])
        return answer.users
    }
}

extension URLSessionSlackClient: SlackTokenCheck {
    private struct AuthAnswer: Decodable {
        var userID: String
        var team: String?

        enum CodingKeys: String, CodingKey {
            case team
            case userID = "user_id"
        }
    }

    private struct InfoAnswer: Decodable {
        struct Channel: Decodable {
            var isMember: Bool?

            enum CodingKeys: String, CodingKey { case isMember = "is_member" }
        }

        var channel: Channel
    }

    public func authTest() async throws(SlackAPIError) -> SlackAuth {
        let (answer, response): (AuthAnswer, HTTPURLResponse) = try await callReading("auth.test", query: [])
        let scopes = response.value(forHTTPHeaderField: "x-oauth-scopes").map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return SlackAuth(userID: answer.userID, team: answer.team ?? "", scopes: scopes)
    }

    public func isMember(ofChannel id: String) async throws(SlackAPIError) -> Bool {
        let answer: InfoAnswer = try await call("conversations.info", query: [("channel", id)])
        return answer.channel.isMember ?? false
    }
}

