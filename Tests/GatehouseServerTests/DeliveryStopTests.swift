import ApprovalCore
import Foundation
@testable import GatehouseServer
import GatehouseTestSupport
import Hummingbird
import SlackAPI
import SlackBridge
import Storage
import Synchronization
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
        let delivery = SlackDelivery(slack: client, database: env.database, channel: "C0APPROVALS", clock: clock, onError: { _, _ in })
        let approval = ApprovalRequest(action: "Deploy api", payload: .object([:])).approval(id: .random(), ownerKey: "agent", at: clock.now)
        _ = try await env.database.insert(gate: approval.gate, idempotency: nil) { _ in approval.submitted() }
        let key = "slack:\(approval.id.rawValue)"
        try await env.database.enqueueOutboxItems([
            NewOutboxItem(kind: SlackOutboxKind.post, approvalID: approval.id, orderingKey: key, payload: .object([:]))
        ])
        let post = try #require(try await env.database.claimDueOutboxItems(now: clock.now).first)

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
        try await env.database.enqueueOutboxItems([NewOutboxItem(
            kind: SlackOutboxKind.ephemeral, approvalID: approval.id, orderingKey: nil,
            payload: .object(["channel": .string("C0APPROVALS"), "user": .string("U0ALICE"), "text": .string("hi")]))])
        let reply = try #require(try await env.database.claimDueOutboxItems(now: clock.now, kinds: [SlackOutboxKind.ephemeral]).first)
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
        let slowReceiver = FakeHold()
        defer { slowReceiver.release() }
        let received = Mutex(0)
        let router = Router()
        router.post("hook") { _, _ -> HTTPResponse.Status in
            await slowReceiver.holdHere()
            received.withLock { $0 += 1 }
            return .noContent
        }
        let receiver = try await LocalHTTPServer.start(router: router)
        let delivery = CallbackDelivery(database: env.database, poster: URLSessionHTTPPoster(timeout: 5), clock: env.clock, secret: nil)
        let approval = ApprovalRequest(action: "Deploy api", payload: .object([:])).approval(id: .random(), ownerKey: "agent", at: env.clock.now)
        _ = try await env.database.insert(gate: approval.gate, idempotency: nil) { _ in approval.submitted() }
        try await env.database.enqueueOutboxItems([NewOutboxItem(
            kind: CallbackOutboxPlanner.kind, approvalID: approval.id, orderingKey: nil,
            payload: .object(["url": .string(receiver.baseURL.absoluteString + "hook")]))])
        let item = try #require(try await env.database.claimDueOutboxItems(now: env.clock.now).first)

        let delivering = Task { try await delivery.deliver(item) }
        await slowReceiver.arrived()
        delivering.cancel()
        slowReceiver.release()
        // Answered 204: delivered, so the item is done and not sent again after the restart.
        try await delivering.value
        #expect(received.withLock { $0 } == 1)
        await receiver.stop()
    }
}
