import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresTestSupport
import SlackRecords
import Testing

@testable import PostgresStorage

@Suite("Slack messages and signatures on both engines")
struct SlackRecordTests {
    typealias Store = any SlackMessageStore & SlackSignatureStore

    @Test("messages are kept per approval in the order posted, with what is learned about them later", arguments: Engine.all)
    func messages(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open(Store.self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let first = try await opened.addApproval(at: clock.now)
        let second = try await opened.addApproval(at: clock.now)
        let posted = clock.now
        let channel = SlackMessageRecord(approvalID: first, kind: .channel, channel: "C1", ts: "1.1", postedAt: posted, shownSHA256: "s1")
        let dm = SlackMessageRecord(
            approvalID: first, kind: .dm, channel: "D1", ts: "1.2", recipient: "U1", postedAt: posted, outboxItem: 7,
            header: "You are the approver")
        let reply = SlackMessageRecord(approvalID: first, kind: .thread, channel: "C1", ts: "1.3", postedAt: posted)
        try await db.recordSlackMessage(channel, audit: AuditEvent(.posted, approvalID: first, actor: "system:slack"))
        try await db.recordSlackMessage(dm, audit: nil)
        try await db.recordSlackMessage(reply, audit: nil)
        try await db.recordSlackMessage(
            SlackMessageRecord(approvalID: second, kind: .channel, channel: "C1", ts: "2.1", postedAt: posted), audit: nil)

        #expect(try await db.slackMessages(for: first) == [channel, dm, reply])
        #expect(reply.followsState == false && dm.followsState)
        #expect(try await opened.auditTrail().filter { $0.kind == "posted" }.count == 1)

        #expect(try await db.slackPermalinks(for: [first, second]).isEmpty)
        try await db.updateSlackMessage(channel: "C1", ts: "1.1", permalink: "https://slack/p1", shownSHA256: nil)
        try await db.updateSlackMessage(channel: "D1", ts: "1.2", permalink: "https://slack/d1", shownSHA256: nil)
        try await db.updateSlackMessage(channel: "C1", ts: "2.1", permalink: nil, shownSHA256: "s2")
        // Only channel messages give their permalink.
        #expect(try await db.slackPermalinks(for: [first, second, ApprovalID(rawValue: "apr_none")]) == [first: "https://slack/p1"])
        #expect(try await db.slackPermalinks(for: []).isEmpty)
        let updated = try await db.slackMessages(for: first)
        #expect(updated[0].permalink == "https://slack/p1" && updated[0].shownSHA256 == "s1")
        #expect(try await db.slackMessages(for: second).first?.shownSHA256 == "s2")
        #expect(try await db.slackMessages(for: second).first?.permalink == nil)
    }

    @Test("a second channel message for one approval is refused", arguments: Engine.all)
    func oneChannelMessage(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open(Store.self, clock: clock)
        defer { opened.close() }
        let id = try await opened.addApproval(at: clock.now)
        try await opened.store.recordSlackMessage(
            SlackMessageRecord(approvalID: id, kind: .channel, channel: "C1", ts: "1.1", postedAt: clock.now), audit: nil)
        await #expect(throws: (any Error).self) {
            try await opened.store.recordSlackMessage(
                SlackMessageRecord(approvalID: id, kind: .channel, channel: "C1", ts: "1.9", postedAt: clock.now),
                audit: AuditEvent(.posted, approvalID: id, actor: "system:slack"))
        }
        #expect(try await opened.store.slackMessages(for: id).count == 1)
    }

    @Test("a signature is recorded once; a replay is refused until its window has passed", arguments: Engine.all)
    func signatures(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open(Store.self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let now = clock.now
        #expect(try await db.recordSlackSignature("v0=aa", expiresAt: now.addingTimeInterval(10), now: now))
        #expect(try await db.recordSlackSignature("v0=bb", expiresAt: now.addingTimeInterval(300), now: now))
        #expect(try await db.recordSlackSignature("v0=aa", expiresAt: now.addingTimeInterval(10), now: now) == false)
        #expect(try await db.acceptedSlackSignatures(at: now)
            == ["v0=aa": now.addingTimeInterval(10), "v0=bb": now.addingTimeInterval(300)])

        clock.advance(by: 20)
        #expect(try await db.acceptedSlackSignatures(at: clock.now) == ["v0=bb": now.addingTimeInterval(300)])
        // Past its window the old signature is forgotten when the next one is recorded, so it may be recorded again.
        #expect(try await db.recordSlackSignature("v0=aa", expiresAt: clock.now.addingTimeInterval(10), now: clock.now))
        #expect(try await db.recordSlackSignature("v0=bb", expiresAt: clock.now.addingTimeInterval(300), now: clock.now) == false)
    }
}

@Suite("Slack signatures across replicas", .enabled(if: PostgresServer.available))
struct SlackSignatureReplicaTests {
    @Test("two replicas recording the same signatures at once: each is recorded by exactly one")
    func sharedReplayCache() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        let now = clock.now
        let signatures = (0..<40).map { "v0=\($0)" }
        let results = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for signature in signatures {
                for replica in [a, b] {
                    group.addTask {
                        (signature, try await replica.recordSlackSignature(signature, expiresAt: now.addingTimeInterval(300), now: now))
                    }
                }
            }
            return try await group.reduce(into: [String: [Bool]]()) { $0[$1.0, default: []].append($1.1) }
        }
        for signature in signatures { #expect(results[signature]?.sorted { !$0 && $1 } == [false, true], "\(signature)") }
        // One replica's record is the other's replay.
        #expect(try await b.recordSlackSignature("v0=0", expiresAt: now.addingTimeInterval(300), now: now) == false)
        #expect(try await a.acceptedSlackSignatures(at: now).count == 40)
    }
}
