import ApprovalCore
import Foundation
import Logging
import SlackAPI

/// What to answer Slack over HTTP: nothing (200, empty), or a JSON body (modal errors, command replies).
public enum SlackReply: Sendable, Equatable {
    case empty
    case json(JSONValue)
}

/// Turns verified interactions (button clicks, modal submissions) into domain commands. Slack waits at most
/// 3 seconds for the answer, so anything slow goes through the outbox; only `views.open` is called inline,
/// because its trigger expires in 3 seconds and works once.
///
/// Each click is verify (done before it gets here) → decode → who is it (the user, and the user groups of the
/// request's chain they are in, read from Slack before the use case) → the use case, which checks and audits → ack.
public struct SlackInteractions: Sendable {
    let service: ApprovalService
    let slack: any SlackWebAPI
    /// Refused clicks that never reach the use cases (a stale button, an unknown request, groups Slack would not list).
    let audit: any AuditTrail
    /// Ephemeral replies, so the answer to Slack is not held up by another call to it.
    let outbox: any OutboxQueue
    let logger: Logger
    let groups: GroupDirectory
    /// Told about every failed Web API call made while answering (reading groups, opening a form), as deliveries are.
    let onError: @Sendable (_ method: String, _ error: SlackAPIError) -> Void
    /// **Mark reviewed** on break-glass posts.
    let review: BreakGlassReview?
    /// Questions agents ask (**Reply**, their options, the reply form).
    let contacts: ContactService?

    public init(
        service: ApprovalService, slack: any SlackWebAPI, audit: any AuditTrail, outbox: any OutboxQueue, logger: Logger,
        groups: GroupDirectory? = nil, onError: @escaping @Sendable (_ method: String, _ error: SlackAPIError) -> Void = { _, _ in },
        review: BreakGlassReview? = nil, contacts: ContactService? = nil
    ) {
        self.contacts = contacts
        self.review = review
        self.onError = onError
        self.service = service
        self.slack = slack
        self.audit = audit
        self.outbox = outbox
        self.logger = logger
        self.groups = groups ?? GroupDirectory(slack: slack, clock: service.clock)
    }

    public func handle(_ payload: InteractionPayload) async throws -> SlackReply {
        switch payload {
        case .blockActions(let actions): try await click(actions)
        case .viewSubmission(let submission): try await submit(submission)
        case .viewClosed, .other: .empty
        }
    }

    // MARK: Buttons

    private func click(_ payload: BlockActions) async throws -> SlackReply {
        if let contacts, let action = payload.actions.first(where: { SlackContactID.isContact($0.actionID) }) {
            return try await contactClick(action, in: payload, contacts: contacts)
        }
        guard let action = payload.actions.first(where: { SlackActionID(rawValue: $0.actionID) != nil }),
            let actionID = SlackActionID(rawValue: action.actionID)
        else { return .empty }
        let channel = payload.container?.channelID ?? payload.channel?.id
        let user = payload.user
        guard let value = ButtonValue.decode(action.value) else {
            try await audit.append(AuditEvent(.clickRefused, actor: user.id, details: ["reason": .string("stale_button")]))
            try await reply(to: user.id, in: channel, "This button comes from an older message that Gatehouse no longer understands. Use the latest message about the request.")
            return .empty
        }
        let id = value.approvalID
        let name = user.username ?? user.name
        switch actionID {
        case .approve:
            guard let approval = try await visibleApproval(id, user: user.id, channel: channel) else { return .empty }
            do {
                let decider = try await decider(user.id, name: name, on: approval)
                _ = try await service.decide(id, DecisionCommand(.approve, by: decider), read: approval)
            } catch let error as ApprovalError {
                try await reply(to: user.id, in: channel, Self.refusal(error, to: user.id))
            } catch let error as SlackAPIError {
                try await reply(to: user.id, in: channel, try await membershipUnknown(error, approval: id, user: user.id))
            }
        case .reject, .modify:
            guard let approval = try await visibleApproval(id, user: user.id, channel: channel) else { return .empty }
            // Checked before the form opens, so nobody fills in a modal that cannot be accepted.
            do {
                let decider = try await decider(user.id, name: name, on: approval)
                _ = try await service.checkDecision(id, DecisionCommand(actionID == .reject ? .reject : .modify(approval.payload), by: decider))
            } catch let error as ApprovalError {
                try await reply(to: user.id, in: channel, Self.refusal(error, to: user.id))
                return .empty
            } catch let error as SlackAPIError {
                try await reply(to: user.id, in: channel, try await membershipUnknown(error, approval: id, user: user.id))
                return .empty
            }
            let view: View?
            if actionID == .reject {
                view = ApprovalModals.reject(approval)
            } else {
                view = ApprovalModals.modify(approval)
                if view == nil {
                    try await reply(to: user.id, in: channel, "This payload is too large to edit in Slack (over \(ApprovalModals.editableLimit) characters). Reject it with a reason instead, or decide through the API.")
                    return .empty
                }
            }
            try await open(view!, trigger: payload.triggerID, user: user.id, channel: channel)
        case .details:
            guard let approval = try await visibleApproval(id, user: user.id, channel: channel) else { return .empty }
            try await open(ApprovalModals.details(approval), trigger: payload.triggerID, user: user.id, channel: channel)
        case .markReviewed:
            guard let review else { return .empty }
            do {
                try await review.review(id, by: .slackUser(user.id, name: name))
            } catch let refusal as BreakGlassReview.Refusal {
                let text: String =
                    switch refusal {
                    case .notAdmin: "Only a Gatehouse admin may mark a break-glass approval reviewed; nothing was changed."
                    case .ownUse: "You broke the glass on this one, so another admin has to review it; nothing was changed."
                    case .alreadyReviewed: "This break-glass approval was reviewed already; nothing was changed."
                    case .unknown: "Gatehouse has no break-glass record of this request."
                    }
                try await reply(to: user.id, in: channel, text)
            }
        }
        return .empty
    }

