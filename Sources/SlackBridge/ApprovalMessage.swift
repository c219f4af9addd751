import ApprovalCore
import Foundation
import SlackAPI

/// Renders an approval as a Block Kit message: a pure function of the approval, tested against golden files.
/// Every part is cut to fit Slack's limits, whatever the input.
public enum ApprovalMessage {
    /// Room kept for the payload's code block inside one section (3,000 characters with the fences and label).
    static let payloadRoom = 2_800

    /// The notification text and the blocks for `approval` in its current state; `escalation` defaults to where the
    /// request stands in its chain.
    public static func render(_ approval: Approval, escalation: EscalationNote? = nil) -> (text: String, blocks: [Block]) {
        let escalation = escalation ?? EscalationText.note(for: approval)
        var blocks: [Block] = [.header(text: .plainText(SlackText.fit(approval.action, BlockKitLimits.headerText)))]

        var fields: [TextObject] = [
            .mrkdwn("*Requested by*\n" + SlackText.fit(SlackText.who(approval.requester ?? approval.ownerKey.map { "key:\($0)" }), 1_900)),
            .mrkdwn("*Gate*\n" + SlackText.fit(Mrkdwn.escape(approval.gate), 1_900)),
            .mrkdwn("*Risk*\n" + riskLabel(approval.risk)),
        ]
        if approval.status == .pending {
            fields.append(.mrkdwn("*Decide by*\n" + SlackText.date(escalation?.deadline ?? approval.expiresAt)))
        }
        blocks.append(.section(fields: fields))

        for (label, text) in [("Why", approval.reasoning), ("If it runs", approval.consequences), ("If rejected", approval.onReject)] {
            guard let text, !text.isEmpty else { continue }
            blocks.append(.section(text: .mrkdwn(SlackText.fit("*\(label)*\n" + Mrkdwn.escape(text), BlockKitLimits.sectionText))))
        }

        let (payloadText, shortened) = payloadBlock(approval.payload, label: approval.status == .modified || approval.amendedPayload != nil ? "Original payload" : "Payload")
        blocks.append(.section(text: .mrkdwn(payloadText)))
        if approval.status == .pending, let amended = approval.amendedPayload {
            let (text, _) = payloadBlock(amended, label: "Payload now put to the vote (modified; earlier approvals were withdrawn)")
            blocks.append(.section(text: .mrkdwn(text)))
        }
        if let policy = policyText(approval) {
            blocks.append(.section(text: .mrkdwn(SlackText.fit(policy, BlockKitLimits.sectionText))))
        }

        if let escalation, approval.status == .pending {
            blocks.append(.context(elements: [.text(.mrkdwn(SlackText.fit(escalation.text, 2_000)))]))
        }

        if approval.status == .pending {
            blocks.append(.actions(elements: buttons(for: approval, withDetails: shortened), blockID: "gatehouse.actions"))
        } else {
            if shortened {
                blocks.append(.actions(elements: [detailsButton(approval)], blockID: "gatehouse.actions"))
            }
            blocks.append(.section(text: .mrkdwn(SlackText.fit(outcomeText(approval), BlockKitLimits.sectionText))))
        }

        let digest = String(approval.payloadSHA256.prefix(12))
        blocks.append(.context(elements: [
            .text(.mrkdwn("`\(approval.id.rawValue)` · payload sha256 `\(digest)…` · filed \(SlackText.date(approval.createdAt))"))
        ]))
        return (notificationText(approval), blocks)
    }

    /// The line shown in notifications and where blocks cannot be shown.
    static func notificationText(_ approval: Approval) -> String {
        let verb: String
        switch approval.status {
        case .pending: verb = "Approval needed"
        case .approved: verb = "Approved"
        case .modified: verb = "Approved with changes"
        case .rejected: verb = "Rejected"
        case .expired: verb = "Expired"
        case .cancelled: verb = "Cancelled"
        }
        return SlackText.fit("\(verb): \(Mrkdwn.escape(approval.action))", 300)
    }

