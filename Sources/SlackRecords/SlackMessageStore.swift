import ApprovalCore
import Foundation

/// What Gatehouse remembers of the messages it posted to Slack, so later changes update them and none is posted
/// twice. Slack's identifiers stay on this side of the domain: the approval knows nothing of channels or `ts`.
public protocol SlackMessageStore: Sendable {
    /// Remembers a posted message (with an audit entry, when given), in one transaction.
    func recordSlackMessage(_ message: SlackMessageRecord, audit: AuditEvent?) async throws
    /// Every message posted about an approval, oldest first.
    func slackMessages(for id: ApprovalID) async throws -> [SlackMessageRecord]
    /// The permalinks of the channel messages of `ids` (those posted and linked so far), in one read.
    func slackPermalinks(for ids: [ApprovalID]) async throws -> [ApprovalID: String]
    /// Learns more about a recorded message: its permalink, or what it shows after an update. What is not given stays.
    func updateSlackMessage(channel: String, ts: String, permalink: String?, shownSHA256: String?) async throws
}
