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
