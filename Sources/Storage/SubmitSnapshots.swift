import ApprovalCore
import Foundation
import GRDB
import Synchronization

/// The policy set last seen by this process, with its version (0: none stored).
final class PolicySnapshots: Sendable {
    struct Entry: Sendable {
        var version: Int64
        var set: PolicySet
    }

    private let entry = Mutex(Entry(version: 0, set: .empty))
    /// Gate and action pairs known to have been approved: an approval is final, so once true, always true.
    private let approved = Mutex(Set<String>())

    var current: Entry { entry.withLock { $0 } }

    func remember(_ new: Entry) { entry.withLock { $0 = new } }

    func knownApproved(_ key: String) -> Bool { approved.withLock { $0.contains(key) } }

    func rememberApproved(_ key: String) {
        approved.withLock { known in
            if known.count > 100_000 { known.removeAll() }
            known.insert(key)
        }
    }

    static func key(gate: String, action: String) -> String { gate + "\u{0}" + action }

    static let versionSQL = "SELECT version FROM policy_set WHERE id = 1"
    static let everApprovedSQL = """
        SELECT EXISTS (SELECT 1 FROM approval INDEXED BY approval_approved_actions
                       WHERE gate = ? AND action = ? AND status IN ('approved', 'modified'))
        """

    /// The stored set, from the cache when its version is the stored one.
    func read(in db: Database) throws -> Entry {
        let version = try Int64.fetchOne(db.cachedStatement(sql: Self.versionSQL)) ?? 0
        let cached = current
        if cached.version == version { return cached }
        let definition = try String.fetchOne(db, sql: "SELECT definition FROM policy_set WHERE id = 1")
        let fresh = Entry(version: version, set: try definition.map(PolicyCoding.decodeSet) ?? .empty)
        remember(fresh)
        return fresh
    }

    func everApproved(gate: String, action: String, in db: Database) throws -> Bool {
        let key = Self.key(gate: gate, action: action)
        if knownApproved(key) { return true }
        let answer = try Bool.fetchOne(db.cachedStatement(sql: Self.everApprovedSQL), arguments: [gate, action]) ?? false
        if answer { rememberApproved(key) }
        return answer
    }
}

/// A create's reads from this process's caches, outside the writer, each remembered so the writer can check that the
/// stored values are still those (and build again from the stored ones when not).
final class GuessedSubmitSnapshot: SubmitSnapshot, @unchecked Sendable {
    let policies: PolicySet
    let policyVersion: Int64
    private let chains: ChainSnapshots
    private let policyCache: PolicySnapshots
    private(set) var chainReads: [(name: String, definition: String?)] = []
    private(set) var approvalReads: [(gate: String, action: String, answer: Bool)] = []

    init(chains: ChainSnapshots, policies: PolicySnapshots) {
        let entry = policies.current
        self.policies = entry.set
        self.policyVersion = entry.version
        self.chains = chains
        self.policyCache = policies
    }

    func chain(named name: String) -> EscalationChain {
        let entry = chains.guess(name)
        chainReads.append((name, entry.definition))
        return entry.chain
    }

    func everApproved(gate: String, action: String) -> Bool {
        let answer = policyCache.knownApproved(PolicySnapshots.key(gate: gate, action: action))
        approvalReads.append((gate, action, answer))
        return answer
    }

    /// Whether every read still gives the same answer inside the writer's transaction.
    func holds(in db: Database, policies: PolicySnapshots, chainDefinition: (String) throws -> String?) throws -> Bool {
        guard try policies.read(in: db).version == policyVersion else { return false }
        for read in chainReads where try chainDefinition(read.name) != read.definition { return false }
        for read in approvalReads where !read.answer {
            if try policies.everApproved(gate: read.gate, action: read.action, in: db) { return false }
        }
        return true
    }
}

/// A create's reads inside the writer's transaction.
struct LiveSubmitSnapshot: SubmitSnapshot {
    let db: Database
    let policies: PolicySet
    let policyCache: PolicySnapshots
    let chainOf: (String) -> EscalationChain

    func chain(named name: String) -> EscalationChain { chainOf(name) }

    func everApproved(gate: String, action: String) -> Bool {
        // A failed read here counts as "approved before", which `new_action: true` then does not match: the stricter
        // rules further down apply.
        (try? policyCache.everApproved(gate: gate, action: action, in: db)) ?? true
    }
}
