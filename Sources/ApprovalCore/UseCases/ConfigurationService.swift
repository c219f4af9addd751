import Foundation

/// Configuration as use cases, for the slash command, the command line and (later) the web page alike: escalation
/// chains and admins. Who may change it is decided here: an admin in Slack (from `GATEHOUSE_ADMINS`, or added from
/// Slack), an `admin` key, or someone at the server's terminal. Refusals are audited here, once.
public struct ConfigurationService: Sendable {
    public let store: any ConfigurationStore
    let audit: any AuditTrail
    /// Admins from `GATEHOUSE_ADMINS`, each once, in the configured order; those added from Slack are stored.
    public let configuredAdmins: [String]
    /// Policies and roles (CONTRACT.md §7).
    let policyStore: (any PolicyStore)?

    public init(
        store: any ConfigurationStore, audit: any AuditTrail, configuredAdmins: [String] = [], policies: (any PolicyStore)? = nil
    ) {
        self.policyStore = policies
        self.store = store
        self.audit = audit
        var seen: Set<String> = []
        self.configuredAdmins = configuredAdmins.filter { seen.insert($0).inserted }
    }

    /// Who may change configuration from Slack.
    public struct Admins: Sendable, Equatable {
        public var configured: [String]
        public var stored: [String]

        public var all: Set<String> { Set(configured).union(stored) }
        public var isEmpty: Bool { configured.isEmpty && stored.isEmpty }
        /// Everyone, configured first, each once.
        public var everyone: [String] { configured + stored.filter { !configured.contains($0) } }
    }

    /// Why a change was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// Nobody is an admin yet, so nobody in Slack may change anything (the first to try must not become one).
        case noAdmins
        /// The actor is not among `admins`.
        case notAdmin(Admins)
        /// An API key without the admin scope.
        case forbidden

