import ApprovalCore
import DomainTestSupport
import Foundation
import Testing

/// Policies, the snapshot a create is built from, and break-glass records, on both engines.
@Suite("Policy and break-glass storage on both engines")
struct PolicyStorageTests {
    typealias S = ApprovalStorageSupport

    static let lead = Role(name: "lead", users: ["U1", "U2"])
    static let release = EscalationChain(
        name: "release", levels: [EscalationChain.Level(approvers: [.user("U1"), .user("U2")], sla: 600)])
    static let deploy = EscalationChain(name: "deploy-prod", levels: [EscalationChain.Level(approvers: [.user("U4")], sla: 1_200)])
    static let house = EscalationChain(name: "default", levels: [EscalationChain.Level(approvers: [.user("U5")], sla: 900)])
    /// A new action on `deploy-prod` needs two leads, pinged through the `release` chain.
    static let policies = PolicySet(
        roles: [lead],
        rules: [PolicyRule(name: "new-deploys", when: PolicyCondition(gate: "deploy-prod", newAction: true),
                           then: .require(approvals: 2, roles: [], chain: "release"))],
        breakGlass: BreakGlassPolicy(roles: ["lead"]))

    @Test("the policy set round-trips, each change audited by its actor, versioned; an unchanged or refused change writes nothing",
          arguments: Engine.all)
    func roundTrip(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        #expect(try await db.policies() == .empty)
        let changed = try await db.changePolicies(by: "U0ADMIN") { _ in Self.policies }
        #expect(changed.before == .empty && changed.after == Self.policies)
        #expect(try await db.policies() == Self.policies)
        let entries = try await db.auditEntries(since: nil, approvalID: nil)
        #expect(entries.map(\.kind) == ["config_changed"])
        #expect(entries.first?.actor == "U0ADMIN")

        let unchanged = try await db.changePolicies(by: "U0ADMIN") { $0 }
        #expect(unchanged.before == Self.policies && unchanged.after == Self.policies)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await db.changePolicies(by: "U0ADMIN") { _ in throw Refused() } }
        #expect(try await db.auditEntries(since: nil, approvalID: nil).count == 1)

        let fewer = PolicySet(roles: Self.policies.roles, rules: Self.policies.rules)
        #expect(try await db.changePolicies(by: "U0OTHER") { _ in fewer }.before == Self.policies)
        #expect(try await db.policies() == fewer)
        let stored = try await S.texts("SELECT definition, CAST(version AS TEXT), updated_by FROM policy_set", on: opened.raw)
        #expect(stored == [[PolicyCoding.encode(fewer), "2", "U0OTHER"]])
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .intact(entries: 2))
    }

    @Test("a create is built from the policies, chains and approvals stored when it commits: the rule's chain, the gate's, the stored default",
          arguments: Engine.all)
    func createReadsSnapshot(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await S.addKey(7, on: opened.raw)
        let service = ApprovalService(repository: db, clock: clock, policyStore: db)
        let agent = Actor.key(APIKey(id: 7, name: "key7", scope: .request), actingFor: nil)
        let request = ApprovalRequest(action: "Deploy api", payload: .object(["v": .number(1)]), gate: "deploy-prod")

        // Nothing stored: the built-in default chain, no rule.
        let bare = try await service.submit(request, by: agent).approval
        #expect(bare.chain == .default && bare.policy == nil)

        _ = try await db.changePolicies(by: "U0ADMIN") { _ in Self.policies }
        for chain in [Self.release, Self.deploy] { try await S.storeChain(chain, on: opened.raw) }
        #expect(try await db.everApproved(gate: "deploy-prod", action: "Deploy api") == false)
        // A new action: the rule applies, with its roles then, and pings through the chain it names.
        let first = try await service.submit(request, by: agent).approval
        #expect(first.policy == AppliedPolicy(name: "new-deploys", then: .require(approvals: 2, roles: [], chain: "release")))
        #expect(first.chain == Self.release)
        #expect(try await db.approval(first.id) == first)
        for voter in ["U1", "U2"] {
            let current = try #require(try await db.approval(first.id))
            #expect(try await S.commit(try current.deciding(DecisionCommand(.approve, by: .slackUser(voter)), at: clock.now), to: db))
        }
        #expect(try await db.approval(first.id)?.status == .approved)
        #expect(try await db.everApproved(gate: "deploy-prod", action: "Deploy api"))
        #expect(try await db.everApproved(gate: "other", action: "Deploy api") == false)

        // Approved before: the rule no longer applies; the gate's own chain does.
        let second = try await service.submit(request, by: agent).approval
        #expect(second.policy == nil)
        #expect(second.chain == Self.deploy)
        // A gate without a chain gets the stored default, and the built-in one again when there is none.
        var staging = request
        staging.gate = "staging"
        try await S.storeChain(Self.house, on: opened.raw)
        #expect(try await service.submit(staging, by: agent).approval.chain == Self.house)
        try await S.execute(["DELETE FROM chain WHERE name = 'default'"], on: opened.raw)
        #expect(try await service.submit(staging, by: agent).approval.chain == .default)
    }

    @Test("a stored chain that cannot be decoded fails the create as corrupt, and nothing is stored", arguments: Engine.all)
    func corruptChain(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        try await S.execute(
            [#"INSERT INTO chain (name, definition, updated_at, updated_by) VALUES ('deploy-prod', '{"levels":"many"}', 0, 'U0ADMIN')"#],
            on: opened.raw)
        let request = ApprovalRequest(action: "Deploy api", payload: .object([:]), gate: "deploy-prod")
        let now = clock.now
        await #expect(throws: StorageError.self) {
            try await db.insert(idempotency: nil) { snapshot in
                PlannedChange(
                    request.approval(id: .random(at: now), ownerKey: nil, at: now, chain: snapshot.chain(named: "deploy-prod")).submitted())
            }
        }
        #expect(try await db.countsByStatus().isEmpty)
        #expect(try await db.auditHead() == nil)
    }

    @Test("a break-glass decision records its use; reviewed once, reminded, its post kept; counted by person and time",
          arguments: Engine.all)
    func breakGlass(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let start = clock.now
        let first = S.sample(1, at: start)
        let second = S.sample(2, at: start)
        for approval in [first, second] { try await S.insert(approval, into: db) }
        let glass = try first.breakingGlass(by: .slackUser("U5", name: "eve"), reason: "outage", overLimit: true, at: start)
        #expect(try await S.commit(glass, to: db))
        clock.advance(by: 60)
        #expect(try await S.commit(
            try second.breakingGlass(by: .slackUser("U5"), reason: "again", overLimit: false, at: clock.now), to: db))

        let firstUse = BreakGlassRecord(
            approvalID: first.id, action: first.action, by: "U5", byName: "eve", at: start, reason: "outage", overLimit: true)
        let secondUse = BreakGlassRecord(
            approvalID: second.id, action: second.action, by: "U5", byName: nil, at: clock.now, reason: "again", overLimit: false)
        #expect(try await db.breakGlassUses(unreviewedOnly: false) == [secondUse, firstUse])
        #expect(try await db.breakGlassUse(first.id) == firstUse)
        #expect(try await db.breakGlassUse(ApprovalID(rawValue: "apr_unknown")) == nil)
        #expect(try await db.unreviewedBreakGlassCount() == 2)
        #expect(try await db.breakGlassCount(by: "U5", since: start) == 2)
        #expect(try await db.breakGlassCount(by: "U5", since: start.addingTimeInterval(1)) == 1)
        #expect(try await db.breakGlassCount(by: "U6", since: start) == 0)

        let review = AuditEvent(.breakGlassReviewed, approvalID: first.id, actor: "U0ADMIN")
        let note = NewOutboxItem(kind: "slack.note", approvalID: first.id, payload: .object(["x": .number(1)]))
        #expect(try await db.markBreakGlassReviewed(first.id, by: "U0ADMIN", at: clock.now, audit: review, outbox: [note]))
        #expect(try await !db.markBreakGlassReviewed(first.id, by: "U0OTHER", at: clock.now, audit: review, outbox: [note]))
        #expect(try await !db.markBreakGlassReviewed(ApprovalID(rawValue: "apr_unknown"), by: "U0ADMIN", at: clock.now, audit: review, outbox: []))
        #expect(try await db.auditEntries(since: nil, approvalID: first.id).filter { $0.kind == "break_glass_reviewed" }.count == 1)
        #expect(try await S.count("outbox WHERE kind = 'slack.note'", on: opened.raw) == 1)
        var reviewed = firstUse
        reviewed.reviewedBy = "U0ADMIN"
        reviewed.reviewedAt = clock.now
        #expect(try await db.breakGlassUse(first.id) == reviewed)
        #expect(try await db.breakGlassUses(unreviewedOnly: true) == [secondUse])
        #expect(try await db.unreviewedBreakGlassCount() == 1)

        clock.advance(by: 60)
        try await db.markBreakGlassReminded([second.id], at: clock.now, outbox: [note, note])
        try await db.markBreakGlassReminded([], at: clock.now, outbox: [note])
        #expect(try await db.breakGlassUse(second.id)?.remindedAt == clock.now)
        #expect(try await S.count("outbox WHERE kind = 'slack.note'", on: opened.raw) == 3)

        #expect(try await db.breakGlassPost(second.id) == nil)
        try await db.recordBreakGlassPost(second.id, channel: "C1", ts: "1700000000.000100")
        let post = try #require(try await db.breakGlassPost(second.id))
        #expect(post.channel == "C1" && post.ts == "1700000000.000100")
        #expect(try await db.breakGlassPost(first.id) == nil)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .intact(entries: 2 + 2 * 2 + 1))
    }
}
