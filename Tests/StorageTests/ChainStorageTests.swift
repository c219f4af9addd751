import ApprovalCore
import Foundation
import GRDB
import DomainTestSupport
import Testing

@testable import Storage

/// Escalation chains and admins as stored: the `chain` and `admin` tables, each request's chain snapshot and
/// deadlines, and the v3 migration of a database that predates them.
@Suite("Chain storage")
struct ChainStorageTests {
    typealias Level = EscalationChain.Level

    static let admin = "U0ADMIN"

    /// `deploy-prod: <@U1> 30m → <!subteam^S1> 1h → then reject`.
    static let deploy = EscalationChain(
        name: "deploy-prod",
        levels: [Level(approvers: [.user("U1")], sla: 1_800), Level(approvers: [.group("S1")], sla: 3_600)]
    )
    /// `deploy-prod` edited: level 1 lasts 2 h, and it holds.
    static let deployLonger = EscalationChain(
        name: "deploy-prod",
        levels: [Level(approvers: [.user("U1")], sla: 7_200), Level(approvers: [.group("S1")], sla: 3_600)],
        finalAction: .hold
    )
    static let migrations = EscalationChain(
        name: "db-migrations", levels: [Level(approvers: [.user("U2")], sla: 600)], finalAction: .approve
    )
    static let migrationsEdited = EscalationChain(
        name: "db-migrations", levels: [Level(approvers: [.user("U2"), .user("U4")], sla: 600)], finalAction: .approve
    )
    static let infra = EscalationChain(name: "infra", levels: [Level(approvers: [.user("W3")], sla: 60)], finalAction: .hold)
    static let newGate = EscalationChain(name: "newgate", levels: [Level(approvers: [.group("S9")], sla: 90)])
    /// Level 1 names nobody.
    static let invalid = EscalationChain(name: "broken", levels: [Level(approvers: [], sla: 60)])

    /// A chain as the audit log should hold it, built field by field.
    static func json(_ chain: EscalationChain) -> JSONValue {
        .object([
            "name": .string(chain.name), "final_action": .string(chain.finalAction.rawValue),
            "levels": .array(
                chain.levels.map { level in
                    .object([
                        "approvers": .array(
                            level.approvers.map { approver in
                                switch approver {
                                case .user(let id): .object(["user": .string(id)])
                                case .group(let id): .object(["group": .string(id)])
                                }
                            }),
                        "sla": .number(level.sla),
                    ])
                }),
        ])
    }

    struct NotCreated: Error {}

    /// Files a request under `gate` through the snapshotting insert path, as `ApprovalService.submit` does.
    @discardableResult
    static func file(
        _ db: GatehouseDatabase, gate: String, clock: TestClock, expiresIn: Int? = nil
    ) async throws -> Approval {
        let result = try await db.insert(idempotency: nil) { snapshot in
            ApprovalRequest(
                action: "Deploy api", payload: .object(["service": .string("api")]), gate: gate, requester: "agent:test",
                expiresIn: expiresIn
            ).approval(id: .random(), ownerKey: nil, at: clock.now, chain: snapshot.chain(named: gate)).submitted().planned()
        }
        guard case .created(let transition) = result else { throw NotCreated() }
        return transition.after
    }

    static func configChanges(_ db: GatehouseDatabase) async throws -> [AuditEntry] {
        try await db.auditEntries().filter { $0.kind == "config_changed" }
    }

    // MARK: Chains

    @Test("setChain stores the chain, reads back by name and in the list, and returns the one it replaced")
    func setChainRoundTrip() async throws {
        try await withDatabases { (db, _) async throws in
            #expect(try await db.chain(named: "deploy-prod") == nil)
            #expect(try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before == nil)
            #expect(try await db.chain(named: "deploy-prod") == Self.deploy)
            #expect(try await db.configuration.setChain(Self.migrations, by: .slackUser(Self.admin)).before == nil)
            #expect(try await db.chains() == [Self.migrations, Self.deploy])
            #expect(try await db.configuration.setChain(Self.deployLonger, by: .slackUser("U0OTHER")).before == Self.deploy)
            #expect(try await db.chain(named: "deploy-prod") == Self.deployLonger)
            #expect(try await db.chains() == [Self.migrations, Self.deployLonger])
        }
    }

