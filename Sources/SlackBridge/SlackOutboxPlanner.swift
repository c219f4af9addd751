import ApprovalCore
import Storage

/// Outbox kinds of the Slack side. Items about one approval share an ordering key, so its post always
/// happens before its updates, and updates are applied in order.
public enum SlackOutboxKind {
    public static let post = "slack.post"
    public static let update = "slack.update"
    public static let ephemeral = "slack.ephemeral"
    public static let all = [post, update, ephemeral]

    static func orderingKey(_ id: ApprovalID) -> String { "slack:\(id.rawValue)" }
}

/// Plans a post when an approval is created and an update of every message whenever it changes.
public struct SlackOutboxPlanner: OutboxPlanner {
    public init() {}

    public func outboxItems(for transition: ApprovalTransition) -> [NewOutboxItem] {
        let id = transition.after.id
        let key = SlackOutboxKind.orderingKey(id)
        if transition.before == nil {
            return [NewOutboxItem(kind: SlackOutboxKind.post, approvalID: id, orderingKey: key, payload: .object([:]))]
        }
        if transition.before?.status != transition.after.status || transition.before?.escalationLevel != transition.after.escalationLevel {
            return [NewOutboxItem(kind: SlackOutboxKind.update, approvalID: id, orderingKey: key, payload: .object([:]))]
        }
        return []
    }
}