    /// Who clicked, as the use cases check them: the Slack user with the user groups they are in among those the
    /// request's chain names at the level reached, read from Slack only when that matters (see
    /// `Approval.groupsToResolve`). A Slack error propagates, and nothing is decided (fail closed).
    private func decider(_ user: String, name: String?, on approval: Approval) async throws -> Actor {
        try await groups.decider(user, name: name, on: approval, at: service.clock.now)
    }

    private func visibleApproval(_ id: ApprovalID, user: String, channel: String?) async throws -> Approval? {
        if let approval = try await service.repository.approval(id) { return approval }
        try await auditUnknown(id, user: user)
        try await reply(to: user, in: channel, "Gatehouse has no record of this request.")
        return nil
    }

    /// A button naming a request Gatehouse has no record of, as the API audits an unknown id.
    private func auditUnknown(_ id: ApprovalID, user: String) async throws {
        try await audit.append(AuditEvent(.clickRefused, actor: user, details: [
            "reason": .string("not_found"), "id": .string(String(id.rawValue.prefix(64))),
        ]))
    }

    /// Nothing was decided because Slack could not say who is in a group: logged and audited; returns what to tell
    /// the person who clicked.
    private func membershipUnknown(_ error: SlackAPIError, approval id: ApprovalID, user: String) async throws -> String {
        logger.warning("could not read user groups to check a decision", metadata: ["approval": "\(id)", "error": "\(error)"])
        onError("usergroups.users.list", error)
        try await audit.append(AuditEvent(.clickRefused, approvalID: id, actor: user, details: [
            "reason": .string("membership_unknown"), "error": .string("\(error)"),
        ]))
        return Self.membershipUnknown(error)
    }

    func open(_ view: View, trigger: String?, user: String, channel: String?) async throws {
        guard let trigger else { return }
        do {
            _ = try await slack.openView(triggerID: trigger, view: view)
        } catch {
            logger.warning("views.open failed", metadata: ["error": "\(error)"])
            onError("views.open", error)
            try await reply(to: user, in: channel, "Slack did not open the form (\(error)). Please click the button again.")
        }
    }

    // MARK: Modals

    private func submit(_ submission: ViewSubmission) async throws -> SlackReply {
        if let contacts, submission.view.callbackID == SlackContactID.replyForm {
            return try await contactSubmission(submission, contacts: contacts)
        }
        guard let callback = submission.view.callbackID.flatMap(SlackCallbackID.init(rawValue:)) else { return .empty }
        let values = submission.view.stateValues
        let user = submission.user
        let name = user.username ?? user.name
        guard let value = ButtonValue.decode(submission.view.privateMetadata) else {
            return .json(ModalError(block: firstInput(of: callback), message: "This form is out of date; close it and use the latest message.").responseBody)
        }
        let verdict: DecisionCommand.Verdict
        var reason: String?
        var reasonCode: String?
        switch callback {
        case .details:
            return .empty
        case .reject:
            guard let answer = ApprovalModals.rejection(from: values) else {
                return .json(ModalError(block: SlackInputID.reason.rawValue, message: "Please say why.").responseBody)
            }
            verdict = .reject
            (reason, reasonCode) = (answer.reason, answer.code)
        case .modify:
            guard let original = try await service.repository.approval(value.approvalID) else {
                return .json(ModalError(block: SlackInputID.payload.rawValue, message: "Gatehouse has no record of this request.").responseBody)
            }
            switch ApprovalModals.editedPayload(from: values, original: original.payload) {
            case .failure(let error): return .json(error.responseBody)
            case .success(let edited): verdict = .modify(edited)
            }
        }
        do {
            let approval = try await service.approval(value.approvalID)
            let decider = try await decider(user.id, name: name, on: approval)
            _ = try await service.decide(
                value.approvalID, DecisionCommand(verdict, by: decider, reason: reason, reasonCode: reasonCode), read: approval)
            return .empty
        } catch let error as ApprovalError {
            return .json(ModalError(block: firstInput(of: callback), message: Self.plainRefusal(error, to: user.id)).responseBody)
        } catch let error as SlackAPIError {
            let message = try await membershipUnknown(error, approval: value.approvalID, user: user.id)
            return .json(ModalError(block: firstInput(of: callback), message: message).responseBody)
        }
    }

