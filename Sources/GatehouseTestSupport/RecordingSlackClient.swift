import ApprovalCore
import Foundation
import SlackAPI
import Synchronization

/// The Slack Web API in process, for unit tests of the Slack handlers: every call is recorded, user groups answer
/// from a table, and a method can be made to fail. (`FakeSlackWebAPI` is the same over real HTTP.)
public final class RecordingSlackClient: SlackWebAPI, Sendable {
    public struct Call: Sendable, Equatable {
        public var method: String
        public var fields: [String: String]
    }

    private struct State {
        var calls: [Call] = []
        var groups: [String: [String]] = [:]
        var failures: [String: SlackAPIError] = [:]
        var nextTS = 1_000
    }

    private let state = Mutex(State())

    /// `groups`: user group ID → its members.
    public init(groups: [String: [String]] = [:]) {
        state.withLock { $0.groups = groups }
    }

    public var calls: [Call] { state.withLock { $0.calls } }

    public func calls(_ method: String) -> [Call] { calls.filter { $0.method == method } }

    /// Every later call of `method` fails with `error`.
    public func fail(_ method: String, with error: SlackAPIError) { state.withLock { $0.failures[method] = error } }

    private func record(_ method: String, _ fields: [String: String]) throws(SlackAPIError) -> Int {
        let outcome = state.withLock { state -> Result<Int, SlackAPIError> in
            state.calls.append(Call(method: method, fields: fields))
            if let failure = state.failures[method] { return .failure(failure) }
            state.nextTS += 1
            return .success(state.nextTS)
        }
        return try outcome.get()
    }

    public func postMessage(channel: String, text: String, blocks: [Block]?, threadTS: String?) async throws(SlackAPIError) -> PostedMessage {
        let n = try record("chat.postMessage", ["channel": channel, "text": text, "thread_ts": threadTS ?? ""])
        // A DM is opened as `D` + the user ID (see `openConversation`); a channel name stands for its ID.
        return PostedMessage(channel: channel.hasPrefix("#") ? "C0APPROVALS" : channel, ts: "1700000000.\(n)")
    }

    public func updateMessage(channel: String, ts: String, text: String, blocks: [Block]?) async throws(SlackAPIError) {
        _ = try record("chat.update", ["channel": channel, "ts": ts, "text": text])
    }

    public func postEphemeral(channel: String, user: String, text: String, blocks: [Block]?, threadTS: String?) async throws(SlackAPIError) -> String {
        "1700000000.\(try record("chat.postEphemeral", ["channel": channel, "user": user, "text": text]))"
    }

    public func permalink(channel: String, messageTS: String) async throws(SlackAPIError) -> String {
        _ = try record("chat.getPermalink", ["channel": channel, "message_ts": messageTS])
        return "https://example.slack.com/archives/\(channel)/p\(messageTS.replacingOccurrences(of: ".", with: ""))"
    }

    public func openView(triggerID: String, view: View) async throws(SlackAPIError) -> String {
        "V\(try record("views.open", ["trigger_id": triggerID, "callback_id": view.callbackID ?? ""]))"
    }

    public func openConversation(users: [String]) async throws(SlackAPIError) -> String {
        _ = try record("conversations.open", ["users": users.joined(separator: ",")])
        return "D" + users.joined()
    }

    public func userInfo(_ id: String) async throws(SlackAPIError) -> SlackUser {
        _ = try record("users.info", ["user": id])
        return SlackUser(id: id, name: id.lowercased())
    }

    public func usergroupMembers(_ id: String) async throws(SlackAPIError) -> [String] {
        _ = try record("usergroups.users.list", ["usergroup": id])
        return state.withLock { $0.groups[id] ?? [] }
    }
}
