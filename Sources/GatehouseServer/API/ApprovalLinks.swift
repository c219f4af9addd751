import ApprovalCore
import SlackRecords

/// Where people can see an approval outside the API (its Slack message): the approval object's `links.slack`.
public protocol ApprovalLinkProvider: Sendable {
    func link(for id: ApprovalID) async throws -> String?
    /// The links of several approvals in one read, for lists.
    func links(for ids: [ApprovalID]) async throws -> [ApprovalID: String]
}

/// No links: Slack is off.
struct NoLinks: ApprovalLinkProvider {
    func link(for id: ApprovalID) async throws -> String? { nil }
    func links(for ids: [ApprovalID]) async throws -> [ApprovalID: String] { [:] }
}

/// The permalink of the request's message in the approvals channel, once it is posted.
struct SlackLinks: ApprovalLinkProvider {
    let messages: any SlackMessageStore

    func link(for id: ApprovalID) async throws -> String? {
        try await messages.slackPermalinks(for: [id])[id]
    }

    func links(for ids: [ApprovalID]) async throws -> [ApprovalID: String] {
        try await messages.slackPermalinks(for: ids)
    }
}