    static func riskLabel(_ risk: Risk) -> String {
        switch risk {
        case .low: "Low"
        case .medium: "Medium"
        case .high: ":warning: *High*"
        case .critical: ":rotating_light: *CRITICAL*"
        }
    }

    /// The payload as a code block, and whether it had to be shortened to fit.
    static func payloadBlock(_ payload: JSONValue, label: String = "Payload") -> (String, Bool) {
        let pretty = CanonicalJSON.pretty(payload)
        let code = SlackText.code(pretty)
        if BlockKitLimits.length(code) <= payloadRoom {
            return ("*\(label)*\n```\(code)```", false)
        }
        let cut = SlackText.fit(code, payloadRoom)
        return ("*\(label)* (shortened; *Details* shows all of it)\n```\(cut)```", true)
    }

    /// The rule a request matched and, under a quorum, the votes so far and what is still missing; for a `notify`
    /// request, when it goes ahead. `nil` when no rule matched.
    static func policyText(_ approval: Approval) -> String? {
        guard let policy = approval.policy else { return nil }
        var lines: [String] = []
        switch policy.then {
        case .auto:
            lines.append("*Policy* `\(policy.name)`: approved automatically (low risk)")
        case .notify(let window):
            if approval.status == .pending, let end = approval.notifyEndsAt {
                lines.append("*Policy* `\(policy.name)`: goes ahead by itself \(SlackText.date(end)) unless someone rejects it (\(ChainDuration.format(window)) window)")
            } else {
                lines.append("*Policy* `\(policy.name)`: goes ahead unless rejected within \(ChainDuration.format(window))")
            }
        case .require(let approvals, let roles, _):
            let quorum = approval.quorum
            let who = roles.isEmpty ? "" : ", including one from each of " + roles.map { "_\($0)_" }.joined(separator: ", ")
            lines.append("*Policy* `\(policy.name)`: needs \(max(approvals, roles.count)) approval\(max(approvals, roles.count) == 1 ? "" : "s")\(who)")
            for vote in approval.votes {
                let icon = vote.withdrawnAt != nil ? ":leftwards_arrow_with_hook:" : vote.verdict == .reject ? ":no_entry:" : ":white_check_mark:"
                let verb = vote.verdict == .modify ? "modified and approved" : vote.verdict == .reject ? "rejected" : "approved"
                let roleText = vote.roles.isEmpty ? "" : " as " + vote.roles.map { "_\($0)_" }.joined(separator: ", ")
                let withdrawn = vote.withdrawnAt.map { " · withdrawn \(SlackText.date($0)) when the payload was modified" } ?? ""
                lines.append("\(icon) \(SlackText.who(vote.by, name: vote.byName)) \(verb)\(roleText) · \(SlackText.date(vote.at))\(withdrawn)")
            }
            if approval.status == .pending {
                var missing: [String] = []
                let people = quorum.required - quorum.approvals
                if people > 0 { missing.append("\(people) more approval\(people == 1 ? "" : "s")") }
                if !quorum.missingRoles.isEmpty { missing.append("one from " + quorum.missingRoles.map { "_\($0)_" }.joined(separator: ", ")) }
                if !missing.isEmpty { lines.append("Still needed: " + missing.joined(separator: ", ")) }
            }
        }
        if approval.decision?.breakGlass == true {
            lines.append(":rotating_light: *Break-glass*: approved at once in an emergency, to be reviewed by an admin")
        }
        return lines.joined(separator: "\n")
    }

