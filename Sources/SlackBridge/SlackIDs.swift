/// Every `action_id`, `callback_id` and input `block_id` this service puts in Slack, in one place.
public enum SlackActionID: String, Sendable, CaseIterable {
    case approve = "gatehouse.approve"
    case reject = "gatehouse.reject"
    case modify = "gatehouse.modify"
    case details = "gatehouse.details"
    case markReviewed = "gatehouse.mark_reviewed"
}

public enum SlackCallbackID: String, Sendable {
    case reject = "gatehouse.reject_modal"
    case modify = "gatehouse.modify_modal"
    case details = "gatehouse.details_modal"
}

/// Input blocks of the modals; their `action_id` is the same string.
public enum SlackInputID: String, Sendable {
    case reason = "reason"
    case reasonCode = "reason_code"
    case payload = "payload"
}

/// Why a request was rejected, as offered in the reject modal.
public enum RejectReasonCode: String, Sendable, CaseIterable {
    case unsafe
    case wrongTarget = "wrong_target"
    case needsChanges = "needs_changes"
    case notNow = "not_now"
    case other

    public var label: String {
        switch self {
        case .unsafe: "Unsafe"
        case .wrongTarget: "Wrong target"
        case .needsChanges: "Needs changes"
        case .notNow: "Not now"
        case .other: "Other"
        }
    }
}

/// The ids of a contact request's message and reply form: **Reply**, a button per option (its index after the
/// prefix, so the ids stay unique within the message), the form's `callback_id`, and its input (block and element).
public enum SlackContactID {
    public static let reply = "gatehouse.contact_reply"
    public static let replyForm = "gatehouse.contact_reply_modal"
    public static let response = "response"
    static let prefix = "gatehouse.contact_"
    static let optionPrefix = "gatehouse.contact_option."

    /// The `action_id` of the button of option `index`.
    public static func option(_ index: Int) -> String { optionPrefix + String(index) }

    /// Whether a button belongs to a contact request's message.
    public static func isContact(_ actionID: String) -> Bool { actionID.hasPrefix(prefix) }
}