        var code: String {
            switch self {
            case .noAdmins: "no_admins"
            case .notAdmin: "not_admin"
            case .forbidden: "forbidden"
            }
        }
    }

    public func admins() async throws -> Admins {
        Admins(configured: configuredAdmins, stored: try await store.storedAdmins())
    }

    /// Refuses, audited with `attempt` (what was asked), an actor who may not change configuration; returns the admins.
    @discardableResult
    public func checkMayChange(_ actor: Actor, attempt: [String: JSONValue]) async throws -> Admins {
        let admins = try await admins()
        let refusal: Refusal? =
            switch actor {
            case .slackUser(let user, _, _): admins.all.contains(user) ? nil : admins.isEmpty ? .noAdmins : .notAdmin(admins)
            case .key(let key, _): key.scope == .admin ? nil : .forbidden
            case .cli, .system: nil
            case .local(_, let admin): admin ? nil : .forbidden
            case .policy: .forbidden
            }
        guard let refusal else { return admins }
        var details = attempt
        details["reason"] = .string(refusal.code)
        try await audit.append(AuditEvent(.requestRefused, actor: actor.id, details: details))
        throw refusal
    }

    // MARK: Chains

    public func chains() async throws -> [EscalationChain] { try await store.chains() }

    public func chain(named name: String) async throws -> EscalationChain? { try await store.chain(named: name) }

    /// How many pending requests keep a snapshot of the chain named `name`.
    public func pendingCount(gate name: String) async throws -> Int { try await store.pendingCount(gate: name) }

    /// Creates or replaces one chain; returns what happened to it (`before` is the chain it replaced).
    public func setChain(_ chain: EscalationChain, by actor: Actor) async throws -> ChainChange {
        try await checkMayChange(actor, attempt: ["command": .string("chain set"), "name": .string(chain.name)])
        try chain.validate()
        let changes = try await store.changeChains(by: actor.id) { existing in
            ChainChange.plan(applying: [chain], to: existing, pruning: false)
        }
        return changes[0]
    }

    /// Deletes a chain. Requests filed under it keep their snapshot; returns the deleted chain (`nil`: there was none)
    /// and how many pending requests still use it.
    public func deleteChain(named name: String, by actor: Actor) async throws -> (deleted: EscalationChain?, pending: Int) {
        try await checkMayChange(actor, attempt: ["command": .string("chain delete"), "name": .string(name)])
        let changes = try await store.changeChains(by: actor.id) { existing in
            existing.filter { $0.name == name }.map { ChainChange(name: name, kind: .deleted, before: $0, after: nil) }
        }
        return (changes.first?.before, try await store.pendingCount(gate: name))
    }

    /// Applies a whole set of chains in one transaction, as a file gives them: each is added, changed or left as it is
    /// (one that means the same as the stored chain is unchanged); with `pruning`, chains not among them are deleted.
    /// All are validated first, and nothing is written if one is invalid or a name repeats. With `dryRun`, nothing is
    /// written at all: the answer says what would change.
    public func applyChains(_ chains: [EscalationChain], pruning: Bool, dryRun: Bool = false, by actor: Actor) async throws -> [ChainChange] {
        var names: Set<String> = []
        for chain in chains {
            try chain.validate()
            guard names.insert(chain.name).inserted else { throw ChainApplyError.duplicateName(chain.name) }
        }
        if dryRun {
            let existing = try await store.chains()
            return ChainChange.plan(applying: ChainChange.reconcile(chains, with: existing), to: existing, pruning: pruning)
        }
        try await checkMayChange(actor, attempt: ["command": .string("chains apply")])
        return try await store.changeChains(by: actor.id) { existing in
            ChainChange.plan(applying: ChainChange.reconcile(chains, with: existing), to: existing, pruning: pruning)
        }
    }

    // MARK: Admins

    /// What adding admins did: those added now, those who were admins already, and those who are admins through
    /// `GATEHOUSE_ADMINS` (which Slack cannot change).
    public struct AdminAddition: Sendable, Equatable {
        public var added: [String]
        public var already: [String]
        public var configured: [String]
    }

    public func addAdmins(_ users: [String], by actor: Actor) async throws -> AdminAddition {
        try await checkMayChange(actor, attempt: ["command": .string("admin add"), "users": .array(users.map(JSONValue.string))])
        let configured = users.filter { configuredAdmins.contains($0) }
        let candidates = users.filter { !configuredAdmins.contains($0) }
        let added = candidates.isEmpty ? [] : try await store.addAdmins(candidates, by: actor.id)
        let already = users.filter { !configured.contains($0) && !added.contains($0) }
        return AdminAddition(added: added, already: already, configured: configured)
    }

    /// What removing admins did; `wouldLeaveNone` when it would have left no admin at all, and removed nobody.
    public struct AdminRemoval: Sendable, Equatable {
        public var wouldLeaveNone = false
        public var removed: [String] = []
        public var notAdmins: [String] = []
        public var configured: [String] = []
    }

    public func removeAdmins(_ users: [String], by actor: Actor) async throws -> AdminRemoval {
        let admins = try await checkMayChange(
            actor, attempt: ["command": .string("admin remove"), "users": .array(users.map(JSONValue.string))])
        let remaining = admins.all.subtracting(users.filter { !configuredAdmins.contains($0) })
        if remaining.isEmpty { return AdminRemoval(wouldLeaveNone: true) }
        // A person in both lists loses the stored entry too, so that a later change to the configuration really removes them.
        let removed = try await store.removeAdmins(users, by: actor.id)
        let configured = users.filter { configuredAdmins.contains($0) }
        return AdminRemoval(
            removed: removed.filter { !configured.contains($0) },
            notAdmins: users.filter { !configured.contains($0) && !removed.contains($0) }, configured: configured)
    }
}

/// Why a set of chains was refused as a whole.
public enum ChainApplyError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicateName(String)

    public var description: String {
        switch self {
        case .duplicateName(let name): "The chain `\(name)` is defined twice."
        }
    }
}
