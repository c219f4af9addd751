import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresTestSupport
import Testing

@testable import PostgresStorage

@Suite("Outbox on both engines")
struct OutboxTests {
    static func item(_ n: Int, kind: String = "k", key: String? = nil, notBefore: Date? = nil) -> NewOutboxItem {
        NewOutboxItem(kind: kind, approvalID: nil, orderingKey: key, payload: .object(["n": .number(Double(n))]), notBefore: notBefore)
    }

    static func numbers(_ items: [OutboxItem]) -> [JSONValue?] { items.map { $0.payload["n"] } }

    @Test("items are claimed when due, retried later, kept in order per ordering key, and released after a crash", arguments: Engine.all)
    func lifecycle(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await db.enqueueOutboxItems([
            Self.item(1, key: "m1"), Self.item(2, key: "m1"), Self.item(3, notBefore: clock.now.addingTimeInterval(60)),
        ])
        let first = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(Self.numbers(first) == [.number(1)])
        #expect(first[0].attempts == 1)
        #expect(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)  // 2 waits behind 1; 3 is not due

        try await db.rescheduleOutboxItem(first[0].id, error: "HTTP 500", retryAt: clock.now.addingTimeInterval(10))
        #expect(try await db.nextOutboxAttempt() == clock.now.addingTimeInterval(10))
        clock.advance(by: 10)
        let retried = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(retried.map(\.id) == [first[0].id])
        #expect(retried[0].attempts == 2)
        #expect(retried[0].lastError == "HTTP 500")

        // The process dies holding the claim; the next start releases it.
        try await db.releaseOutboxClaims(now: clock.now)
        let again = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(again.map(\.id) == [first[0].id])
        try await db.completeOutboxItem(again[0].id, at: clock.now, audit: nil)
        let second = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(Self.numbers(second) == [.number(2)])
        try await db.failOutboxItem(second[0].id, error: "permanent", at: clock.now, audit: nil)
        clock.advance(by: 60)
        let third = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(Self.numbers(third) == [.number(3)])
        #expect(try await db.outboxBacklog()["k"] == 1)

        let rows = try await opened.outboxRows()
        #expect(rows.map { $0.doneAt != nil } == [true, false, false])
        #expect(rows.map { $0.failedAt != nil } == [false, true, false])
        #expect(rows[1].item.lastError == "permanent")
    }

    @Test("due items are claimed by their due time, then in the order they were added, up to the limit", arguments: Engine.all)
    func claimOrder(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let now = clock.now
        try await db.enqueueOutboxItems([
            Self.item(1, notBefore: now.addingTimeInterval(30)), Self.item(2), Self.item(3, notBefore: now.addingTimeInterval(10)),
            Self.item(4), Self.item(5, notBefore: now.addingTimeInterval(90)),
        ])
        clock.advance(by: 60)
        let claimed = try await db.claimDueOutboxItems(now: clock.now, limit: 3, kinds: nil)
        #expect(Self.numbers(claimed) == [.number(2), .number(4), .number(3)])
        #expect(claimed.map(\.nextAttemptAt) == [now, now, now.addingTimeInterval(10)])
        #expect(Self.numbers(try await db.claimDueOutboxItems(now: clock.now, limit: 3, kinds: nil)) == [.number(1)])
        #expect(try await db.claimDueOutboxItems(now: clock.now, limit: 3, kinds: nil).isEmpty)
    }

    @Test("an earlier unfinished item holds back the later items of its key, claimed or waiting for a retry", arguments: Engine.all)
    func orderingKeys(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await db.enqueueOutboxItems([Self.item(1, key: "a"), Self.item(2, key: "a"), Self.item(3, key: "b"), Self.item(4, key: "a")])
        let first = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(Self.numbers(first) == [.number(1), .number(3)])
        #expect(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)

        try await db.rescheduleOutboxItem(first[0].id, error: "timeout", retryAt: clock.now.addingTimeInterval(30))
        try await db.completeOutboxItem(first[1].id, at: clock.now, audit: nil)
        #expect(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)
        // 2 and 4 are not due on their own while 1 waits: the next attempt is 1's.
        #expect(try await db.nextOutboxAttempt() == clock.now.addingTimeInterval(30))

        clock.advance(by: 30)
        let retried = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(Self.numbers(retried) == [.number(1)])
        try await db.failOutboxItem(retried[0].id, error: "gone", at: clock.now, audit: nil)
        let second = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(Self.numbers(second) == [.number(2)])
        try await db.completeOutboxItem(second[0].id, at: clock.now, audit: nil)
        #expect(Self.numbers(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)) == [.number(4)])
    }

