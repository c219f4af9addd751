import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresNIO
import PostgresTestSupport
import Synchronization
import Testing

@testable import PostgresStorage

/// Several replicas over one PostgreSQL database, writing approvals, policies and reviews at once.
@Suite("Approvals across PostgreSQL replicas", .enabled(if: PostgresServer.available))
struct ApprovalReplicaTests {
    typealias S = ApprovalStorageSupport

    /// Two replicas (two `PostgresStorage.PostgresDatabase`, each with its own connections) on one new database.
    @Test("two replicas filing and deciding 50 requests each at once leave one audit chain that verifies with every entry")
    func concurrentCommits() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (replica, database) in [a, b].enumerated() {
                for n in 0..<50 {
                    group.addTask {
                        let approval = S.sample(replica * 100 + n, at: clock.now)
                        guard case .created(let created) = try await S.insert(approval, into: database) else {
                            Issue.record("not created")
                            return
                        }
                        let decided = try created.after.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
                        #expect(try await S.commit(decided, to: database))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await a.verifyAuditLog(expectedHead: nil) == .intact(entries: 200))
        let entries = try await b.auditEntries(since: nil, approvalID: nil)
        #expect(entries.map(\.seq) == Array(1...200))
        #expect(entries.filter { $0.kind == "created" }.count == 100)
        #expect(entries.filter { $0.kind == "decided" }.count == 100)
        #expect(try await b.countsByStatus() == [.approved: 100])
        #expect(try await a.verifyAuditLog(expectedHead: entries.last?.hash) == .intact(entries: 200))
    }

    @Test("two replicas deciding the same request at once: exactly one commit wins, with its vote, decision and entry alone")
    func racingDecisions() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        for n in 0..<20 {
            let approval = S.sample(n, at: clock.now)
            try await S.insert(approval, into: a)
            let approve = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
            let reject = try approval.deciding(DecisionCommand(.reject, by: .slackUser("U2")), at: clock.now)
            async let approved = S.commit(approve, to: a)
            async let rejected = S.commit(reject, to: b)
            let results = try await [approved, rejected]
            #expect(results.filter { $0 }.count == 1, "\(results)")
            let stored = try #require(try await b.approval(approval.id))
            #expect(stored == (results[0] ? approve.after : reject.after))
            #expect(stored.votes.count == 1)
            #expect(try await a.auditEntries(since: nil, approvalID: approval.id).map(\.kind) == ["created", "decided"])
        }
        #expect(try await a.verifyAuditLog(expectedHead: nil) == .intact(entries: 40))
    }

    @Test("two replicas filing with one idempotency key at once: one creates it, the other answers with it")
    func racingIdempotency() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        for n in 0..<10 {
            let key = IdempotencyKey(scope: "agent", key: "k\(n)", requestDigest: "d")
            let first = S.sample(n, at: clock.now)
            let retry = S.sample(n, at: clock.now)
            async let one = S.insert(first, into: a, idempotency: key)
            async let other = S.insert(retry, into: b, idempotency: key)
            let results = try await [one, other]
            let created = results.compactMap { if case .created(let t) = $0 { t.after } else { nil } }
            let existing = results.compactMap { if case .existing(let approval) = $0 { approval } else { nil } }
            #expect(created.count == 1 && existing == created)
        }
        #expect(try await a.countsByStatus() == [.pending: 10])
        #expect(try await b.verifyAuditLog(expectedHead: nil) == .intact(entries: 10))
    }