    @Test("setChain audits config_changed with the actor and the chain before and after, as JSON")
    func setChainAudited() async throws {
        try await withDatabases { (db, clock) async throws in
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            clock.advance(by: 5)
            try await db.configuration.setChain(Self.deployLonger, by: .slackUser("U0OTHER")).before
            let entries = try await db.auditEntries()
            #expect(entries.map(\.kind) == ["config_changed", "config_changed"])
            #expect(entries.map(\.actor) == [Self.admin, "U0OTHER"])
            #expect(entries.allSatisfy { $0.approvalID == nil })
            #expect(
                entries[0].details
                    == .object([
                        "what": .string("chain"), "name": .string("deploy-prod"), "change": .string("added"),
                        "before": .null, "after": Self.json(Self.deploy),
                    ]))
            #expect(
                entries[1].details
                    == .object([
                        "what": .string("chain"), "name": .string("deploy-prod"), "change": .string("changed"),
                        "before": Self.json(Self.deploy), "after": Self.json(Self.deployLonger),
                    ]))
            #expect(try await db.verifyAuditLog() == .intact(entries: 2))
        }
    }

    @Test("chains are stored as compact JSON with sorted keys; the approval's snapshot is the same text")
    func storedText() async throws {
        try await withDatabases { (db, clock) async throws in
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            let approval = try await Self.file(db, gate: "deploy-prod", clock: clock)
            let plain = try await Self.file(db, gate: "no-chain", clock: clock)
            let expected =
                #"{"final_action":"reject","levels":[{"approvers":[{"user":"U1"}],"sla":1800},"#
                + #"{"approvers":[{"group":"S1"}],"sla":3600}],"name":"deploy-prod"}"#
            let (definition, snapshot, none) = try await db.writer.read { db in
                (
                    try String.fetchOne(db, sql: "SELECT definition FROM chain WHERE name = 'deploy-prod'"),
                    try String.fetchOne(db, sql: "SELECT chain FROM approval WHERE id = ?", arguments: [approval.id.rawValue]),
                    try Bool.fetchOne(db, sql: "SELECT chain IS NULL FROM approval WHERE id = ?", arguments: [plain.id.rawValue])
                )
            }
            #expect(definition == expected)
            #expect(snapshot == expected)
            #expect(none == true, "the default chain is stored as NULL")
        }
    }

    @Test("a stored chain that cannot be decoded is reported as corrupt")
    func corruptChain() async throws {
        let db = try GatehouseDatabase.inMemory(clock: TestClock())
        try await db.writer.write { db in
            try db.execute(
                sql: "INSERT INTO chain (name, definition, updated_at, updated_by) VALUES ('x', '{\"name\":\"x\"}', 0, 'U0')")
        }
        await #expect(throws: StorageError.self) { try await db.chain(named: "x") }
        await #expect(throws: StorageError.self) { try await db.chains() }
    }

    @Test("an invalid chain is refused with its error and writes nothing")
    func invalidChainRefused() async throws {
        try await withDatabases { (db, _) async throws in
            await #expect(throws: ChainError.noApprovers(level: 1)) { try await db.configuration.setChain(Self.invalid, by: .slackUser(Self.admin)).before }
            let badName = EscalationChain(name: "Deploy Prod", levels: [Level(approvers: [.user("U1")], sla: 60)])
            await #expect(throws: ChainError.invalidName("Deploy Prod")) { try await db.configuration.setChain(badName, by: .slackUser(Self.admin)).before }
            #expect(try await db.chains().isEmpty)
            #expect(try await db.auditEntries().isEmpty)
        }
    }

    @Test("applyChains with one invalid chain among valid ones writes none of them")
    func applyAllOrNothing() async throws {
        try await withDatabases { (db, _) async throws in
            try await db.configuration.setChain(Self.infra, by: .slackUser(Self.admin)).before
            let auditBefore = try await db.auditEntries().count
            await #expect(throws: ChainError.noApprovers(level: 1)) {
                try await db.configuration.applyChains([Self.deploy, Self.invalid, Self.migrations], pruning: true, by: .slackUser(Self.admin))
            }
            #expect(try await db.chains() == [Self.infra])
            #expect(try await db.auditEntries().count == auditBefore)
        }
    }

    @Test("applyChains refuses a name given twice and writes nothing")
    func applyDuplicateNames() async throws {
        try await withDatabases { (db, _) async throws in
            await #expect(throws: ChainApplyError.duplicateName("deploy-prod")) {
                try await db.configuration.applyChains([Self.deploy, Self.migrations, Self.deployLonger], pruning: false, by: .slackUser(Self.admin))
            }
            #expect(try await db.chains().isEmpty)
            #expect(try await db.auditEntries().isEmpty)
        }
    }

    @Test("applyChains with pruning deletes the chains not listed, audited; each change is reported")
    func applyPruning() async throws {
        try await withDatabases { (db, _) async throws in
            let first = try await db.configuration.applyChains([Self.deploy, Self.migrations, Self.infra], pruning: false, by: .slackUser(Self.admin))
            #expect(first.map(\.kind) == [.added, .added, .added])
            let changes = try await db.configuration.applyChains([Self.deploy, Self.migrationsEdited, Self.newGate], pruning: true, by: .slackUser("U0OTHER"))
            #expect(
                changes == [
                    ChainChange(name: "deploy-prod", kind: .unchanged, before: Self.deploy, after: Self.deploy),
                    ChainChange(name: "db-migrations", kind: .changed, before: Self.migrations, after: Self.migrationsEdited),
                    ChainChange(name: "newgate", kind: .added, before: nil, after: Self.newGate),
                    ChainChange(name: "infra", kind: .deleted, before: Self.infra, after: nil),
                ])
            #expect(try await db.chains() == [Self.migrationsEdited, Self.deploy, Self.newGate])
            let audit = try await Self.configChanges(db).dropFirst(3)
            #expect(audit.map { $0.details["change"] } == [.string("changed"), .string("added"), .string("deleted")])
            #expect(audit.map { $0.details["name"] } == [.string("db-migrations"), .string("newgate"), .string("infra")])
            #expect(audit.allSatisfy { $0.actor == "U0OTHER" })
            #expect(audit.last?.details["before"] == Self.json(Self.infra))
            #expect(audit.last?.details["after"] == .null)
        }
    }

    @Test("applyChains without pruning keeps the chains not listed")
    func applyWithoutPruning() async throws {
        try await withDatabases { (db, _) async throws in
            _ = try await db.configuration.applyChains([Self.deploy, Self.infra], pruning: false, by: .slackUser(Self.admin))
            let changes = try await db.configuration.applyChains([Self.migrations], pruning: false, by: .slackUser(Self.admin))
            #expect(changes == [ChainChange(name: "db-migrations", kind: .added, before: nil, after: Self.migrations)])
            #expect(try await db.chains() == [Self.migrations, Self.deploy, Self.infra])
            #expect(try await Self.configChanges(db).count == 3)
        }
    }

    @Test("unchanged chains are reported as unchanged and neither written nor audited")
    func unchangedNotAudited() async throws {
        try await withDatabases { (db, clock) async throws in
            _ = try await db.configuration.applyChains([Self.deploy, Self.infra], pruning: true, by: .slackUser(Self.admin))
            clock.advance(by: 60)
            let again = try await db.configuration.applyChains([Self.deploy, Self.infra], pruning: true, by: .slackUser("U0OTHER"))
            #expect(again.map(\.kind) == [.unchanged, .unchanged])
            #expect(try await db.configuration.setChain(Self.deploy, by: .slackUser("U0OTHER")).before == Self.deploy)
            #expect(try await db.auditEntries().count == 2)
            let updatedBy = try await db.writer.read { try String.fetchAll($0, sql: "SELECT DISTINCT updated_by FROM chain") }
            #expect(updatedBy == [Self.admin])
        }
    }

    @Test("deleteChain returns the chain and the pending requests with its snapshot, which keep it")
    func deleteChain() async throws {
        try await withDatabases { (db, clock) async throws in
            let beforeChain = try await Self.file(db, gate: "deploy-prod", clock: clock)
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            let a = try await Self.file(db, gate: "deploy-prod", clock: clock)
            let b = try await Self.file(db, gate: "deploy-prod", clock: clock)
            let decided = try await Self.file(db, gate: "deploy-prod", clock: clock)
            #expect(try await db.commit(try decided.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)))
            try await Self.file(db, gate: "other", clock: clock)
            #expect(try await db.pendingCount(gate: "deploy-prod") == 2)
            let auditBefore = try await db.auditEntries().count

            let result = try await db.configuration.deleteChain(named: "deploy-prod", by: .slackUser("U0OTHER"))
            #expect(result.deleted == Self.deploy)
            #expect(result.pending == 2)
            #expect(try await db.chain(named: "deploy-prod") == nil)
            #expect(try await db.chains().isEmpty)
            #expect(try await db.approval(a.id)?.chain == Self.deploy)
            #expect(try await db.approval(b.id)?.chain == Self.deploy)
            #expect(try await db.approval(beforeChain.id)?.chain == .default)

            let entries = try await db.auditEntries()
            #expect(entries.count == auditBefore + 1)
            let last = try #require(entries.last)
            #expect(last.kind == "config_changed")
            #expect(last.actor == "U0OTHER")
            #expect(
                last.details
                    == .object([
                        "what": .string("chain"), "name": .string("deploy-prod"), "change": .string("deleted"),
                        "before": Self.json(Self.deploy), "after": .null,
                    ]))

            // Deleting it again finds nothing and audits nothing.
            let again = try await db.configuration.deleteChain(named: "deploy-prod", by: .slackUser("U0OTHER"))
            #expect(again.deleted == nil)
            #expect(again.pending == 2)
            #expect(try await db.auditEntries().count == auditBefore + 1)
        }
    }

    // MARK: Snapshots at insert

    @Test("an approval filed after setChain carries the gate's chain; one filed under another gate the default")
    func insertSnapshotsChain() async throws {
        try await withDatabases { (db, clock) async throws in
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            let approval = try await Self.file(db, gate: "deploy-prod", clock: clock)
            #expect(approval.chain == Self.deploy)
            #expect(approval.nextDeadline == clock.now.addingTimeInterval(1_800))
            #expect(approval.expiresAt == clock.now.addingTimeInterval(86_400))
            #expect(try await db.approval(approval.id) == approval)
            let other = try await Self.file(db, gate: "other", clock: clock)
            #expect(other.chain == .default)
            #expect(try await db.approval(other.id)?.chain == .default)
        }
    }

    @Test("an approval filed after the chain changed carries the new chain, though the old one was cached")
    func insertAfterChainChange() async throws {
        try await withDatabases { (db, clock) async throws in
            let unchained = try await Self.file(db, gate: "deploy-prod", clock: clock)
            #expect(unchained.chain == .default)
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            let first = try await Self.file(db, gate: "deploy-prod", clock: clock)
            #expect(first.chain == Self.deploy)
            #expect(db.chainSnapshots.guess("deploy-prod").chain == Self.deploy, "the database cached the old chain")

            try await db.configuration.setChain(Self.deployLonger, by: .slackUser(Self.admin)).before
            let second = try await Self.file(db, gate: "deploy-prod", clock: clock)
            #expect(second.chain == Self.deployLonger)
            #expect(second.nextDeadline == clock.now.addingTimeInterval(7_200))
            #expect(try await db.approval(second.id) == second)
            // The earlier requests keep the chain they were filed under.
            #expect(try await db.approval(first.id)?.chain == Self.deploy)
            #expect(try await db.approval(unchained.id)?.chain == .default)

            // Deleted: new requests fall back to the default chain.
            _ = try await db.configuration.deleteChain(named: "deploy-prod", by: .slackUser(Self.admin))
            let third = try await Self.file(db, gate: "deploy-prod", clock: clock)
            #expect(third.chain == .default)
            #expect(third.nextDeadline == third.expiresAt)
        }
    }

    @Test("a chain named default is used by every gate without a chain of its own; deleted, the built-in rule is back")
    func storedDefaultChain() async throws {
        try await withDatabases { (db, clock) async throws in
            var house = Self.deploy
            house.name = "default"
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            let before = try await Self.file(db, gate: "staging", clock: clock)
            #expect(before.chain == .default)
            try await db.configuration.setChain(house, by: .slackUser(Self.admin)).before
            #expect(try await Self.file(db, gate: "staging", clock: clock).chain == house)
            #expect(try await Self.file(db, gate: "default", clock: clock).chain == house)
            // A gate's own chain still wins.
            #expect(try await Self.file(db, gate: "deploy-prod", clock: clock).chain == Self.deploy)
            #expect(try await db.configuration.deleteChain(named: "default", by: .slackUser(Self.admin)).pending == 2)
            #expect(try await Self.file(db, gate: "staging", clock: clock).chain == .default)
            #expect(try await db.approval(before.id)?.chain == .default)
        }
    }

    // MARK: Deadlines

    @Test("pendingDue and nextDeadline use the level's deadline when it comes before expiry")
    func dueAtLevelDeadline() async throws {
        try await withDatabases { (db, clock) async throws in
            let start = clock.now
            // Y: the default chain, expiring in an hour; X: due at level 1's SLA (30 m), expiring in a day.
            let y = try await Self.file(db, gate: "plain", clock: clock, expiresIn: 3_600)
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            let x = try await Self.file(db, gate: "deploy-prod", clock: clock)
            #expect(x.expiresAt == start.addingTimeInterval(86_400))

            #expect(try await db.nextDeadline() == start.addingTimeInterval(1_800))
            #expect(try await db.pendingDue(asOf: start.addingTimeInterval(1_799.999), limit: 10).isEmpty)
            #expect(try await db.pendingDue(asOf: start.addingTimeInterval(1_800), limit: 10) == [x])
            #expect(try await db.pendingDue(asOf: start.addingTimeInterval(3_600), limit: 10).map(\.id) == [x.id, y.id])
            #expect(try await db.pendingDue(asOf: start.addingTimeInterval(3_600), limit: 1).map(\.id) == [x.id])
        }
    }

    @Test("a committed escalation persists escalation_level, level_started_at and next_deadline")
    func escalationPersisted() async throws {
        try await withDatabases { (db, clock) async throws in
            let start = clock.now
            let plain = try await Self.file(db, gate: "plain", clock: clock, expiresIn: 3_600)
            try await db.configuration.setChain(Self.deploy, by: .slackUser(Self.admin)).before
            let approval = try await Self.file(db, gate: "deploy-prod", clock: clock)
            let late = start.addingTimeInterval(2_700)
            let step = try #require(approval.advancing(at: late))
            #expect(try await db.commit(step))

            let stored = try #require(try await db.approval(approval.id))
            #expect(stored == step.after)
            #expect(stored.escalationLevel == 2)
            #expect(stored.levelStartedAt == start.addingTimeInterval(1_800))
            #expect(stored.nextDeadline == start.addingTimeInterval(5_400))
            let row = try await db.writer.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT escalation_level, level_started_at, next_deadline FROM approval WHERE id = ?",
                    arguments: [approval.id.rawValue])
            }
            #expect(row?["escalation_level"] as Int? == 2)
            #expect(row?["level_started_at"] as Int64? == start.addingTimeInterval(1_800).millisecondsSince1970)
            #expect(row?["next_deadline"] as Int64? == start.addingTimeInterval(5_400).millisecondsSince1970)

            // No longer due; the earliest deadline is now the plain request's expiry.
            #expect(try await db.pendingDue(asOf: late, limit: 10).isEmpty)
            #expect(try await db.nextDeadline() == plain.expiresAt)
            let audit = try #require(try await db.auditEntries(approvalID: approval.id).last)
            #expect(audit.kind == "escalated")
            #expect(audit.actor == "system:escalation")
            // The same step again is stale.
            #expect(try await !db.commit(step))
        }
    }

    // MARK: Admins

    @Test("addAdmins returns only the new admins and audits the list before and after; a repeat writes nothing")
    func addAdmins() async throws {
        try await withDatabases { (db, clock) async throws in
            #expect(try await db.addAdmins(["U1", "U2"], by: Self.admin) == ["U1", "U2"])
            clock.advance(by: 1)
            #expect(try await db.addAdmins(["U2", "U3"], by: "U1") == ["U3"])
            #expect(try await db.addAdmins(["U1", "U3"], by: "U1") == [])
            #expect(try await db.storedAdmins() == ["U1", "U2", "U3"])
            let entries = try await db.auditEntries()
            #expect(entries.map(\.kind) == ["config_changed", "config_changed"])
            #expect(entries.map(\.actor) == [Self.admin, "U1"])
            #expect(
                entries[0].details
                    == .object(["what": .string("admins"), "before": .array([]), "after": .array([.string("U1"), .string("U2")])]))
            #expect(
                entries[1].details
                    == .object([
                        "what": .string("admins"), "before": .array([.string("U1"), .string("U2")]),
                        "after": .array([.string("U1"), .string("U2"), .string("U3")]),
                    ]))
        }
    }

    @Test("removeAdmins returns only the stored admins removed and audits the list; a repeat writes nothing")
    func removeAdmins() async throws {
        try await withDatabases { (db, _) async throws in
            try await db.addAdmins(["U1", "U2", "U3"], by: Self.admin)
            #expect(try await db.removeAdmins(["U2", "U9"], by: "U1") == ["U2"])
            #expect(try await db.removeAdmins(["U2", "U9"], by: "U1") == [])
            #expect(try await db.storedAdmins() == ["U1", "U3"])
            let entries = try await db.auditEntries()
            #expect(entries.count == 2)
            #expect(entries.last?.actor == "U1")
            #expect(
                entries.last?.details
                    == .object([
                        "what": .string("admins"), "before": .array([.string("U1"), .string("U2"), .string("U3")]),
                        "after": .array([.string("U1"), .string("U3")]),
                    ]))
        }
    }

    @Test("storedAdmins lists admins in the order they were added, by ID among those added together")
    func adminOrder() async throws {
        try await withDatabases { (db, clock) async throws in
            try await db.addAdmins(["U9"], by: Self.admin)
            clock.advance(by: 1)
            try await db.addAdmins(["U5", "U1"], by: Self.admin)
            clock.advance(by: 1)
            try await db.addAdmins(["U3"], by: Self.admin)
            #expect(try await db.storedAdmins() == ["U9", "U1", "U5", "U3"])
        }
    }

    // MARK: Migration

    @Test("a v2 database migrates to v3: pending approvals get the default chain and their expiry as next deadline")
    func migrationFromV2() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("v2.sqlite")
        let clock = TestClock()
        let created = clock.now
        let expires = created.addingTimeInterval(3_600)
        let payload: JSONValue = .object(["service": .string("api")])
        let id = ApprovalID(rawValue: "apr_fromv2000000000000000000")
        do {
            let queue = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(queue, upTo: "v2-slack-messages")
            try queue.inDatabase { db in
                #expect(try Migrations.migrator.appliedMigrations(db) == ["v1-approvals-audit-outbox-keys", "v2-slack-messages"])
                try db.execute(
                    sql: """
                        INSERT INTO approval (id, status, action, payload, payload_sha256, risk, gate, requester, created_at,
                            expires_at, escalation_level)
                        VALUES (?, 'pending', 'Deploy api', ?, ?, 'high', 'deploy-prod', 'agent:old', ?, ?, 1)
                        """,
                    arguments: [id.rawValue, CanonicalJSON.serialize(payload), CanonicalJSON.sha256(of: payload),
                                created.millisecondsSince1970, expires.millisecondsSince1970])
            }
            try queue.close()
        }

        let db = try GatehouseDatabase(path: path, clock: clock)
        defer { try? db.close() }
        #expect(try db.appliedMigrations().contains("v3-escalation-chains-admins"))
        let approval = try #require(try await db.approval(id))
        #expect(approval.status == .pending)
        #expect(approval.chain == .default)
        #expect(approval.escalationLevel == 1)
        #expect(approval.createdAt == created)
        #expect(approval.expiresAt == expires)
        #expect(approval.levelStartedAt == approval.createdAt)
        #expect(approval.nextDeadline == approval.expiresAt)
        #expect(approval.payload == payload)
        #expect(try await db.nextDeadline() == expires)
        #expect(try await db.pendingDue(asOf: expires.addingTimeInterval(-0.001), limit: 10).isEmpty)
        #expect(try await db.pendingDue(asOf: expires, limit: 10) == [approval])

        let (tables, indexes, slackColumns, plan, nextPlan) = try await db.writer.read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"),
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'"),
                try Row.fetchAll(db, sql: "PRAGMA table_info(slack_message)").map { $0["name"] as String },
                // The scheduler's own SQL, as `pendingDue` and `nextDeadline` run it.
                try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN " + GatehouseDatabase.dueSQL, arguments: [expires.millisecondsSince1970, 500]
                ).map { $0["detail"] as String },
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + GatehouseDatabase.nextDeadlineSQL).map { $0["detail"] as String }
            )
        }
        #expect(tables.contains("chain"))
        #expect(tables.contains("admin"))
        #expect(slackColumns.contains("outbox_item"))
        #expect(indexes.contains("approval_pending_next_deadline"))
        #expect(!indexes.contains("approval_pending_deadline"))
        #expect(plan.contains { $0.contains("approval_pending_next_deadline") }, "plan: \(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "the index gives the order: \(plan)")
        #expect(nextPlan.contains { $0.contains("approval_pending_next_deadline") }, "plan: \(nextPlan)")

        // The migrated request escalates and expires like a new one.
        let step = try #require(approval.advancing(at: expires))
        #expect(try await db.commit(step))
        #expect(try await db.approval(id)?.status == .expired)
    }

    @Test("a v4 database migrates to v6: thread replies stay out of updates, DMs and the channel message follow the state, what they show is unknown")
    func migrationFromV4() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("v4.sqlite")
        let clock = TestClock()
        let approval = StorageTests.sampleApproval(at: clock.now)
        do {
            let db = try GatehouseDatabase(path: path, clock: clock)
            _ = try await db.insert(approval.submitted(), idempotency: nil)
            try db.close()
            // Back to a v4 schema: the v5 columns dropped, as a database written before them has none.
            let queue = try DatabaseQueue(path: path)
            try queue.inDatabase { db in
                try db.execute(sql: "ALTER TABLE slack_message DROP COLUMN header")
                try db.execute(sql: "ALTER TABLE slack_message DROP COLUMN follows_state")
                try db.execute(sql: "ALTER TABLE slack_message DROP COLUMN shown_sha256")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier IN ('v5-dm-headers-and-reminders', 'v6-slack-message-digests')")
                for (kind, ts) in [("channel", "1.1"), ("thread", "1.2"), ("dm", "1.3")] {
                    try db.execute(
                        sql: "INSERT INTO slack_message (approval_id, kind, channel, ts, posted_at) VALUES (?, ?, 'C1', ?, 0)",
                        arguments: [approval.id.rawValue, kind, ts])
                }
            }
            try queue.close()
        }
        let db = try GatehouseDatabase(path: path, clock: clock)
        defer { try? db.close() }
        #expect(try db.appliedMigrations().suffix(8) == ["v6-slack-message-digests", "v7-key-identity", "v8-slack-signatures", "v9-storage-probe", "v10-policies-quorum-break-glass", "v11-web-sessions", "v12-key-last-used", "v13-contact-requests"])
        let messages = try await db.slackMessages(for: approval.id)
        #expect(messages.map(\.kind) == [.channel, .thread, .dm])
        #expect(messages.map(\.followsState) == [true, false, true])
        #expect(messages.allSatisfy { $0.header == nil })
        // What they show is unknown, so the next update sends them all.
        #expect(messages.allSatisfy { $0.shownSHA256 == nil })
    }

    @Test("a v3 audit log migrates to v4 entry for entry: the chain still verifies and grows, the triggers still refuse, the hash index is gone")
    func auditLogMigrationToV4() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("v3.sqlite")
        let clock = TestClock()
        let before: [Row]
        do {
            let queue = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(queue, upTo: "v3-escalation-chains-admins")
            before = try await queue.write { db in
                for n in 0..<5 {
                    try AuditLog.append(
                        AuditEvent(.keyCreated, actor: "cli:test", details: ["name": .string("key-\(n)")]),
                        at: clock.now.addingTimeInterval(Double(n)), in: db)
                }
                return try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq")
            }
            try queue.close()
        }

        let db = try GatehouseDatabase(path: path, clock: clock)
        defer { try? db.close() }
        #expect(try db.appliedMigrations().contains("v4-audit-log-without-hash-index"))
        let (after, uniqueIndexes, indexes) = try await db.writer.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq"),
                try Row.fetchAll(db, sql: "PRAGMA index_list(audit_log)").filter { $0["unique"] as Int == 1 }.count,
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log'")
            )
        }
        #expect(after == before)
        #expect(uniqueIndexes == 0)
        #expect(Set(indexes) == ["audit_by_approval", "audit_by_time"])
        #expect(try await db.verifyAuditLog() == .intact(entries: 5))
        await #expect(throws: DatabaseError.self) {
            try await db.writer.write { try $0.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3") }
        }
        await #expect(throws: DatabaseError.self) {
            try await db.writer.write { try $0.execute(sql: "DELETE FROM audit_log WHERE seq = 1") }
        }
        try await db.append(AuditEvent(.keyRevoked, actor: "cli:test", details: ["name": .string("key-0")]))
        #expect(try await db.verifyAuditLog() == .intact(entries: 6))
    }
}
