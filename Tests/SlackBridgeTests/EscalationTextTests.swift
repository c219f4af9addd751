import ApprovalCore
import Foundation
import SlackAPI
@testable import SlackBridge
import Testing

/// What messages say about a request's place in its chain.
@Suite("Escalation text: the note on messages and the announcement in threads and DMs")
struct EscalationTextTests {
    static let chain = EscalationChain(
        name: "prod-db",
        levels: [
            .init(approvers: [.user("U0ALICE"), .user("U0BOB")], sla: 1800),
            .init(approvers: [.group("S0SRE")], sla: 3600),
            .init(approvers: [.user("U0DAVE")], sla: 7200),
        ],
        finalAction: .reject)

    static func filed(_ chain: EscalationChain = chain, risk: Risk = .high, expiresIn: Int? = nil) -> Approval {
        ApprovalRequest(action: "Drop a table", payload: .object(["t": .string("x")]), risk: risk, gate: chain.name, expiresIn: expiresIn)
            .approval(id: SampleApprovals.id(40), ownerKey: "ci", at: SampleApprovals.filedAt, chain: chain)
    }

    /// The approval after its level `level` started on time.
    static func atLevel(_ level: Int, _ approval: Approval) throws -> Approval {
        var current = approval
        while current.escalationLevel < level {
            current = try #require(current.advancing(at: current.nextDeadline)).after
        }
        return current
    }

    @Test("no note for the default chain or once decided")
    func noNote() throws {
        #expect(EscalationText.note(for: SampleApprovals.pendingHighRisk) == nil)
        let decided = try Self.filed().deciding(DecisionCommand(.approve, by: .slackUser("U0ALICE")), at: SampleApprovals.decidedAt).after
        #expect(EscalationText.note(for: decided) == nil)
        #expect(!BlockTexts.mrkdwn(in: ApprovalMessage.render(decided).blocks).contains { $0.contains("Level 1 of 3") })
    }

    @Test("the note names the level, mentions its approvers and says when the next level is asked")
    func levelNote() throws {
        let first = try #require(EscalationText.note(for: Self.filed()))
        #expect(first.text.contains("*Level 1 of 3*"))
        #expect(first.text.contains("<@U0ALICE> <@U0BOB>"))
        #expect(first.text.contains("escalates to level 2 " + SlackText.date(SampleApprovals.filedAt.addingTimeInterval(1800))))
        // "Decide by" is when the chain ends (then reject), well before the request's 24 h expiry; at any level.
        #expect(first.deadline == SampleApprovals.filedAt.addingTimeInterval(1800 + 3600 + 7200))
        #expect(first.deadline < Self.filed().expiresAt)
        #expect(EscalationText.note(for: try Self.atLevel(3, Self.filed()))?.deadline == first.deadline)
        var hold = Self.chain
        hold.finalAction = .hold
        #expect(EscalationText.note(for: Self.filed(hold))?.deadline == Self.filed(hold).expiresAt)
        #expect(EscalationText.note(for: Self.filed(expiresIn: 600))?.deadline == Self.filed(expiresIn: 600).expiresAt)
        let second = try #require(EscalationText.note(for: try Self.atLevel(2, Self.filed())))
        #expect(second.text.contains("*Level 2 of 3*"))
        #expect(second.text.contains("<!subteam^S0SRE>"))
        #expect(!second.text.contains("<@U0ALICE>"))
        // Rendered as a context block of the message while pending.
        let blocks = ApprovalMessage.render(try Self.atLevel(2, Self.filed())).blocks
        #expect(BlockTexts.mrkdwn(in: blocks).contains(second.text))
    }

    @Test("at the last level the note says what the final action will do", arguments: [
        (EscalationChain.FinalAction.reject, Risk.high, "if nobody decides (then reject)"),
        (.approve, .low, "· is approved automatically"),
        (.approve, .medium, "then approve applies to low risk only"),
        (.hold, .high, "· asks level 3 again"),
    ])
    func finalActionNote(_ final: EscalationChain.FinalAction, _ risk: Risk, _ expected: String) throws {
        var chain = Self.chain
        chain.finalAction = final
        let last = try Self.atLevel(3, Self.filed(chain, risk: risk))
        let note = try #require(EscalationText.note(for: last))
        #expect(note.text.contains(expected), "\(note.text)")
    }

