import ApprovalCore
import Foundation
import GRDB

/// A message posted to Slack about an approval.
public struct SlackMessageRecord: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The message in the approvals channel.
        case channel
        /// A direct message to an approver.
        case dm
        /// A reply in the channel message's thread.
        case thread
    }

    public var approvalID: ApprovalID
    public var kind: Kind
    public var channel: String
    public var ts: String
    public var recipient: String?
    public var permalink: String?
    public var postedAt: Date
    /// The outbox item (an escalation step) it was posted for, so a retried step skips what it already posted.
    public var outboxItem: Int64?
    /// A DM's first line, saying why it was sent; kept when the DM is updated.
    public var header: String?
    /// Whether it shows the request's state and is updated when that changes: the channel message and DMs with
    /// buttons do; thread replies and reminder DMs do not (a reminder is changed once, when the request is decided).
    public var followsState: Bool
    /// The SHA-256 of the text and blocks it shows now (`SlackDelivery.digest`), or `nil` when unknown.
    public var shownSHA256: String?

    public init(
        approvalID: ApprovalID, kind: Kind, channel: String, ts: String, recipient: String? = nil, permalink: String? = nil,
        postedAt: Date, outboxItem: Int64? = nil, header: String? = nil, followsState: Bool? = nil, shownSHA256: String? = nil
    ) {
        self.shownSHA256 = shownSHA256
        self.outboxItem = outboxItem
        self.header = header
        self.followsState = followsState ?? (kind != .thread)
        self.approvalID = approvalID
        self.kind = kind
        self.channel = channel
        self.ts = ts
        self.recipient = recipient
        self.permalink = permalink
        self.postedAt = postedAt
    }
}

extension GatehouseDatabase {
    /// Remembers a posted message (with an audit entry), so later changes update it and it is never posted twice.
    public func recordSlackMessage(_ message: SlackMessageRecord, audit: AuditEvent?) async throws {
        let now = clock.now
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO slack_message
                        (approval_id, kind, channel, ts, recipient, permalink, posted_at, outbox_item, header, follows_state,
                         shown_sha256)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [message.approvalID.rawValue, message.kind.rawValue, message.channel, message.ts, message.recipient,
                            message.permalink, message.postedAt.millisecondsSince1970, message.outboxItem, message.header,
                            message.followsState, message.shownSHA256]
            )
            if let audit { try AuditLog.append(audit, at: now, in: db) }
        }
    }

    /// Every message posted about an approval, oldest first.
    public func slackMessages(for id: ApprovalID) async throws -> [SlackMessageRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM slack_message WHERE approval_id = ? ORDER BY id", arguments: [id.rawValue]).map { row in
                SlackMessageRecord(
                    approvalID: id, kind: SlackMessageRecord.Kind(rawValue: row["kind"]) ?? .channel, channel: row["channel"],
                    ts: row["ts"], recipient: row["recipient"], permalink: row["permalink"],
                    postedAt: Date(millisecondsSince1970: row["posted_at"]), outboxItem: row["outbox_item"], header: row["header"],
                    followsState: row["follows_state"], shownSHA256: row["shown_sha256"])
            }
        }
    }

    /// Learns more about a recorded message: its permalink (fetched after the post), or what it shows after an update
    /// (see `SlackMessageRecord.shownSHA256`). What is not given stays as it was.
    public func updateSlackMessage(channel: String, ts: String, permalink: String? = nil, shownSHA256: String? = nil) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE slack_message SET permalink = COALESCE(?, permalink), shown_sha256 = COALESCE(?, shown_sha256)
                    WHERE channel = ? AND ts = ?
                    """,
                arguments: [permalink, shownSHA256, channel, ts])
        }
    }
}
