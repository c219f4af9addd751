import ApprovalCore

/// Outbox kinds of the Slack side. Items about one approval share an ordering key, so its post always
/// happens before its updates, and updates are applied in order.
public enum SlackOutboxKind {
    public static let post = "slack.post"
    public static let update = "slack.update"
    public static let ephemeral = "slack.ephemeral"
    /// A level's approvers are asked: a reply in the thread and a DM to each of them.
    public static let escalate = "slack.escalate"
    /// The loud post about a break-glass approval, with **Mark reviewed**; and updates of it.
    public static let breakGlass = "slack.break_glass"
    /// A direct message to each admin (break-glass over its limit, or unreviewed too long).
    public static let adminNotice = "slack.admin_notice"
    /// A contact request's message: posted when it is not yet, else updated to show the question as it stands.
    public static let contact = "slack.contact"
    public static let all = [post, update, ephemeral, escalate, breakGlass, adminNotice, contact]

    static func orderingKey(_ id: ApprovalID) -> String { "slack:\(id.rawValue)" }

    /// The loud post about a break-glass use of `id` (or, once posted, its update).
    public static func breakGlassPost(_ id: ApprovalID, overLimit: JSONValue? = nil) -> NewOutboxItem {
        NewOutboxItem(
            kind: breakGlass, approvalID: id, orderingKey: orderingKey(id),
            payload: .object(overLimit.map { ["over_limit": $0] } ?? [:]))
    }

    /// Brings the message of contact request `id` in line with it (posts it the first time); one at a time per question.
    public static func contactMessage(_ id: ContactID) -> NewOutboxItem {
        NewOutboxItem(
            kind: contact, approvalID: nil, orderingKey: "slack:\(id.rawValue)", payload: .object(["contact": .string(id.rawValue)]))
    }

    /// A DM with `text` to each of `admins`.
    public static func adminNotice(_ text: String, to admins: [String]) -> NewOutboxItem {
        NewOutboxItem(
            kind: adminNotice, approvalID: nil,
            payload: .object(["text": .string(text), "admins": .array(admins.map(JSONValue.string))]))
    }
}

/// Plans a post when an approval is created, the pings of an escalation, and an update of every message whenever
/// what they show changes.
public struct SlackOutboxPlanner: OutboxPlanner {
    public init() {}

    public func outboxItems(for transition: ApprovalTransition) -> [NewOutboxItem] {
        let id = transition.after.id
        let key = SlackOutboxKind.orderingKey(id)
        if transition.before == nil {
            // Approved at submit by an `auto` rule: nobody needs to look at it.
            guard transition.after.status == .pending else { return [] }
            return [NewOutboxItem(kind: SlackOutboxKind.post, approvalID: id, orderingKey: key, payload: .object([:]))]
        }
        var items: [NewOutboxItem] = []
        for case .notifyApprovers(let level, let repeated) in transition.effects {
            items.append(NewOutboxItem(
                kind: SlackOutboxKind.escalate, approvalID: id, orderingKey: key,
                payload: .object(["level": .number(Double(level)), "repeated": .bool(repeated)])))
        }
        // Messages show the request's status and its escalation note, so they are updated when either changes. A held
        // request asking its last level again keeps its note (it names no time for the next ask) and leaves them alone,
        // except at its last ask, after which it expires: the note then says so.
        let noteBefore = transition.before.flatMap(EscalationText.note(for:))
        if transition.before?.status != transition.after.status || noteBefore != EscalationText.note(for: transition.after)
            || transition.before?.votes != transition.after.votes
        {
            items.append(NewOutboxItem(kind: SlackOutboxKind.update, approvalID: id, orderingKey: key, payload: .object([:])))
        }
        for case .audit(let event) in transition.effects where event.kind == .breakGlass {
            items.append(SlackOutboxKind.breakGlassPost(id, overLimit: event.details["over_limit"] ?? .bool(false)))
        }
        return items
    }
}
