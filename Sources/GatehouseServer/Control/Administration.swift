import ApprovalCore
import Foundation
import Storage

/// What the command line changes in the database — keys and chains — as one set of operations, run by the service on
/// its own store when it is running (through the control socket), or by the command line itself, holding the
/// service's lock, when it is not. Either way one process writes the file.
public struct Administration: Sendable {
    let store: any GatehouseStore

    public init(store: any GatehouseStore) {
        self.store = store
    }

    /// Creates a key; `boundTo` names the one person a decide key decides for.
    public func createKey(
        name: String, scope: APIKeyScope, boundTo: String? = nil, breakGlass: Bool = false, by actor: Actor
    ) async throws -> String {
        try await store.createKey(name: name, scope: scope, boundTo: boundTo, breakGlass: breakGlass, by: actor.id)
    }

    public func revokeKey(name: String, by actor: Actor) async throws {
        try await store.revokeKey(name: name, by: actor.id)
    }

    /// What applying a set of chains did (or would do, on a dry run): each change, how many pending requests keep the
    /// snapshot of each changed or deleted chain, and the names the store had before.
    public struct ChainsApplied: Sendable, Codable, Equatable {
        public var changes: [ChainChange]
        public var pending: [String: Int]
        public var existing: [String]
    }

    /// What applying a policy file did (or would do): the set before and after.
    public struct PoliciesApplied: Sendable, Codable, Equatable {
        public var before: PolicySet
        public var after: PolicySet
    }

    public func applyPolicies(_ set: PolicySet, dryRun: Bool, by actor: Actor) async throws -> PoliciesApplied {
        let configuration = ConfigurationService(store: store, audit: store, policies: store)
        let change = try await configuration.applyPolicies(set, dryRun: dryRun, by: actor)
        return PoliciesApplied(before: change.before, after: change.after)
    }

    public func applyChains(_ chains: [EscalationChain], pruning: Bool, dryRun: Bool, by actor: Actor) async throws -> ChainsApplied {
        let configuration = ConfigurationService(store: store, audit: store)
        let existing = try await configuration.chains().map(\.name)
        let changes = try await configuration.applyChains(chains, pruning: pruning, dryRun: dryRun, by: actor)
        var pending: [String: Int] = [:]
        for change in changes where change.kind == .changed || change.kind == .deleted {
            pending[change.name] = try await configuration.pendingCount(gate: change.name)
        }
        return ChainsApplied(changes: changes, pending: pending, existing: existing)
    }
}
