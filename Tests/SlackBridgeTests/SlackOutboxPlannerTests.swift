import ApprovalCore
import SlackBridge
import Testing

@Suite("SlackOutboxPlanner")
struct SlackOutboxPlannerTests {
    let planner = SlackOutboxPlanner()
    let approval = SampleApprovals.pendingHighRisk
    var orderingKey: String { "slack:\(approval.id.rawValue)" }

    @Test("a new approval is posted")
    func created() throws {
        let items = planner.outboxItems(for: approval.submitted())
        #expect(items.count == 1)
        let item = try #require(items.first)
        #expect(item.kind == SlackOutboxKind.post)
        #expect(item.kind == "slack.post")
        #expect(item.approvalID == approval.id)
        #expect(item.orderingKey == orderingKey)
        #expect(item.notBefore == nil)
    }

    @Test("every way of leaving pending updates the message, in the same order as the post")
    func leavingPending() throws {
        let at = SampleApprovals.decidedAt
        let transitions: [(String, ApprovalTransition)] = [
            ("approved", try approval.deciding(DecisionCommand(.approve, by: .slackUser("U012ABCDEF")), at: at)),
            ("rejected", try approval.deciding(DecisionCommand(.reject, by: .slackUser("U012ABCDEF"), reason: "No."), at: at)),
            ("modified", try approval.deciding(DecisionCommand(.modify(.object(["a": .number(1)])), by: .slackUser("U012ABCDEF")), at: at)),
            ("cancelled", try approval.cancelling(by: .key(named: "db-janitor"), at: at)),
            ("expired", try #require(approval.expiring(at: approval.expiresAt))),
        ]
        let post = try #require(planner.outboxItems(for: approval.submitted()).first)
        for (name, transition) in transitions {
            let items = planner.outboxItems(for: transition)
            #expect(items.map(\.kind) == [SlackOutboxKind.update], "\(name)")
            #expect(items.first?.kind == "slack.update", "\(name)")
            #expect(items.first?.approvalID == approval.id, "\(name)")
            #expect(items.first?.orderingKey == post.orderingKey, "\(name): same ordering key as the post")
        }
    }

    @Test("verifying or consuming an approval changes nothing in Slack")
    func verifying() throws {
        let approved = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U012ABCDEF")), at: SampleApprovals.decidedAt).after
        let verify = try approved.verifying(approved.payload, consume: false, by: .key(named: "db-janitor"), at: SampleApprovals.decidedAt)
        let consume = try approved.verifying(approved.payload, consume: true, by: .key(named: "db-janitor"), at: SampleApprovals.decidedAt)
        #expect(planner.outboxItems(for: verify) == [])
        #expect(planner.outboxItems(for: consume) == [])
    }

    @Test("different approvals have different ordering keys, so one does not hold up another")
    func separateKeys() throws {
        let other = SampleApprovals.pendingLowMinimal
        let first = try #require(planner.outboxItems(for: approval.submitted()).first)
        let second = try #require(planner.outboxItems(for: other.submitted()).first)
        #expect(first.orderingKey != second.orderingKey)
    }

    @Test("the Slack kinds are the seven the delivery handles")
    func kinds() {
        #expect(SlackOutboxKind.all == [
            "slack.post", "slack.update", "slack.ephemeral", "slack.escalate", "slack.break_glass", "slack.admin_notice",
            "slack.contact",
        ])
    }

    @Test("an escalation pings the new level, then updates the message; a hold re-ping pings the same level again and updates nothing, except at the last ask before expiry")
    func escalation() throws {
        var filed = approval
        filed.chain = EscalationChain(
            name: "prod-db",
            levels: [.init(approvers: [.user("U0ALICE")], sla: 600), .init(approvers: [.group("S0SRE")], sla: 600)],
            finalAction: .hold)
        filed.nextDeadline = filed.createdAt.addingTimeInterval(600)
        let escalated = try #require(filed.advancing(at: filed.nextDeadline))
        let items = planner.outboxItems(for: escalated)
        #expect(items.map(\.kind) == [SlackOutboxKind.escalate, SlackOutboxKind.update])
        #expect(items.first?.payload == .object(["level": .number(2), "repeated": .bool(false)]))
        #expect(items.allSatisfy { $0.orderingKey == orderingKey })

        let repinged = try #require(escalated.after.advancing(at: escalated.after.nextDeadline))
        let again = planner.outboxItems(for: repinged)
        // Asking again changes nothing the messages show: a ping, no update.
        #expect(again.map(\.kind) == [SlackOutboxKind.escalate])
        #expect(again.first?.payload == .object(["level": .number(2), "repeated": .bool(true)]))

        // The last ask before expiry changes the note ("expires … if nobody decides"), so the messages are updated.
        filed.expiresAt = filed.createdAt.addingTimeInterval(600 * 3 + 300)
        var pending = try #require(filed.advancing(at: filed.nextDeadline)).after
        let third = try #require(pending.advancing(at: pending.nextDeadline))
        #expect(planner.outboxItems(for: third).map(\.kind) == [SlackOutboxKind.escalate])
        pending = third.after
        let last = try #require(pending.advancing(at: pending.nextDeadline))
        #expect(last.after.nextDeadline == filed.expiresAt)
        #expect(planner.outboxItems(for: last).map(\.kind) == [SlackOutboxKind.escalate, SlackOutboxKind.update])
    }
}
