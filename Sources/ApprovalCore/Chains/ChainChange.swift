import Foundation

/// What applying a set of chains does to one of them.
public struct ChainChange: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case added, changed, unchanged, deleted
    }

    public var name: String
    public var kind: Kind
    public var before: EscalationChain?
    public var after: EscalationChain?

    public init(name: String, kind: Kind, before: EscalationChain?, after: EscalationChain?) {
        self.name = name
        self.kind = kind
        self.before = before
        self.after = after
    }

    /// The `config_changed` entry that records it: the chain before and after, as stored.
    public func auditEvent(by actor: String) -> AuditEvent {
        AuditEvent(
            .configChanged, actor: actor,
            details: [
                "what": .string("chain"), "name": .string(name), "change": .string(kind.rawValue),
                "before": before?.json ?? .null, "after": after?.json ?? .null,
            ])
    }

    /// What applying `chains` over `existing` does, pure: the given chains in order (each added, changed or unchanged),
    /// then, with `pruning`, the deletion of every other chain, by name.
    public static func plan(applying chains: [EscalationChain], to existing: [EscalationChain], pruning: Bool) -> [ChainChange] {
        let stored = Dictionary(existing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var changes = chains.map { chain in
            let before = stored[chain.name]
            let kind: Kind = before == nil ? .added : before == chain ? .unchanged : .changed
            return ChainChange(name: chain.name, kind: kind, before: before, after: chain)
        }
        if pruning {
            let named = Set(chains.map(\.name))
            for (name, before) in stored.sorted(by: { $0.key < $1.key }) where !named.contains(name) {
                changes.append(ChainChange(name: name, kind: .deleted, before: before, after: nil))
            }
        }
        return changes
    }

    /// `chains`, with each one that means the same as the stored chain of its name replaced by the stored one.
    ///
    /// A chains file lists a level's users before its groups, so a chain set in Slack as `@sre @alice 30m` would
    /// otherwise read back in another order, and an export applied unchanged would report (and audit) a change.
    public static func reconcile(_ chains: [EscalationChain], with existing: [EscalationChain]) -> [EscalationChain] {
        let stored = Dictionary(existing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return chains.map { chain in
            guard let current = stored[chain.name], current != chain, current.meansTheSame(as: chain) else { return chain }
            return current
        }
    }
}

extension EscalationChain {
    /// Same name, final action and levels, each level with the same SLA and the same approvers in any order.
    public func meansTheSame(as other: EscalationChain) -> Bool {
        name == other.name && finalAction == other.finalAction && levels.count == other.levels.count
            && zip(levels, other.levels).allSatisfy { $0.sla == $1.sla && Set($0.approvers) == Set($1.approvers) }
    }

    /// As stored and audited: `{"name", "levels": [{"approvers": [{"user"|"group": ID}], "sla"}], "final_action"}`.
    public var json: JSONValue {
        .object([
            "name": .string(name),
            "levels": .array(levels.map { .object(["approvers": .array($0.approvers.map(\.json)), "sla": .number($0.sla)]) }),
            "final_action": .string(finalAction.rawValue),
        ])
    }
}
