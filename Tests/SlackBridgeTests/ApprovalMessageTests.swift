import ApprovalCore
import Foundation
import SlackAPI
import SlackBridge
import Testing

/// What a person in Slack should see, stated directly (the golden files pin the exact JSON).
@Suite("Approval message")
struct ApprovalMessageTests {
    static let deadlineText = "<!date^1772446500^{date_short_pretty} at {time}|2026-03-02T10:15:00Z>"
    static let decidedText = "<!date^1772443500^{date_short_pretty} at {time}|2026-03-02T09:25:00Z>"

    @Test("the header is the action, as plain text")
    func header() throws {
        let blocks = ApprovalMessage.render(SampleApprovals.pendingHighRisk).blocks
        guard case .header(let text, _)? = blocks.first else {
            Issue.record("the first block is not a header")
            return
        }
        #expect(text == .plainText("Drop table orders_archive_2019 in production"))
    }

    @Test("a pending message shows requester, gate, risk and deadline")
    func pendingFields() {
        let fields = BlockTexts.fields(in: ApprovalMessage.render(SampleApprovals.pendingHighRisk).blocks)
        #expect(fields == [
            "*Requested by*\nagent:db-janitor", "*Gate*\nprod-db", "*Risk*\n:warning: *High*", "*Decide by*\n" + Self.deadlineText,
        ])
    }

    @Test("an escalation note replaces the deadline and is shown while pending")
    func escalation() {
        let note = EscalationNote(text: "Escalated to <!subteam^S012AB|@oncall>: nobody answered in 30 minutes.", deadline: SampleApprovals.decidedAt)
        let blocks = ApprovalMessage.render(SampleApprovals.pendingHighRisk, escalation: note).blocks
        #expect(BlockTexts.fields(in: blocks).last == "*Decide by*\n" + Self.decidedText)
        #expect(BlockTexts.mrkdwn(in: blocks).contains(note.text))
    }

    @Test("the risk is marked for high and critical only", arguments: [
        (Risk.low, "Low"), (.medium, "Medium"), (.high, ":warning: *High*"), (.critical, ":rotating_light: *CRITICAL*"),
    ])
    func riskMarker(_ risk: Risk, _ label: String) {
        var approval = SampleApprovals.pendingLowMinimal
        approval.risk = risk
        #expect(BlockTexts.fields(in: ApprovalMessage.render(approval).blocks).contains("*Risk*\n" + label))
    }

    @Test("Approve asks for confirmation on high and critical risk only", arguments: Risk.allCases)
    func approveConfirmation(_ risk: Risk) throws {
        var approval = SampleApprovals.pendingLowMinimal
        approval.risk = risk
        let buttons = BlockTexts.buttons(in: ApprovalMessage.render(approval).blocks)
        #expect(buttons.map(\.actionID) == ["gatehouse.approve", "gatehouse.reject", "gatehouse.modify"])
        #expect(buttons.map(\.text) == [.plainText("Approve"), .plainText("Reject"), .plainText("Modify")])
        #expect(buttons.map(\.style) == [.primary, .danger, nil])
        let confirm = buttons[0].confirm
        if risk == .high || risk == .critical {
            let dialog = try #require(confirm)
            #expect(dialog.title == .plainText("Approve a \(risk.rawValue)-risk request?"))
            #expect(dialog.text == .plainText("You are approving: Restart the staging worker"))
            #expect(dialog.confirm == .plainText("Approve"))
            #expect(dialog.deny == .plainText("Go back"))
        } else {
            #expect(confirm == nil)
        }
        #expect(buttons[1].confirm == nil)
    }

    @Test("once decided there are no buttons and no deadline, and an outcome line says who, when and why")
    func decided() throws {
        let cases: [(Approval, String)] = [
            (try SampleApprovals.approvedBySlackUser(),
             ":white_check_mark: *Approved* by <@U012ABCDEF> · \(Self.decidedText)\n> Checked the cold-storage copy myself; row counts match."),
            (try SampleApprovals.rejectedWithReasonCode(),
             ":no_entry: *Rejected* by <@U034GHIJKL> · \(Self.decidedText) · _Not now_\n> Not during the quarter-end freeze.\n> Ask again on the 10th."),
            (try SampleApprovals.modified(),
             ":pencil2: *Approved with changes* by <@U056MNOPQR> · \(Self.decidedText) — run the changed payload, not the original\nApproved payload sha256 `f7f456f1fe24…`\n*Changes*\n```+ max_surge: 1\n~ options.canary: true → false\n~ replicas: 3 → 1\n- skip_tests: true```"),
            (try SampleApprovals.expired(),
             ":hourglass: *Expired* · <!date^1772529300^{date_short_pretty} at {time}|2026-03-03T09:15:00Z> — nobody decided before the deadline"),
            (try SampleApprovals.cancelled(),
             ":heavy_multiplication_x: *Cancelled* by the requester · <!date^1772443020^{date_short_pretty} at {time}|2026-03-02T09:17:00Z>\n> Superseded by a newer request."),
        ]
        for (approval, outcome) in cases {
            let blocks = ApprovalMessage.render(approval).blocks
            #expect(BlockTexts.buttons(in: blocks).isEmpty, "\(approval.status)")
            #expect(!BlockTexts.fields(in: blocks).contains { $0.hasPrefix("*Decide by*") }, "\(approval.status)")
            #expect(BlockTexts.sections(in: blocks).last == outcome, "\(approval.status)")
        }
    }

    @Test("the notification text names the state and the action", arguments: [
        (ApprovalStatus.pending, "Approval needed"), (.approved, "Approved"), (.modified, "Approved with changes"),
        (.rejected, "Rejected"), (.expired, "Expired"), (.cancelled, "Cancelled"),
    ])
    func notificationText(_ status: ApprovalStatus, _ verb: String) {
        var approval = SampleApprovals.pendingLowMinimal
        approval.status = status
        #expect(ApprovalMessage.render(approval).text == "\(verb): Restart the staging worker")
    }

    @Test("the footer gives the id, the start of the payload digest and when it was filed")
    func footer() {
        let approval = SampleApprovals.pendingHighRisk
        guard case .context(let elements, _)? = ApprovalMessage.render(approval).blocks.last, case .text(let text)? = elements.first else {
            Issue.record("the last block is not the footer")
            return
        }
        #expect(text.text == "`apr_golden000000000001` · payload sha256 `\(approval.payloadSHA256.prefix(12))…` · filed <!date^1772442900^{date_short_pretty} at {time}|2026-03-02T09:15:00Z>")
    }

    @Test("the requester is named as Slack user, API key or text")
    func requester() {
        var approval = SampleApprovals.pendingLowMinimal
        #expect(BlockTexts.fields(in: ApprovalMessage.render(approval).blocks).first == "*Requested by*\nAPI key ci")
        approval.requester = "U0REQUESTER"
        #expect(BlockTexts.fields(in: ApprovalMessage.render(approval).blocks).first == "*Requested by*\n<@U0REQUESTER>")
        approval.requester = nil
        approval.ownerKey = nil
        #expect(BlockTexts.fields(in: ApprovalMessage.render(approval).blocks).first == "*Requested by*\nsomeone")
    }

    @Test("empty optional texts leave out their sections")
    func emptyTexts() {
        var approval = SampleApprovals.pendingHighRisk
        approval.reasoning = ""
        approval.consequences = nil
        let sections = BlockTexts.sections(in: ApprovalMessage.render(approval).blocks)
        #expect(!sections.contains { $0.hasPrefix("*Why*") || $0.hasPrefix("*If it runs*") })
        #expect(sections.contains { $0.hasPrefix("*If rejected*") })
    }
}