    private func firstInput(of callback: SlackCallbackID) -> String {
        callback == .modify ? SlackInputID.payload.rawValue : SlackInputID.reason.rawValue
    }

    // MARK: Replies

    /// An ephemeral reply, through the outbox so the HTTP answer is not held up by Slack.
    func reply(to user: String, in channel: String?, _ text: String) async throws {
        guard let channel else { return }
        try await outbox.enqueueOutboxItems([
            NewOutboxItem(
                kind: SlackOutboxKind.ephemeral, approvalID: nil,
                payload: .object(["channel": .string(channel), "user": .string(user), "text": .string(text)]))
        ])
    }

    /// Why nothing was decided when Slack could not say who is in a user group: fail closed, and say so.
    static func membershipUnknown(_ error: SlackAPIError) -> String {
        let head = "Gatehouse could not check the approvers' user groups with Slack (\(error)), so nothing was changed. "
        if error.isRetryable { return head + "Please try again in a moment." }
        return head + "Trying again will not help: ask a Gatehouse admin to check the chain's user groups."
            + (error.adminHint.map { " Slack's hint: \($0)" } ?? "")
    }

    /// The refusal for places that show plain text only (a modal's inline error): no mentions, no date tokens.
    public static func plainRefusal(_ error: ApprovalError, to user: String) -> String {
        switch error {
        case .alreadyDecided(let decision):
            return decided(
                decision, to: user, when: RFC3339.string(from: decision.at),
                who: SlackText.isUserID(decision.by) ? "someone else" : (decision.byName ?? decision.by))
        case .notApprover(let level, let levels, _):
            return "You are not among the approvers of this request at level \(level) of \(levels); nothing was changed."
        default:
            return refusal(error, to: user)
        }
    }

    /// Why `user` cannot decide a request that `decision` settled, with its time and decider written for where it is
    /// shown: the clicker is told when it was them (a double click, a second submit).
    private static func decided(_ decision: Decision, to user: String, when: String, who: @autoclosure () -> String) -> String {
        let verb: String
        switch decision.outcome {
        case .expired: return "This request expired at \(when) without a decision; nothing was changed."
        case .cancelled: return "The requester cancelled this request at \(when); nothing was changed."
        case .approved: verb = "approved"
        case .modified: verb = "approved with changes"
        case .rejected: verb = "rejected"
        }
        if decision.by == user { return "You already \(verb) this request at \(when); nothing was changed." }
        return "This request was already \(verb) by \(who()) at \(when); nothing was changed."
    }

    /// Why a click changed nothing, for `user`, who clicked.
    public static func refusal(_ error: ApprovalError, to user: String) -> String {
        switch error {
        case .alreadyDecided(let decision):
            return decided(decision, to: user, when: SlackText.date(decision.at), who: SlackText.who(decision.by, name: decision.byName))
        case .selfApproval:
            return "You filed this request, so someone else has to decide it."
        case .notApprover(let level, let levels, let approvers):
            return "You are not among the approvers of this request at level \(level) of \(levels), so nothing was changed. "
                + "Who may decide now: \(approvers.map(\.description).joined(separator: ", "))."
        case .expired:
            return "This request has passed its deadline and can no longer be decided."
        case .notFound:
            return "Gatehouse has no record of this request."
        case .alreadyVoted(let vote):
            let verb = vote.verdict == .reject ? "rejected" : "approved"
            return "You already \(verb) this request at \(SlackText.date(vote.at)); each person counts once, so nothing was changed."
        case .notBreakGlass(let why):
            return why + " Nothing was changed."
        default:
            return "That did not work: \(error.code)."
        }
    }
}
