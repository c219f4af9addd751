import ApprovalCore
import DomainTestSupport
import Foundation
import Testing

@Suite("Break-glass review and reminders")
struct BreakGlassReviewTests {
    /// A store with one approval approved by breaking the glass (by U0ONCALL), and the review over it.
    static func setUp() async throws -> (InMemoryStore, TestClock, BreakGlassReview, ApprovalID) {
        let clock = TestClock(now: Fixture.now)
        let store = InMemoryStore()
        let approval = Fixture.pending()
        store.seed(approval)
        let broken = try approval.breakingGlass(by: .slackUser("U0ONCALL"), reason: "outage", overLimit: false, at: clock.now)
        #expect(try await store.commit(PlannedChange(broken)))
        let configuration = ConfigurationService(store: store, audit: store, configuredAdmins: ["U0ADMIN", "U0ONCALL"], policies: store)
        let review = BreakGlassReview(
            store: store, configuration: configuration, clock: clock,
            notices: { admins, text in [NewOutboxItem(kind: "notice", approvalID: nil, payload: .object(["text": .string(text), "to": .array(admins.map(JSONValue.string))]))] },
            postUpdate: { id in [NewOutboxItem(kind: "update", approvalID: id, payload: .object([:]))] })
        return (store, clock, review, approval.id)
    }

    @Test("admins are reminded once past review_within, again a day later, and no more once it is reviewed")
    func reminders() async throws {
        let (store, clock, review, id) = try await Self.setUp()
        #expect(try await review.remindDue(reviewWithin: 3600).isEmpty)
        clock.advance(by: 3600)
        #expect(try await review.remindDue(reviewWithin: 3600) == [id])
        let notice = try #require(store.outbox.last { $0.kind == "notice" })
        #expect(notice.payload["to"] == .array([.string("U0ADMIN"), .string("U0ONCALL")]))
        #expect(notice.payload["text"]?.stringValue?.contains("outage") == true)
        clock.advance(by: 86_399)
        #expect(try await review.remindDue(reviewWithin: 3600).isEmpty)
        clock.advance(by: 1)
        #expect(try await review.remindDue(reviewWithin: 3600) == [id])
        try await review.review(id, by: .slackUser("U0ADMIN"))
        clock.advance(by: 2 * 86_400)
        #expect(try await review.remindDue(reviewWithin: 3600).isEmpty)
        #expect(store.outbox.filter { $0.kind == "notice" }.count == 2)
    }

    @Test("only an admin other than the breaker reviews, once; each review is audited and updates the post")
    func review() async throws {
        let (store, _, review, id) = try await Self.setUp()
        await #expect(throws: BreakGlassReview.Refusal.notAdmin) { try await review.review(id, by: .slackUser("U0LEAD")) }
        await #expect(throws: BreakGlassReview.Refusal.ownUse) { try await review.review(id, by: .slackUser("U0ONCALL")) }
        await #expect(throws: BreakGlassReview.Refusal.unknown) {
            try await review.review(ApprovalID(rawValue: "apr_unknown"), by: .slackUser("U0ADMIN"))
        }
        #expect(try await store.breakGlassUse(id)?.reviewedAt == nil)
        try await review.review(id, by: .slackUser("U0ADMIN"))
        #expect(try await store.breakGlassUse(id)?.reviewedBy == "U0ADMIN")
        #expect(store.audit.filter { $0.kind == .breakGlassReviewed }.count == 1)
        #expect(store.outbox.filter { $0.kind == "update" && $0.approvalID == id }.count == 1)
        #expect(store.audit.contains { $0.kind == .requestRefused && $0.details["reason"] == .string("own_break_glass") })
        await #expect(throws: BreakGlassReview.Refusal.alreadyReviewed) { try await review.review(id, by: .slackUser("U0ADMIN")) }
    }
}
