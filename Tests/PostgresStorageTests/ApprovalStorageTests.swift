import ApprovalCore
import DomainTestSupport
import Foundation
import Testing

/// Approvals as either engine stores them: the same rows, the same answers, the same refusals.
@Suite("Approval storage on both engines")
struct ApprovalStorageTests {
    typealias S = ApprovalStorageSupport

    @Test("an approval round-trips with every field: chain, policy, key, votes, withdrawn vote, amended payload, decision, consumption",
          arguments: Engine.all)
    func roundTrip(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await S.addKey(7, on: opened.raw)
        let approval = ApprovalRequest(
            action: "Raise the spend limit", payload: Fixture.payload, reasoning: "Quarter end", consequences: "Costs more",
            onReject: "Keep the limit", risk: .high, gate: "deploy-prod", requester: "agent:bot", expiresIn: 7_200,
            callbackURL: "https://example.com/hook"
        ).approval(id: .random(at: clock.now), ownerKey: "key7", ownerKeyID: 7, at: clock.now, chain: Fixture.threeLevels(), policy: S.quorum)
        let created = approval.submitted()
        #expect(try await S.insert(approval, into: db) == .created(created))
        #expect(try await db.approval(approval.id) == approval)

        // A vote, a Modify that withdraws it and amends the payload, the vote again: decided as modified.
        clock.advance(by: 5)
        let first = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1", name: "alice"), reason: "fine"), at: clock.now)
        #expect(try await S.commit(first, to: db))
        #expect(try await db.approval(approval.id) == first.after)
        clock.advance(by: 5)
        let edited: JSONValue = .object(["service": .string("api"), "replicas": .number(1)])
        let modified = try first.after.deciding(
            DecisionCommand(.modify(edited), by: .slackUser("U2", name: "bob"), reason: "smaller", reasonCode: "too_big"), at: clock.now)
        #expect(try await S.commit(modified, to: db))
        #expect(try await db.approval(approval.id) == modified.after)
        clock.advance(by: 5)
        let decided = try modified.after.deciding(DecisionCommand(.approve, by: .slackUser("U1", name: "alice")), at: clock.now)
        #expect(decided.after.status == .modified)
        #expect(try await S.commit(decided, to: db))
        let stored = try #require(try await db.approval(approval.id))
        #expect(stored == decided.after)
        #expect(stored.votes.count == 3)
        #expect(stored.votes[0].withdrawnAt != nil)
        #expect(stored.votes.map(\.roles) == [["lead"], ["director"], ["lead"]])
        #expect(stored.amendedPayload == edited)
        #expect(stored.revision == 3)

        clock.advance(by: 5)
        let consumed = try stored.verifying(edited, consume: true, by: .key(named: "key7"), at: clock.now)
        #expect(try await S.commit(consumed, to: db))
        #expect(try await db.approval(approval.id) == consumed.after)
        #expect(try await S.count("vote", on: opened.raw) == 3)
        #expect(try await db.auditEntries(since: nil, approvalID: approval.id).map(\.kind)
            == ["created", "voted", "vote_withdrawn", "voted", "voted", "decided", "verified", "consumed"])
    }

    @Test("every column holds the text SQLite writes: canonical payloads, coded chain, policy and decision, no chain for the default",
          arguments: Engine.all)
    func storedText(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        var approval = S.sample(1, at: clock.now)
        approval.payload = .object(["b": .number(2), "a": .string("x/y")])
        approval.chain = Fixture.threeLevels()
        approval.policy = S.quorum
        let plain = S.sample(2, at: clock.now)
        try await S.insert(approval, into: db)
        try await S.insert(plain, into: db)
        let voted = try approval.deciding(DecisionCommand(.modify(.object(["b": .number(3)])), by: .slackUser("U1")), at: clock.now)
        #expect(try await S.commit(voted, to: db))
        let rejected = try voted.after.deciding(DecisionCommand(.reject, by: .slackUser("U2"), reason: "no"), at: clock.now)
        #expect(try await S.commit(rejected, to: db))
        let decision = try #require(rejected.after.decision)

        let rows = try await S.texts(
            "SELECT payload, chain, policy, decision, amended_payload FROM approval ORDER BY seq", on: opened.raw)
        #expect(rows == [
            [CanonicalJSON.serialize(approval.payload), ChainCoding.encode(approval.chain), PolicyCoding.encode(S.quorum),
             DecisionCoding.encode(decision), CanonicalJSON.serialize(.object(["b": .number(3)]))],
            [CanonicalJSON.serialize(plain.payload), nil, nil, nil, nil],
        ])
        let votes = try await S.texts("SELECT voter, roles, CAST(withdrawn_at AS TEXT) FROM vote ORDER BY id", on: opened.raw)
        #expect(votes == [["U1", #"["lead"]"#, nil], ["U2", #"["director"]"#, nil]])
    }

    @Test("an idempotency key gives the same approval back for the same body, and a conflict for another", arguments: Engine.all)
    func idempotency(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let key = IdempotencyKey(scope: "agent", key: "k1", requestDigest: "d1")
        let first = S.sample(1, at: clock.now)
        #expect(try await S.insert(first, into: db, idempotency: key) == .created(first.submitted()))
        let retry = S.sample(1, at: clock.now)
        #expect(try await S.insert(retry, into: db, idempotency: key) == .existing(first))
        await #expect(throws: ApprovalError.idempotencyConflict) {
            try await S.insert(S.sample(2, at: clock.now), into: db, idempotency: IdempotencyKey(scope: "agent", key: "k1", requestDigest: "d2"))
        }
        // The same key in another scope is another request.
        let other = S.sample(3, at: clock.now)
        #expect(try await S.insert(other, into: db, idempotency: IdempotencyKey(scope: "other", key: "k1", requestDigest: "d2"))
            == .created(other.submitted()))
        #expect(try await db.countsByStatus() == [.pending: 2])
        #expect(try await db.approval(retry.id) == nil)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .intact(entries: 2))
    }

    @Test("a commit from a stale read is refused and writes nothing: no vote, audit entry, outbox row or break-glass record",
          arguments: Engine.all)
    func staleCommitRefused(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        var approval = S.sample(at: clock.now)
        approval.callbackURL = "https://example.com/hook"
        try await S.insert(approval, into: db)
        let first = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
        let second = try approval.deciding(DecisionCommand(.reject, by: .slackUser("U2")), at: clock.now)
        let glass = try approval.breakingGlass(by: .slackUser("U3"), reason: "outage", overLimit: false, at: clock.now)
        #expect(try await S.commit(first, to: db))
        let counts = (try await S.count("vote", on: opened.raw), try await S.count("audit_log", on: opened.raw),
                      try await S.count("outbox", on: opened.raw))
        #expect(counts == (1, 2, 1))
        #expect(try await !S.commit(second, to: db))
        #expect(try await !S.commit(glass, to: db))
        #expect(try await db.approval(approval.id) == first.after)
        #expect((try await S.count("vote", on: opened.raw), try await S.count("audit_log", on: opened.raw),
                 try await S.count("outbox", on: opened.raw)) == counts)
        #expect(try await db.breakGlassUses(unreviewedOnly: false).isEmpty)
    }

    @Test("a commit is refused when any compared column moved since the read: level, deadline, expiry or consumption",
          arguments: Engine.all)
    func staleOnEachColumn(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let approval = S.sample(at: clock.now)
        try await S.insert(approval, into: db)
        var moved = approval
        moved.escalationLevel = 2
        moved.levelStartedAt = approval.createdAt.addingTimeInterval(60)
        moved.nextDeadline = approval.expiresAt
        #expect(try await db.commit(PlannedChange(ApprovalTransition(before: approval, after: moved, effects: []))))
        // Stale on the revision alone, and stale with the revision right but another column wrong.
        #expect(try await !S.commit(try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now), to: db))
        let changes: [(inout Approval) -> Void] = [
            { $0.escalationLevel = 1 }, { $0.nextDeadline = $0.createdAt }, { $0.expiresAt = $0.expiresAt.addingTimeInterval(1) },
            { $0.levelStartedAt = $0.createdAt },
        ]
        for change in changes {
            var wrong = try #require(try await db.approval(approval.id))
            change(&wrong)
            #expect(try await !S.commit(try wrong.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now), to: db))
        }
        #expect(try await db.approval(approval.id)?.status == .pending)

        let current = try #require(try await db.approval(approval.id))
        let approved = try current.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
        #expect(try await S.commit(approved, to: db))
        let firstUse = try approved.after.verifying(approval.payload, consume: true, by: .key(named: "agent"), at: clock.now)
        let secondUse = try approved.after.verifying(approval.payload, consume: true, by: .key(named: "other"), at: clock.now)
        #expect(try await S.commit(firstUse, to: db))
        #expect(try await !S.commit(secondUse, to: db))
        #expect(try await db.auditEntries(since: nil, approvalID: approval.id).filter { $0.kind == "consumed" }.count == 1)
    }

    @Test("two votes from one read, each leaving the request pending: the second is refused on the revision alone",
          arguments: Engine.all)
    func staleOnRevision(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        var approval = S.sample(at: clock.now)
        approval.policy = S.quorum
        try await S.insert(approval, into: db)
        let lead = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
        let both = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U3")), at: clock.now)
        #expect(lead.after.status == .pending && both.after.status == .pending)
        #expect(try await S.commit(lead, to: db))
        #expect(try await !S.commit(both, to: db))
        #expect(try await db.approval(approval.id) == lead.after)
        #expect(try await S.count("vote", on: opened.raw) == 1)
    }

    @Test("one live vote per person: a second live vote by the same person is refused by the database, and nothing is written",
          arguments: Engine.all)
    func oneLiveVote(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        var approval = S.sample(at: clock.now)
        approval.policy = S.quorum
        try await S.insert(approval, into: db)
        let voted = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
        #expect(try await S.commit(voted, to: db))
        // A transition that slipped past the domain's check: U1 again, live.
        var twice = voted.after
        twice.votes.append(Vote(by: "U1", verdict: .approve, payloadSHA256: approval.payloadSHA256, at: clock.now, roles: ["lead"]))
        await #expect(throws: (any Error).self) {
            try await db.commit(PlannedChange(ApprovalTransition(before: voted.after, after: twice, effects: [])))
        }
        #expect(try await db.approval(approval.id) == voted.after)
        #expect(try await S.count("vote", on: opened.raw) == 1)
        // Withdrawn by a Modify, U1 may vote again: one live vote each, the withdrawn one kept.
        let modified = try voted.after.deciding(DecisionCommand(.modify(.object(["n": .number(5)])), by: .slackUser("U2")), at: clock.now)
        #expect(try await S.commit(modified, to: db))
        let again = try modified.after.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
        #expect(try await S.commit(again, to: db))
        #expect(try await db.approval(approval.id)?.votes.map(\.by) == ["U1", "U2", "U1"])
        #expect(try await db.approval(approval.id)?.status == .modified)
    }

    @Test("list filters by status, gate, key, requester and text (% and _ plain, ASCII case folded), newest first, paged by cursor",
          arguments: Engine.all)
    func list(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await S.addKey(7, on: opened.raw)
        func file(_ action: String, reasoning: String? = nil, gate: String, requester: String, key: Int64? = nil) async throws -> Approval {
            clock.advance(by: 1)
            let approval = ApprovalRequest(action: action, payload: .object([:]), reasoning: reasoning, gate: gate, requester: requester)
                .approval(id: .random(at: clock.now), ownerKey: key.map { "key\($0)" }, ownerKeyID: key, at: clock.now)
            try await S.insert(approval, into: db)
            return approval
        }
        let a0 = try await file("Deploy api", gate: "deploy", requester: "agent:a", key: 7)
        let a1 = try await file("Deploy web", reasoning: "Fixes 100% of it", gate: "deploy", requester: "agent:b")
        let a2 = try await file("Migrate_db", reasoning: "Quarterly", gate: "db", requester: "agent:a", key: 7)
        let a3 = try await file("Émigrer la base", gate: "db", requester: "agent:b")
        let a4 = try await file("Roll back", reasoning: "The DEPLOY broke", gate: "deploy", requester: "agent:a")
        #expect(try await S.commit(try a1.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now), to: db))
        #expect(try await S.commit(try a2.deciding(DecisionCommand(.reject, by: .slackUser("U1")), at: clock.now), to: db))

        func ids(_ filter: ApprovalFilter) async throws -> [ApprovalID] {
            try await db.list(filter, limit: 100, before: nil).approvals.map(\.id)
        }
        #expect(try await ids(ApprovalFilter()) == [a4, a3, a2, a1, a0].map(\.id))
        #expect(try await ids(ApprovalFilter(status: .pending)) == [a4, a3, a0].map(\.id))
        #expect(try await ids(ApprovalFilter(gate: "deploy")) == [a4, a1, a0].map(\.id))
        #expect(try await ids(ApprovalFilter(status: .pending, gate: "deploy")) == [a4, a0].map(\.id))
        #expect(try await ids(ApprovalFilter(ownerKeyID: 7)) == [a2, a0].map(\.id))
        #expect(try await ids(ApprovalFilter(requester: "agent:b")) == [a3, a1].map(\.id))
        #expect(try await ids(ApprovalFilter(requester: "agent")) == [])
        #expect(try await ids(ApprovalFilter(text: "deploy")) == [a4, a1, a0].map(\.id))
        #expect(try await ids(ApprovalFilter(text: "DePlOy WeB")) == [a1.id])
        #expect(try await ids(ApprovalFilter(text: "%")) == [a1.id])
        #expect(try await ids(ApprovalFilter(text: "_")) == [a2.id])
        #expect(try await ids(ApprovalFilter(text: "deploy_api")) == [], "a LIKE pattern would match `Deploy api`")
        #expect(try await ids(ApprovalFilter(text: "ÉMIGRER")) == [a3.id])
        #expect(try await ids(ApprovalFilter(text: "émigrer")) == [], "only ASCII letters are folded, as SQLite's lower()")
        #expect(try await ids(ApprovalFilter(gate: "db", text: "quarter")) == [a2.id])

        // Pages of two, by cursor: every approval once, newest first, the last page without a cursor.
        var seen: [ApprovalID] = []
        var cursor: Int64?
        var pages = 0
        repeat {
            let page = try await db.list(ApprovalFilter(), limit: 2, before: cursor)
            seen += page.approvals.map(\.id)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == [a4, a3, a2, a1, a0].map(\.id))
        #expect(pages == 3)
        let exact = try await db.list(ApprovalFilter(gate: "db"), limit: 2, before: nil)
        #expect(exact.approvals.map(\.id) == [a3.id, a2.id])
        #expect(exact.next == nil, "a page that holds the rest has no next page")
        let filtered = try await db.list(ApprovalFilter(gate: "deploy"), limit: 1, before: nil)
        #expect(filtered.approvals.map(\.id) == [a4.id])
        let next = try await db.list(ApprovalFilter(gate: "deploy"), limit: 1, before: filtered.next)
        #expect(next.approvals.map(\.id) == [a1.id])
        #expect(try await db.list(ApprovalFilter(), limit: 0, before: nil) == ApprovalPage(approvals: [], next: nil))
        #expect(try await db.list(ApprovalFilter(), limit: 10, before: 1).approvals.isEmpty)

        #expect(try await db.countsByStatus() == [.pending: 3, .approved: 1, .rejected: 1])
        #expect(try await db.pendingByGate() == [
            "deploy": PendingSummary(count: 2, oldest: a0.createdAt), "db": PendingSummary(count: 1, oldest: a3.createdAt),
        ])
    }

    @Test("pendingDue gives the pending approvals due by then, earliest deadline first, then in filing order; nextDeadline the earliest",
          arguments: Engine.all)
    func due(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let start = clock.now
        #expect(try await db.nextDeadline() == nil)
        let y = S.sample(1, at: start, expiresIn: 3_600)
        let x = S.sample(2, at: start, expiresIn: 1_800)
        let z = S.sample(3, at: start, expiresIn: 1_800)
        let decided = S.sample(4, at: start, expiresIn: 600)
        for approval in [y, x, z, decided] { try await S.insert(approval, into: db) }
        #expect(try await db.nextDeadline() == start.addingTimeInterval(600))
        #expect(try await S.commit(try decided.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: start), to: db))

        #expect(try await db.nextDeadline() == start.addingTimeInterval(1_800))
        #expect(try await db.pendingDue(asOf: start.addingTimeInterval(1_799.999), limit: 10).isEmpty)
        #expect(try await db.pendingDue(asOf: start.addingTimeInterval(1_800), limit: 10) == [x, z])
        #expect(try await db.pendingDue(asOf: start.addingTimeInterval(3_600), limit: 10).map(\.id) == [x.id, z.id, y.id])
        #expect(try await db.pendingDue(asOf: start.addingTimeInterval(3_600), limit: 1).map(\.id) == [x.id])
        #expect(try await db.pendingDue(asOf: start.addingTimeInterval(3_600), limit: 0).isEmpty)
        #expect(try await db.pendingDue(asOf: start.addingTimeInterval(3_600), limit: -1).count == 3, "a negative limit is none")

        // Moved on to a later deadline, it is no longer due.
        var later = x
        later.nextDeadline = start.addingTimeInterval(5_000)
        #expect(try await db.commit(PlannedChange(ApprovalTransition(before: x, after: later, effects: []))))
        #expect(try await db.pendingDue(asOf: start.addingTimeInterval(3_600), limit: 10).map(\.id) == [z.id, y.id])
        for approval in [z, y] {
            #expect(try await S.commit(try approval.deciding(DecisionCommand(.reject, by: .slackUser("U1")), at: start), to: db))
        }
        #expect(try await db.nextDeadline() == start.addingTimeInterval(5_000))
    }

    @Test("function calls are found by call_id per key, the newest of any key, and pending ones oldest first", arguments: Engine.all)
    func functionCalls(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let a = S.sample(1, at: clock.now)
        let b = S.sample(2, at: clock.now)
        let c = S.sample(3, at: clock.now)
        try await S.insert(a, into: db, idempotency: IdempotencyKey(scope: FunctionCallScope.of(keyID: 7), key: "call-1", requestDigest: "d"))
        try await S.insert(b, into: db, idempotency: IdempotencyKey(scope: FunctionCallScope.of(keyID: 8), key: "call-1", requestDigest: "d"))
        try await S.insert(c, into: db, idempotency: IdempotencyKey(scope: "7", key: "call-2", requestDigest: "d"))

        #expect(try await db.functionCall("call-1", ownerKeyID: 7) == a.id)
        #expect(try await db.functionCall("call-1", ownerKeyID: 8) == b.id)
        #expect(try await db.functionCall("call-1", ownerKeyID: nil) == b.id)
        #expect(try await db.functionCall("call-2", ownerKeyID: nil) == nil, "an Idempotency-Key is not a call_id")
        #expect(try await db.functionCall("call-9", ownerKeyID: 7) == nil)
        #expect(try await db.functionCallID(of: a.id) == "call-1")
        #expect(try await db.functionCallID(of: c.id) == nil)

        func pending(_ key: Int64?, limit: Int = 10) async throws -> [String] {
            try await db.pendingFunctionCalls(ownerKeyID: key, limit: limit).map { "\($0.callID) \($0.approval.id)" }
        }
        #expect(try await pending(nil) == ["call-1 \(a.id)", "call-1 \(b.id)"])
        #expect(try await pending(7) == ["call-1 \(a.id)"])
        #expect(try await pending(nil, limit: 1) == ["call-1 \(a.id)"])
        #expect(try await db.pendingFunctionCalls(ownerKeyID: 8, limit: 10).first?.approval == b)
        #expect(try await S.commit(try a.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now), to: db))
        #expect(try await pending(nil) == ["call-1 \(b.id)"])
        #expect(try await pending(7) == [])
    }
}