    static func buttons(for approval: Approval, withDetails: Bool) -> [BlockElement] {
        let value = ButtonValue(approvalID: approval.id).encoded
        if approval.policy?.notifyWindow != nil {
            // A notify request goes ahead by itself: the buttons are to stop it, or to let it go now.
            var elements: [BlockElement] = [
                .button(ButtonElement(actionID: SlackActionID.reject.rawValue, text: .plainText("Reject"), value: value, style: .danger)),
                .button(ButtonElement(actionID: SlackActionID.approve.rawValue, text: .plainText("Approve now"), value: value)),
            ]
            if withDetails { elements.append(detailsButton(approval)) }
            return elements
        }
        var confirm: ConfirmDialog?
        if approval.risk == .high || approval.risk == .critical {
            confirm = ConfirmDialog(
                title: .plainText("Approve a \(approval.risk.rawValue)-risk request?"),
                text: .plainText(SlackText.fit("You are approving: \(approval.action)", BlockKitLimits.confirmText)),
                confirm: .plainText("Approve"), deny: .plainText("Go back"), style: .primary)
        }
        var elements: [BlockElement] = [
            .button(ButtonElement(actionID: SlackActionID.approve.rawValue, text: .plainText("Approve"), value: value, style: .primary, confirm: confirm)),
            .button(ButtonElement(actionID: SlackActionID.reject.rawValue, text: .plainText("Reject"), value: value, style: .danger)),
            .button(ButtonElement(actionID: SlackActionID.modify.rawValue, text: .plainText("Modify"), value: value)),
        ]
        if withDetails { elements.append(detailsButton(approval)) }
        return elements
    }

    static func detailsButton(_ approval: Approval) -> BlockElement {
        .button(ButtonElement(actionID: SlackActionID.details.rawValue, text: .plainText("Details"), value: ButtonValue(approvalID: approval.id).encoded))
    }

    /// Who decided what, when and why.
    static func outcomeText(_ approval: Approval) -> String {
        guard let decision = approval.decision else { return "" }
        let who = SlackText.who(decision.by, name: decision.byName)
        let when = SlackText.date(decision.at)
        var text: String
        switch decision.outcome {
        case .approved where decision.breakGlass: text = ":rotating_light: *Approved by breaking the glass* by \(who) · \(when)"
        case .approved: text = ":white_check_mark: *Approved* by \(who) · \(when)"
        case .modified: text = ":pencil2: *Approved with changes* by \(who) · \(when) — run the changed payload, not the original"
        case .rejected: text = ":no_entry: *Rejected* by \(who) · \(when)"
        case .expired: text = ":hourglass: *Expired* · \(when) — nobody decided before the deadline"
        case .cancelled: text = ":heavy_multiplication_x: *Cancelled* by the requester · \(when)"
        }
        if let code = decision.reasonCode, let label = RejectReasonCode(rawValue: code)?.label {
            text += " · _\(label)_"
        }
        if let reason = decision.reason, !reason.isEmpty, decision.outcome != .expired {
            let quoted = SlackText.fit(Mrkdwn.escape(reason), 1_000)
            text += "\n> " + quoted.replacingOccurrences(of: "\n", with: "\n> ")
        }
        if decision.outcome == .modified {
            text += "\nApproved payload sha256 `\(decision.payloadSHA256.prefix(12))…`"
            text += "\n*Changes*\n```"
            // Shorten the diff by whole lines, never the closing fence, and say how much was left out.
            let room = BlockKitLimits.sectionText - BlockKitLimits.length(text) - 3
            text += fittedDiff(PayloadDiff.lines(from: approval.payload, to: decision.payload, limit: .max), room: room) + "```"
        }
        return text
    }
}

extension ApprovalMessage {
    /// The first 20 changed lines, fewer if they do not fit `room`, then a count of the rest.
    static func fittedDiff(_ lines: [String], room: Int) -> String {
        var shown = min(lines.count, 20)
        while true {
            var parts = Array(lines.prefix(shown))
            let hidden = lines.count - shown
            if hidden > 0 { parts.append("… and \(hidden) more change\(hidden == 1 ? "" : "s")") }
            let text = SlackText.code(parts.joined(separator: "\n"))
            if BlockKitLimits.length(text) <= room || shown == 0 { return SlackText.fit(text, max(room, 1)) }
            shown -= 1
        }
    }
}

/// Where an approval stands in its escalation chain, shown on its message while pending.
public struct EscalationNote: Sendable, Equatable {
    public var text: String
    public var deadline: Date

    public init(text: String, deadline: Date) {
        self.text = text
        self.deadline = deadline
    }
}