    @Test("a claim takes only the kinds asked for; none when the list is empty", arguments: Engine.all)
    func kinds(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await db.enqueueOutboxItems([Self.item(1, kind: "slack"), Self.item(2, kind: "callback"), Self.item(3, kind: "slack")])
        #expect(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: []).isEmpty)
        #expect(Self.numbers(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: ["callback"])) == [.number(2)])
        #expect(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: ["webhook"]).isEmpty)
        #expect(Self.numbers(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)) == [.number(1), .number(3)])
    }

    @Test("the backlog counts unfinished items by kind; finished ones leave it", arguments: Engine.all)
    func backlog(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        #expect(try await db.outboxBacklog().isEmpty)
        try await db.enqueueOutboxItems([
            Self.item(1, kind: "slack"), Self.item(2, kind: "callback"), Self.item(3, kind: "slack"),
            Self.item(4, kind: "slack", notBefore: clock.now.addingTimeInterval(3600)),
        ])
        #expect(try await db.outboxBacklog() == ["slack": 3, "callback": 1])
        let claimed = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(try await db.outboxBacklog() == ["slack": 3, "callback": 1])  // claimed is not finished
        try await db.completeOutboxItem(claimed[0].id, at: clock.now, audit: nil)
        try await db.failOutboxItem(claimed[1].id, error: "no", at: clock.now, audit: nil)
        #expect(try await db.outboxBacklog() == ["slack": 2])
    }

    @Test("the next attempt is the earliest unfinished item's due time, none when nothing is left", arguments: Engine.all)
    func nextAttempt(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        #expect(try await db.nextOutboxAttempt() == nil)
        let now = clock.now
        try await db.enqueueOutboxItems([
            Self.item(1, notBefore: now.addingTimeInterval(40)), Self.item(2, notBefore: now.addingTimeInterval(20)),
            // Before its own time it still waits behind 2.
            Self.item(3, key: "x", notBefore: now.addingTimeInterval(50)), Self.item(4, key: "x", notBefore: now.addingTimeInterval(5)),
        ])
        #expect(try await db.nextOutboxAttempt() == now.addingTimeInterval(20))
        clock.advance(by: 60)
        for item in try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil) {
            try await db.completeOutboxItem(item.id, at: clock.now, audit: nil)
        }
        for item in try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil) {
            try await db.completeOutboxItem(item.id, at: clock.now, audit: nil)
        }
        #expect(try await db.nextOutboxAttempt() == nil)
        #expect(try await db.outboxBacklog().isEmpty)
    }

    @Test("completing and giving up append their audit entries with the change", arguments: Engine.all)
    func audited(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await db.enqueueOutboxItems([Self.item(1), Self.item(2)])
        let claimed = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        try await db.completeOutboxItem(claimed[0].id, at: clock.now, audit: AuditEvent(.posted, actor: "system:slack"))
        try await db.failOutboxItem(
            claimed[1].id, error: "HTTP 404", at: clock.now, audit: AuditEvent(.deliveryFailed, actor: "system:outbox"))
        #expect(try await opened.auditTrail().map(\.kind) == ["posted", "delivery_failed"])
    }

    @Test("an error kept with an item is cut to 500 characters", arguments: Engine.all)
    func longErrors(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any OutboxStore).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await db.enqueueOutboxItems([Self.item(1)])
        let claimed = try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        try await db.rescheduleOutboxItem(claimed[0].id, error: String(repeating: "e", count: 900), retryAt: clock.now)
        #expect(try await db.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).first?.lastError?.count == 500)
    }
}