    @Test("when the request expires before the level's SLA ends, the note says it expires")
    func expiresFirst() throws {
        let short = Self.filed(expiresIn: 600)
        #expect(short.nextDeadline == short.expiresAt)
        #expect(EscalationText.note(for: short)?.text.contains("expires " + SlackText.date(short.expiresAt)) == true)
    }

    @Test("the announcement does not call on the requester, even when the chain names them")
    func announcementLeavesOutRequester() throws {
        let chain = EscalationChain(name: "pair", levels: [.init(approvers: [.user("U0ALICE"), .user("U0BOB")], sla: 60)], finalAction: .hold)
        let filed = ApprovalRequest(action: "Swap", payload: .object([:]), gate: "pair", requester: "U0BOB")
            .approval(id: SampleApprovals.id(41), ownerKey: "ci", at: SampleApprovals.filedAt, chain: chain)
        let again = try #require(filed.advancing(at: filed.nextDeadline)).after
        #expect(EscalationText.announcement(again, level: 1, repeated: true, at: filed.nextDeadline).hasPrefix(
            "Still no decision after 1m at level 1 of 1; asking again: <@U0ALICE>."))
    }

    @Test("a level that names only the requester says so and who still may decide, in the announcement and the note")
    func levelOfOnlyTheRequester() throws {
        let chain = EscalationChain(
            name: "self", levels: [.init(approvers: [.user("U0ALICE")], sla: 60), .init(approvers: [.user("U0BOB")], sla: 300)],
            finalAction: .hold)
        let filed = ApprovalRequest(action: "Swap", payload: .object([:]), gate: "self", requester: "U0BOB")
            .approval(id: SampleApprovals.id(42), ownerKey: "ci", at: SampleApprovals.filedAt, chain: chain)
        let second = try #require(filed.advancing(at: filed.nextDeadline)).after
        let ask = EscalationText.announcement(second, level: 2, repeated: false, at: second.levelStartedAt)
        #expect(ask.hasPrefix("No decision after 1m; escalated to level 2 of 2: nobody but the requester, who may not decide; <@U0ALICE> still may."), "\(ask)")
        #expect(!ask.contains("<@U0BOB>"))
        // Asking the level again repeats who still may, without "asking again: nobody".
        let again = try #require(second.advancing(at: second.nextDeadline)).after
        #expect(EscalationText.head(again, level: 2, repeated: true, at: second.nextDeadline)
            == "Still no decision after 5m at level 2 of 2: nobody but the requester, who may not decide; <@U0ALICE> still may.")
        let note = try #require(EscalationText.note(for: second)).text
        #expect(note.contains("*Level 2 of 2* of chain `self` · nobody but the requester, who may not decide; <@U0ALICE> still may · "), "\(note)")
        // A first level that names only the requester: nobody may decide, and the note says who can mend it.
        let alone = EscalationChain(name: "alone", levels: [.init(approvers: [.user("U0BOB")], sla: 60)], finalAction: .reject)
        let stuck = ApprovalRequest(action: "Swap", payload: .object([:]), gate: "alone", requester: "U0BOB")
            .approval(id: SampleApprovals.id(43), ownerKey: "ci", at: SampleApprovals.filedAt, chain: alone)
        #expect(try #require(EscalationText.note(for: stuck)).text.contains(
            "· nobody but the requester, who may not decide: ask a Gatehouse admin to fix the chain · "))
    }

    @Test("the announcement says what happened, who is asked now, and what comes next")
    func announcement() throws {
        let second = try Self.atLevel(2, Self.filed())
        let text = EscalationText.announcement(second, level: 2, repeated: false, at: second.levelStartedAt)
        #expect(text.hasPrefix("No decision after 30m; escalated to level 2 of 3: <!subteam^S0SRE>."))
        #expect(text.contains("It escalates to level 3 " + SlackText.date(second.nextDeadline) + "."))
    }

    @Test("a hold re-ping says how long the level has waited and how often it asks; each final action reads as a sentence; a late ping for a level already passed leaves out what comes next")
    func repeatedAndLate() throws {
        var hold = Self.chain
        hold.finalAction = .hold
        let last = try Self.atLevel(3, Self.filed(hold))
        let again = try #require(last.advancing(at: last.nextDeadline)).after
        #expect(EscalationText.announcement(again, level: 3, repeated: true, at: last.nextDeadline) ==
            "Still no decision after 2h at level 3 of 3; asking again: <@U0DAVE>. It asks level 3 again every 2h until it expires "
            + SlackText.date(again.expiresAt) + ".")
        // Sent a few seconds after its deadline, or hours late after a restart: the time waited, in whole minutes.
        #expect(EscalationText.head(again, level: 3, repeated: true, at: last.nextDeadline.addingTimeInterval(4))
            == "Still no decision after 2h at level 3 of 3; asking again: <@U0DAVE>.")
        #expect(EscalationText.head(again, level: 3, repeated: true, at: last.nextDeadline.addingTimeInterval(3 * 3600 + 5 * 60 + 12))
            == "Still no decision after 5h5m at level 3 of 3; asking again: <@U0DAVE>.")
        // An SLA counted in seconds keeps them: every ask of a 20s level says something new.
        let quick = EscalationChain(name: "quick", levels: [.init(approvers: [.user("U0ALICE")], sla: 20)], finalAction: .hold)
        let held = try #require(Self.filed(quick).advancing(at: SampleApprovals.filedAt.addingTimeInterval(20))).after
        #expect([60, 80, 100].map { EscalationText.head(held, level: 1, repeated: true, at: held.levelStartedAt.addingTimeInterval($0)) }
            == ["1m", "80s", "1m40s"].map { "Still no decision after \($0) at level 1 of 1; asking again: <@U0ALICE>." })
        // The note names no time for the next ask, so it reads the same from one ask to the next.
        #expect(EscalationText.note(for: again) == EscalationText.note(for: last))
        #expect(EscalationText.announcement(last, level: 3, repeated: false, at: last.levelStartedAt).hasSuffix(
            "It asks level 3 again every 2h until it expires " + SlackText.date(last.expiresAt) + "."))
        var approve = Self.chain
        approve.finalAction = .approve
        let lowLast = try Self.atLevel(3, Self.filed(approve, risk: .low))
        #expect(EscalationText.announcement(lowLast, level: 3, repeated: false, at: lowLast.levelStartedAt).hasSuffix(
            "It is approved automatically " + SlackText.date(lowLast.nextDeadline) + " if nobody decides (then approve, low risk)."))
        let late = EscalationText.announcement(last, level: 2, repeated: false, at: last.levelStartedAt)
        #expect(late == "No decision after 30m; escalated to level 2 of 3: <!subteam^S0SRE>.")
    }

    @Test("a reminder, once decided, says in one line that nobody is waiting any more and what the outcome was")
    func settledReminder() throws {
        let rejected = try SampleApprovals.rejectedWithReasonCode()
        let text = EscalationText.settledReminder(rejected)
        #expect(text.hasPrefix("“\(rejected.action)” is no longer waiting for you. :no_entry: *Rejected* by <@U034GHIJKL> · <!date^"))
        #expect(text.hasSuffix("· _Not now_"), "\(text)")
        // The reason stays in the message with the buttons; a reminder keeps to one line.
        #expect(!text.contains("\n"))
        let modified = EscalationText.settledReminder(try SampleApprovals.modified())
        #expect(modified.contains(":pencil2: *Approved with changes* by <@U056MNOPQR>"))
        #expect(!modified.contains("Changes"))
    }

    @Test("a chain of ten levels with many approvers still renders within Block Kit limits")
    func largeChainFits() throws {
        let many = (0..<40).map { EscalationChain.Approver.user("U0\(String(repeating: "A", count: 8))\($0)") }
        let chain = EscalationChain(
            name: "big", levels: Array(repeating: .init(approvers: many, sla: 60), count: EscalationChain.maximumLevels), finalAction: .hold)
        let approval = try Self.atLevel(10, Self.filed(chain))
        let rendered = ApprovalMessage.render(approval)
        #expect(BlockKitLimits.problems(inMessageBlocks: rendered.blocks, text: rendered.text) == [])
        let announcement = EscalationText.announcement(approval, level: 10, repeated: false, at: approval.levelStartedAt)
        #expect(BlockKitLimits.length(announcement) < BlockKitLimits.messageText)
    }
}
