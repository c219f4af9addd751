import ApprovalCore
import Foundation

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
