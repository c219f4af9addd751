import ApprovalCore
import SlackBridge
import Storage
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
            ("approved", try approval.deciding(DecisionCommand(.approve, by: "U012ABCDEF"), at: at)),
            ("rejected", try approval.deciding(DecisionCommand(.reject, by: "U012ABCDEF", reason: "No."), at: at)),
            ("modified", try approval.deciding(DecisionCommand(.modify(.object(["a": .number(1)])), by: "U012ABCDEF"), at: at)),
            ("cancelled", try approval.cancelling(by: "key:db-janitor", at: at)),
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
        let approved = try approval.deciding(DecisionCommand(.approve, by: "U012ABCDEF"), at: SampleApprovals.decidedAt).after
        let verify = try approved.verifying(approved.payload, consume: false, by: "key:db-janitor", at: SampleApprovals.decidedAt)
        let consume = try approved.verifying(approved.payload, consume: true, by: "key:db-janitor", at: SampleApprovals.decidedAt)
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

    @Test("the Slack kinds are the three the delivery handles")
    func kinds() {
        #expect(SlackOutboxKind.all == ["slack.post", "slack.update", "slack.ephemeral"])
    }
}