/// Several replicas over one PostgreSQL database, sharing the outbox.
@Suite("Outbox across replicas", .enabled(if: PostgresServer.available))
struct OutboxReplicaTests {
    @Test("two replicas claiming 200 due items at once claim each exactly once")
    func concurrentClaims() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        try await a.enqueueOutboxItems((1...200).map { OutboxTests.item($0, key: $0 % 10 == 0 ? "k\($0)" : nil) })
        let now = clock.now
        let claimed = try await withThrowingTaskGroup(of: [OutboxItem].self) { group in
            for replica in [a, b, a, b] {
                group.addTask {
                    var mine: [OutboxItem] = []
                    while true {
                        let batch = try await replica.claimDueOutboxItems(now: now, limit: 7, kinds: nil)
                        if batch.isEmpty { break }
                        mine += batch
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [OutboxItem]()) { $0 += $1 }
        }
        // A claimer may stop early when the rest were locked by the other at that moment: whatever is left is claimed now.
        let leftovers = try await a.claimDueOutboxItems(now: now, limit: 200, kinds: nil)
        let all = claimed + leftovers
        #expect(all.count == 200)
        #expect(Set(all.map(\.id)).count == 200)
        #expect(all.allSatisfy { $0.attempts == 1 })
        #expect(try await b.claimDueOutboxItems(now: now, limit: 200, kinds: nil).isEmpty)
    }

    @Test("a replica that dies holding a claim loses it when the lease lapses; its late work undoes nothing")
    func leaseLapses() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        try await a.enqueueOutboxItems([OutboxTests.item(1, key: "m"), OutboxTests.item(2, key: "m")])
        let claimedAt = clock.now
        let dead = try await a.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(OutboxTests.numbers(dead) == [.number(1)])
        // A's claim holds until the lease lapses, and the workers wake up then.
        #expect(try await b.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)
        #expect(try await b.nextOutboxAttempt() == claimedAt.addingTimeInterval(PostgresDatabase.outboxLease))
        clock.advance(by: PostgresDatabase.outboxLease - 1)
        #expect(try await b.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)

        clock.advance(by: 1)
        let takenOver = try await b.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(takenOver.map(\.id) == dead.map(\.id))
        #expect(try #require(takenOver.first).attempts == 2)
        // Item 2 still waits behind 1, now B's.
        #expect(try await a.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)

        // A comes back late: its retry and its giving up do not touch B's claim.
        try await a.rescheduleOutboxItem(dead[0].id, error: "late", retryAt: clock.now)
        try await a.failOutboxItem(dead[0].id, error: "late", at: clock.now, audit: AuditEvent(.deliveryFailed, actor: "system:outbox"))
        #expect(try await a.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)
        var row = try #require(try await a.outboxItems().first)
        #expect(row.failedAt == nil && row.doneAt == nil && row.item.lastError == nil)

        let completedAt = clock.now
        try await b.completeOutboxItem(takenOver[0].id, at: completedAt, audit: AuditEvent(.posted, actor: "system:slack"))
        clock.advance(by: 5)
        // A's late completion of a finished item changes nothing and is not audited twice.
        try await a.completeOutboxItem(dead[0].id, at: clock.now, audit: AuditEvent(.posted, actor: "system:slack"))
        row = try #require(try await a.outboxItems().first)
        #expect(row.doneAt == completedAt && row.failedAt == nil)
        let kinds = try await a.read { connection in
            try await connection.query("SELECT kind FROM audit_log ORDER BY seq", logger: a.logger).collect()
                .map { try $0.decode(String.self) }
        }
        #expect(kinds == ["posted"])
        #expect(OutboxTests.numbers(try await a.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)) == [.number(2)])
    }

    @Test("a replica whose lease lapsed may still record its delivery while the item is unfinished; the new claimant's then changes nothing")
    func lateCompletionFirst() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        try await a.enqueueOutboxItems([OutboxTests.item(1)])
        let slow = try await a.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        clock.advance(by: PostgresDatabase.outboxLease + 1)
        let takenOver = try await b.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        try #require(takenOver.map(\.id) == slow.map(\.id))
        let doneAt = clock.now
        try await a.completeOutboxItem(slow[0].id, at: doneAt, audit: nil)
        clock.advance(by: 1)
        try await b.rescheduleOutboxItem(takenOver[0].id, error: "HTTP 500", retryAt: clock.now)
        try await b.completeOutboxItem(takenOver[0].id, at: clock.now, audit: nil)
        let row = try #require(try await b.outboxItems().first)
        #expect(row.doneAt == doneAt && row.item.lastError == nil)
        #expect(try await b.outboxBacklog().isEmpty)
        #expect(try await b.nextOutboxAttempt() == nil)
    }

    @Test("releasing claims at start releases this replica's alone")
    func releaseOwnClaims() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        try await a.enqueueOutboxItems([OutboxTests.item(1), OutboxTests.item(2)])
        let mine = try await a.claimDueOutboxItems(now: clock.now, limit: 1, kinds: nil)
        let theirs = try await b.claimDueOutboxItems(now: clock.now, limit: 1, kinds: nil)
        #expect(OutboxTests.numbers(mine) == [.number(1)])
        #expect(OutboxTests.numbers(theirs) == [.number(2)])
        try await a.releaseOutboxClaims(now: clock.now)
        let reclaimed = try await b.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil)
        #expect(reclaimed.map(\.id) == mine.map(\.id))
        #expect(try await a.claimDueOutboxItems(now: clock.now, limit: 32, kinds: nil).isEmpty)
        // B still holds 2: recording its retry is B's alone.
        try await b.rescheduleOutboxItem(theirs[0].id, error: "busy", retryAt: clock.now)
        #expect(try await a.outboxItems().map(\.item.lastError) == [nil, "busy"])
    }
}
