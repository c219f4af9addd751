import ApprovalCore
import Foundation
import SlackAPI

/// The loud post about a break-glass approval, with **Mark reviewed** until an admin has reviewed it.
public enum BreakGlassMessage {
    public static func render(_ approval: Approval, use: BreakGlassRecord?, maxPer30Days: Int?) -> (text: String, blocks: [Block]) {
        let decision = approval.decision
        let who = decision.map { SlackText.who($0.by, name: $0.byName) } ?? "someone"
        let text = SlackText.fit("BREAK-GLASS: \(Mrkdwn.escape(approval.action)) approved at once by \(decision?.byName ?? decision?.by ?? "someone")", 300)
        var blocks: [Block] = [
            .header(text: .plainText(SlackText.fit("🚨 Break-glass: \(approval.action)", BlockKitLimits.headerText))),
            .section(text: .mrkdwn(SlackText.fit(
                "\(who) approved `\(approval.id.rawValue)` at once, without the usual approvals"
                    + (decision.map { " · \(SlackText.date($0.at))" } ?? "")
                    + "\n*Reason*\n> " + Mrkdwn.escape(decision?.reason ?? "").replacingOccurrences(of: "\n", with: "\n> "),
                BlockKitLimits.sectionText))),
        ]
        if use?.overLimit == true {
            blocks.append(.section(text: .mrkdwn(
                ":warning: *Over the limit*: \(who) broke the glass more than \(maxPer30Days.map(String.init) ?? "the allowed number of") times in 30 days. The admins were told.")))
        }
        if let use, let reviewedAt = use.reviewedAt {
            blocks.append(.section(text: .mrkdwn(
                ":white_check_mark: Reviewed by \(SlackText.who(use.reviewedBy ?? "?", name: nil)) · \(SlackText.date(reviewedAt))")))
        } else {
            blocks.append(.actions(
                elements: [.button(ButtonElement(
                    actionID: SlackActionID.markReviewed.rawValue, text: .plainText("Mark reviewed"),
                    value: ButtonValue(approvalID: approval.id).encoded, style: .primary))],
                blockID: "gatehouse.break_glass"))
            blocks.append(.context(elements: [.text(.mrkdwn("An admin other than the one who broke the glass reviews it; admins are reminded until then."))]))
        }
        return (text, blocks)
    }
}
