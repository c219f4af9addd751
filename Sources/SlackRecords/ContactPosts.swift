import ApprovalCore

/// The Slack message each contact request was posted as, so its answer updates it and it is never posted twice.
public protocol ContactPosts: Sendable {
    /// Where the question was posted, once it was.
    func contactPost(_ id: ContactID) async throws -> (channel: String, ts: String)?
    /// Remembers where it was posted, with its audit entry, in one transaction.
    func recordContactPost(_ id: ContactID, channel: String, ts: String, audit: AuditEvent) async throws
}
