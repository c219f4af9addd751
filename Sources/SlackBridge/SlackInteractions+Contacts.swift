import ApprovalCore
import Foundation
import SlackAPI

extension SlackInteractions {
    /// **Reply** opens the form; an option's button answers with the option (or opens the form filled with its text,
    /// when it has some). Who may answer is checked first; a refusal changes nothing and is told to the clicker only.
    func contactClick(_ action: BlockActions.Action, in payload: BlockActions, contacts: ContactService) async throws -> SlackReply {
        let channel = payload.container?.channelID ?? payload.channel?.id
        let user = payload.user
        guard let value = ContactButtonValue.decode(action.value),
            action.actionID == SlackContactID.reply || action.actionID == value.option.map(SlackContactID.option)
        else {
            try await audit.append(AuditEvent(.clickRefused, actor: user.id, details: ["reason": .string("stale_button")]))
            try await reply(to: user.id, in: channel, "This button comes from an older message that Gatehouse no longer understands.")
            return .empty
        }
        guard let contact = try await knownContact(value.contactID, user: user.id, channel: channel, contacts: contacts) else { return .empty }
        let option = value.option.flatMap { contact.options.indices.contains($0) ? contact.options[$0] : nil }
        if value.option != nil, option == nil {
            try await reply(to: user.id, in: channel, "This question has no such option any more; use Reply.")
            return .empty
        }
        do {
            let answerer = try await answerer(user, of: contact)
            if let option, option.promptFill == nil {
                _ = try await contacts.answer(contact, response: nil, optionName: option.name, by: answerer)
                return .empty
            }
            try await contacts.checkAnswer(contact, by: answerer)
        } catch {
            guard let refusal = Self.contactRefusal(error, to: user.id, plain: false) else { throw error }
            try await reply(to: user.id, in: channel, refusal)
            return .empty
        }
        try await open(ContactMessage.replyForm(contact, option: value.option), trigger: payload.triggerID, user: user.id, channel: channel)
        return .empty
    }

    /// The reply form's submission: the answer is recorded (with the option it was opened from); a refusal is shown in
    /// the form.
    func contactSubmission(_ submission: ViewSubmission, contacts: ContactService) async throws -> SlackReply {
        let input = SlackContactID.response
        guard let value = ContactButtonValue.decode(submission.view.privateMetadata) else {
            return .json(ModalError(block: input, message: "This form is out of date; close it and use the latest message.").responseBody)
        }
        guard let text = ContactMessage.response(from: submission.view.stateValues) else {
            return .json(ModalError(block: input, message: "Please write an answer.").responseBody)
        }
        let user = submission.user
        do {
            let contact = try await contacts.contact(value.contactID)
            let option = value.option.flatMap { contact.options.indices.contains($0) ? contact.options[$0].name : nil }
            _ = try await contacts.answer(contact, response: text, optionName: option, by: try await answerer(user, of: contact))
            return .empty
        } catch {
            guard let message = Self.contactRefusal(error, to: user.id, plain: true) else { throw error }
            return .json(ModalError(block: input, message: message).responseBody)
        }
    }

    /// The Slack user, with those of the answering chain's user groups they are in (asked of Slack only when needed).
    private func answerer(_ user: PayloadUser, of contact: ContactRequest) async throws -> Actor {
        let needed = ContactService.groupsToResolve(contact, for: user.id)
        var memberOf: Set<String> = []
        if !needed.isEmpty {
            do {
                memberOf = try await groups.groups(containing: user.id, among: needed)
            } catch {
                // Counted and hinted like any failed call; the clicker is told, and nothing is answered (fail closed).
                onError("usergroups.users.list", error)
                throw error
            }
        }
        return .slackUser(user.id, name: user.username ?? user.name, groups: memberOf)
    }

    private func knownContact(_ id: ContactID, user: String, channel: String?, contacts: ContactService) async throws -> ContactRequest? {
        do {
            return try await contacts.contact(id)
        } catch ApprovalError.notFound {
            try await audit.append(AuditEvent(.clickRefused, actor: user, details: [
                "reason": .string("not_found"), "contact_id": .string(String(id.rawValue.prefix(64))),
            ]))
            try await reply(to: user, in: channel, "Gatehouse has no record of this question.")
            return nil
        }
    }

    /// Why an answer by `user` was refused, written for a message (`plain`: for a form, with no mentions or date
    /// tokens); `nil` for an error that is not a refusal.
    static func contactRefusal(_ error: any Error, to user: String, plain: Bool) -> String? {
        switch error {
        case ContactError.alreadyAnswered(let answer):
            let when = plain ? RFC3339.string(from: answer.at) : SlackText.date(answer.at)
            if answer.by == user { return "You already answered this question at \(when); nothing was changed." }
            let who = plain ? (SlackText.isUserID(answer.by) ? "someone else" : (answer.byName ?? answer.by)) : SlackText.who(answer.by, name: answer.byName)
            return "This question was already answered by \(who) at \(when); nothing was changed."
        case ContactError.notAnswerer(let approvers):
            let who = plain ? "" : " Who may: \(approvers.map(\.description).joined(separator: ", "))."
            return "You are not among those who may answer this question (the approvers of the default gate), so nothing was changed.\(who)"
        case let error as ApprovalError:
            return plain ? plainRefusal(error, to: user) : refusal(error, to: user)
        case let error as SlackAPIError:
            return membershipUnknown(error)
        default:
            return nil
        }
    }
}
