import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresStorage
import PostgresTestSupport
import Testing

@Suite("Configuration store, on both engines")
struct ConfigurationStoreTests {
    typealias Level = EscalationChain.Level

    static let deploy = EscalationChain(
        name: "deploy-prod", levels: [Level(approvers: [.user("U1")], sla: 1_800), Level(approvers: [.group("S1")], sla: 3_600)])
    static let deployLonger = EscalationChain(
        name: "deploy-prod", levels: [Level(approvers: [.user("U1")], sla: 7_200)], finalAction: .hold)
    static let migrations = EscalationChain(
        name: "db-migrations", levels: [Level(approvers: [.user("U2")], sla: 600)], finalAction: .approve)
    static let upper = EscalationChain(name: "Zeta", levels: [Level(approvers: [.user("U3")], sla: 60)])

    static func apply(
        _ store: any ConfigurationStore, _ chains: [EscalationChain], pruning: Bool = false, by actor: String = "U0ADMIN"
    ) async throws -> [ChainChange] {
        try await store.changeChains(by: actor) { existing in ChainChange.plan(applying: chains, to: existing, pruning: pruning) }
    }

    struct Refused: Error {}

    @Test("chains round trip: by name, listed by name, changed, unchanged, pruned; each change audited with before and after", arguments: Engine.all)
    func chainsRoundTrip(engine: Engine) async throws {
        let opened = try await engine.open((any ConfigurationStore).self)
        defer { opened.close() }
        let store = opened.store
        #expect(try await store.chain(named: "deploy-prod") == nil)
        #expect(try await Self.apply(store, [Self.deploy, Self.migrations, Self.upper]).map(\.kind) == [.added, .added, .added])
        #expect(try await store.chain(named: "deploy-prod") == Self.deploy)
        #expect(try await store.chains() == [Self.upper, Self.migrations, Self.deploy])
        #expect(try await Self.apply(store, [Self.deployLonger, Self.migrations], by: "U9").map(\.kind) == [.changed, .unchanged])
        #expect(try await store.chain(named: "deploy-prod") == Self.deployLonger)
        let pruned = try await Self.apply(store, [Self.migrations], pruning: true)
        #expect(pruned.map(\.kind) == [.unchanged, .deleted, .deleted])
        #expect(try await store.chains() == [Self.migrations])
        await #expect(throws: Refused.self) { try await store.changeChains(by: "U0") { _ in throw Refused() } }
        #expect(try await store.chains() == [Self.migrations])

        let audit = try await StoredRows.audit(opened.raw)
        #expect(audit.map(\.kind) == Array(repeating: "config_changed", count: 6))
        #expect(audit.map(\.actor) == ["U0ADMIN", "U0ADMIN", "U0ADMIN", "U9", "U0ADMIN", "U0ADMIN"])
        #expect(audit[3].details == ChainChange(name: "deploy-prod", kind: .changed, before: Self.deploy, after: Self.deployLonger).auditEvent(by: "U9").details)
        #expect(audit[4].details["change"] == .string("deleted"))
        #expect(audit[4].details["name"] == .string("Zeta"))
        let stored = try await StoredRows.strings(opened.raw, "SELECT definition FROM chain")
        #expect(stored == [ChainCoding.encode(Self.migrations)])
    }

    @Test("pendingCount counts pending requests holding a snapshot of the chain: under its gate, or any gate for default", arguments: Engine.all)
    func pendingCount(engine: Engine) async throws {
        let opened = try await engine.open((any ConfigurationStore).self)
        defer { opened.close() }
        let snapshot = ChainCoding.encode(Self.deploy)
        let fallback = ChainCoding.encode(EscalationChain.default)
        let hash = String(repeating: "a", count: 64)
        for (index, (gate, chain, status)) in [
            ("deploy-prod", snapshot, "pending"), ("deploy-prod", snapshot, "pending"), ("other", snapshot, "pending"),
            ("deploy-prod", snapshot, "expired"), ("x", fallback, "pending"), ("y", fallback, "pending"),
        ].enumerated() {
            let decision = status == "pending" ? "NULL" : "'{\"outcome\":\"expired\"}'"
            try await StoredRows.execute(
                opened.raw,
                """
                INSERT INTO approval (id, status, action, payload, payload_sha256, risk, gate, created_at, expires_at, decision, chain)
                VALUES ('apr_\(index)', '\(status)', 'Deploy', '{}', '\(hash)', 'low', '\(gate)', 1, 2, \(decision), '\(chain)')
                """)
        }
        #expect(try await opened.store.pendingCount(gate: "deploy-prod") == 2)
        #expect(try await opened.store.pendingCount(gate: EscalationChain.default.name) == 2)
        #expect(try await opened.store.pendingCount(gate: "nothing") == 0)
    }

    @Test("admins: added and removed ones returned, stored in the order added, audited with the list before and after", arguments: Engine.all)
    func admins(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ConfigurationStore).self, clock: clock)
        defer { opened.close() }
        let store = opened.store
        #expect(try await store.addAdmins(["U9"], by: "U0ADMIN") == ["U9"])
        clock.advance(by: 1)
        #expect(try await store.addAdmins(["U5", "U1", "U9"], by: "U9") == ["U5", "U1"])
        #expect(try await store.addAdmins(["U1"], by: "U9") == [])
        #expect(try await store.storedAdmins() == ["U9", "U1", "U5"])
        #expect(try await store.removeAdmins(["U5", "U7"], by: "U1") == ["U5"])
        #expect(try await store.removeAdmins(["U5"], by: "U1") == [])
        #expect(try await store.storedAdmins() == ["U9", "U1"])
        let audit = try await StoredRows.audit(opened.raw)
        #expect(audit.map(\.actor) == ["U0ADMIN", "U9", "U1"])
        #expect(audit.map(\.details) == [
            AuditEvent.adminsChanged(before: [], after: ["U9"], by: "U0ADMIN").details,
            AuditEvent.adminsChanged(before: ["U9"], after: ["U9", "U1", "U5"], by: "U9").details,
            AuditEvent.adminsChanged(before: ["U9", "U1", "U5"], after: ["U9", "U1"], by: "U1").details,
        ])
    }

    @Test("two replicas changing one chain at once: every change is kept, each planned from the one before", .enabled(if: PostgresServer.available))
    func concurrentChanges() async throws {
        let (a, b) = try await postgresReplicas()
        let replicas = [a, b]
        defer { replicas.forEach { $0.close() } }
        let base = EscalationChain(name: "shared", levels: [Level(approvers: [.user("U0")], sla: 60)])
        _ = try await Self.apply(replicas[0], [base])
        let writers = 12
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writers {
                let replica = replicas[index % 2]
                group.addTask {
                    // Each adds its own approver to level 1 of what it reads: a plan made from a stale read loses one.
                    _ = try await replica.changeChains(by: "U\(index)") { existing in
                        var chain = existing.first { $0.name == "shared" }!
                        chain.levels[0].approvers.append(.user("W\(index)"))
                        return ChainChange.plan(applying: [chain], to: existing, pruning: false)
                    }
                    // And a chain of its own, next to the others'.
                    _ = try await Self.apply(replica, [EscalationChain(name: "own-\(index)", levels: base.levels)], by: "U\(index)")
                }
            }
            try await group.waitForAll()
        }
        let chains = try await replicas[1].chains()
        let shared = try #require(chains.first { $0.name == "shared" })
        #expect(Set(shared.levels[0].approvers) == Set([.user("U0")] + (0..<writers).map { .user("W\($0)") }))
        #expect(chains.count == writers + 1)
    }
}