    @Test("policy changes from two replicas at once both apply, each from the other's result, with an entry each")
    func racingPolicyChanges() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        func adding(_ name: String) -> @Sendable (PolicySet) throws -> PolicySet {
            { set in
                var set = set
                set.rules.append(PolicyRule(name: name, when: PolicyCondition(gate: name), then: .auto))
                return set
            }
        }
        for round in 0..<5 {
            async let one = a.changePolicies(by: "U0ADMIN", adding("a\(round)"))
            async let other = b.changePolicies(by: "U0OTHER", adding("b\(round)"))
            _ = try await (one, other)
        }
        let names = Set(try await b.policies().rules.map(\.name))
        #expect(names == Set((0..<5).flatMap { ["a\($0)", "b\($0)"] }))
        #expect(try await a.auditEntries(since: nil, approvalID: nil).filter { $0.kind == "config_changed" }.count == 10)
        let version = try await a.read { connection in
            var version: Int64 = 0
            for try await value in try await connection.query("SELECT version FROM policy_set", logger: a.logger).decode(Int64.self) {
                version = value
            }
            return version
        }
        #expect(version == 10)
    }

    @Test("what one replica stores, another reads at once: policies, chains, and a create built from them")
    func nothingCached() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        let request = ApprovalRequest(action: "Deploy api", payload: .object([:]), risk: .low, gate: "deploy-prod")
        let viaB = ApprovalService(repository: b, clock: clock)
        #expect(try await viaB.submit(request, by: .slackUser("U9")).approval.status == .pending)
        let auto = PolicySet(rules: [PolicyRule(name: "low", when: PolicyCondition(gate: "deploy-prod"), then: .auto)])
        _ = try await a.changePolicies(by: "U0ADMIN") { _ in auto }
        #expect(try await b.policies() == auto)
        let approved = try await viaB.submit(request, by: .slackUser("U9")).approval
        #expect(approved.status == .approved && approved.decision?.by == "policy:low")
        #expect(try await a.everApproved(gate: "deploy-prod", action: "Deploy api"))

        _ = try await a.changePolicies(by: "U0ADMIN") { _ in .empty }
        let chain = EscalationChain(name: "deploy-prod", levels: [EscalationChain.Level(approvers: [.user("U4")], sla: 60)])
        try await a.write { connection in
            try await connection.query(
                "INSERT INTO chain (name, definition, updated_at, updated_by) VALUES ('deploy-prod', \(ChainCoding.encode(chain)), 0, 'U0ADMIN')",
                logger: a.logger)
        }
        #expect(try await viaB.submit(request, by: .slackUser("U9")).approval.chain == chain)
    }

    @Test("two replicas reviewing one break-glass use at once: one review is recorded, with one entry")
    func racingReviews() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        for n in 0..<10 {
            let approval = S.sample(n, at: clock.now)
            try await S.insert(approval, into: a)
            #expect(try await S.commit(
                try approval.breakingGlass(by: .slackUser("U5"), reason: "outage", overLimit: false, at: clock.now), to: b))
            let review = AuditEvent(.breakGlassReviewed, approvalID: approval.id, actor: "U0ADMIN")
            async let one = a.markBreakGlassReviewed(approval.id, by: "U0ADMIN", at: clock.now, audit: review, outbox: [])
            async let other = b.markBreakGlassReviewed(approval.id, by: "U0OTHER", at: clock.now, audit: review, outbox: [])
            let results = try await [one, other]
            #expect(results.filter { $0 }.count == 1)
            #expect(try await a.breakGlassUse(approval.id)?.reviewedBy == (results[0] ? "U0ADMIN" : "U0OTHER"))
        }
        #expect(try await b.unreviewedBreakGlassCount() == 0)
        #expect(try await a.verifyAuditLog(expectedHead: nil) == .intact(entries: 10 * 4))
    }

    @Test("two replicas reminding of the same unreviewed break-glass uses at once: one reminder is sent, and the next only a day later")
    func racingReminders() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        let approval = S.sample(1, at: clock.now)
        try await S.insert(approval, into: a)
        #expect(try await S.commit(
            try approval.breakingGlass(by: .slackUser("U5"), reason: "outage", overLimit: false, at: clock.now), to: b))
        let notice = NewOutboxItem(kind: "slack.admin_notice", approvalID: nil, payload: .object(["text": .string("unreviewed")]))
        async let one: Void = a.markBreakGlassReminded([approval.id], at: clock.now, outbox: [notice])
        async let other: Void = b.markBreakGlassReminded([approval.id], at: clock.now, outbox: [notice])
        _ = try await (one, other)
        #expect(try await a.outboxBacklog()["slack.admin_notice"] == 1)
        clock.advance(by: 3600)
        try await b.markBreakGlassReminded([approval.id], at: clock.now, outbox: [notice])
        #expect(try await a.outboxBacklog()["slack.admin_notice"] == 1)
        clock.advance(by: 86_400)
        try await b.markBreakGlassReminded([approval.id], at: clock.now, outbox: [notice])
        #expect(try await a.outboxBacklog()["slack.admin_notice"] == 2)
    }

    @Test("a create and a commit each announce the approval on the approval channel, for other replicas' long-polls",
          .timeLimit(.minutes(1)))
    func announcesChanges() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        let approval = S.sample(1, at: clock.now)
        let stale = try approval.deciding(DecisionCommand(.reject, by: .slackUser("U2")), at: clock.now)
        let payloads = try await b.client.withConnection { connection in
            try await connection.listen(on: PostgresStorage.PostgresDatabase.approvalChannel) { notifications in
                try await S.insert(approval, into: a)
                #expect(try await S.commit(try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now), to: a))
                #expect(try await !S.commit(stale, to: a))
                try await S.insert(S.sample(2, at: clock.now), into: a, idempotency: nil)
                var payloads: [String] = []
                for try await notification in notifications {
                    payloads.append(notification.payload)
                    if payloads.count == 3 { break }
                }
                return payloads
            }
        }
        #expect(payloads.prefix(2) == [approval.id.rawValue, approval.id.rawValue])
        #expect(payloads.count == 3 && payloads[2] != approval.id.rawValue)
    }
}
