import ApprovalCore
import Foundation
@testable import GatehouseServer
import ServerTestSupport
import SlackAPI
import SlackBridge
import Storage
import Testing

/// The service stopping (its tasks cancelled) while deliveries are under way: Slack calls against the stand-in Slack
/// server, callbacks against a receiver on loopback.
@Suite("Deliveries while the service stops")
struct DeliveryStopTests {
    @Test("a post already on its way when the service stops runs to its end and is recorded, so it is never posted twice; nothing new starts")
    func postOnItsWay() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        let clock = env.clock
        let client = URLSessionSlackClient(token: fake.token, baseURL: fake.baseURL, pacing: 0, now: { clock.now })
        let delivery = SlackDelivery(slack: client, approvals: env.database, messages: env.database, channel: "C0APPROVALS", clock: clock, onError: { _, _ in })
        let approval = try await Self.fileApproval(env)
        let post = try await Self.claim(
            NewOutboxItem(kind: SlackOutboxKind.post, approvalID: approval.id, orderingKey: "slack:\(approval.id.rawValue)", payload: .object([:])),
            in: env)

        // Slack is slow to answer the post; the service stops meanwhile.
        let slowPost = fake.hold("chat.postMessage")
        defer { slowPost.release() }
        let delivering = Task { try await delivery.deliver(post) }
        await slowPost.arrived()
        delivering.cancel()
        slowPost.release()
        // The post is recorded; no call starts once stopping, not even for its link, so the item is left to retry.
        await #expect {
            try await delivering.value
        } throws: { error in
            guard case .retry(let reason, _) = error as? OutboxFailure else { return false }
            return reason.contains("chat.getPermalink: not sent, the service is stopping")
        }
        #expect(try await env.database.slackMessages(for: approval.id).map(\.kind) == [.channel])
        #expect(fake.calls("chat.getPermalink").isEmpty)
        #expect(try await env.database.slackMessages(for: approval.id).first?.permalink == nil)
        // Delivered again after the restart: no second post, and the link is fetched now.
        try await delivery.deliver(post)
        #expect(fake.calls("chat.postMessage").count == 1)
        #expect(fake.messages(in: "C0APPROVALS").count == 1)
        #expect(fake.calls("chat.getPermalink").count == 1)
        #expect(try await env.database.slackMessages(for: approval.id).first?.permalink?.hasPrefix("https://") == true)

        // Once the service is stopping, no call is started: the item is retried after the restart.
        let reply = try await Self.claim(
            NewOutboxItem(
                kind: SlackOutboxKind.ephemeral, approvalID: approval.id, orderingKey: nil,
                payload: .object(["channel": .string("C0APPROVALS"), "user": .string("U0ALICE"), "text": .string("hi")])),
            in: env)
        let stopping = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await delivery.deliver(reply)
        }
        await #expect {
            try await stopping.value
        } throws: { error in
            guard case .retry(let reason, _) = error as? OutboxFailure else { return false }
            return reason.contains("the service is stopping")
        }
        #expect(fake.calls("chat.postEphemeral").isEmpty)
        await fake.stop()
    }

    @Test("a callback already on its way when the service stops runs to its end, so the receiver that took it is not sent it again")
    func callbackOnItsWay() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let receiver = CallbackReceiver()
        let url = try await receiver.start(statuses: [204])
        let slowReceiver = receiver.hold()
        defer { slowReceiver.release() }
        let delivery = CallbackDelivery(
            approvals: env.database, poster: URLSessionHTTPPoster(timeout: 5), clock: env.clock, secret: nil, targets: .loopbackOnly,
            resolver: SystemResolver())
        let approval = try await Self.fileApproval(env)
        let item = try await Self.claim(
            NewOutboxItem(
                kind: CallbackOutboxPlanner.kind, approvalID: approval.id, orderingKey: nil,
                payload: .object(["url": .string(url.absoluteString)])),
            in: env)

        let delivering = Task { try await delivery.deliver(item) }
        await slowReceiver.arrived()
        delivering.cancel()
        slowReceiver.release()
        // Answered 204: delivered, so the item is done and not sent again after the restart.
        try await delivering.value
        #expect(receiver.deliveries.count == 1)
        await receiver.stop()
    }

    /// A pending request in the database, with nothing planned for it.
    static func fileApproval(_ env: TestEnvironment) async throws -> Approval {
        let approval = ApprovalRequest(action: "Deploy api", payload: .object([:])).approval(id: .random(), ownerKey: "agent", at: env.clock.now)
        _ = try await env.database.insert(idempotency: nil) { _ in PlannedChange(approval.submitted()) }
        return approval
    }

    /// `item` queued and claimed, as the outbox hands it to its handler.
    static func claim(_ item: NewOutboxItem, in env: TestEnvironment) async throws -> OutboxItem {
        try await env.database.enqueueOutboxItems([item])
        return try #require(try await env.database.claimDueOutboxItems(now: env.clock.now, kinds: [item.kind]).first)
    }
}
