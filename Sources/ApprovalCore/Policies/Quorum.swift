import Foundation

/// Where a request stands against the approvals its rule needs (CONTRACT.md §7's `quorum`).
public struct QuorumStatus: Sendable, Equatable {
    /// Distinct people who must approve.
    public var required: Int
    /// Roles that must each have an approver of their own.
    public var roles: [String]
    /// Distinct people whose approval counts now.
    public var approvals: Int
    /// Roles not yet covered: one person counts for one role only, however many they hold.
    public var missingRoles: [String]

    public var isMet: Bool { approvals >= required && missingRoles.isEmpty }

    public var json: JSONValue {
        .object([
            "required": .number(Double(required)), "roles": .array(roles.map(JSONValue.string)),
            "approvals": .number(Double(approvals)), "missing_roles": .array(missingRoles.map(JSONValue.string)),
        ])
    }

    /// The roles left without an approver when each approver covers at most one role they hold, matched so that as
    /// many roles as possible are covered (augmenting paths: a person first matched to a role they share with another
    /// approver moves over when that frees a role only they hold).
    public static func uncoveredRoles(_ roles: [String], approvers: [Set<String>]) -> [String] {
        var roleOfApprover = [Int?](repeating: nil, count: approvers.count)
        func assign(_ role: Int, _ visited: inout Set<Int>) -> Bool {
            for (approver, held) in approvers.enumerated() where held.contains(roles[role]) && !visited.contains(approver) {
                visited.insert(approver)
                if let other = roleOfApprover[approver] {
                    guard assign(other, &visited) else { continue }
                }
                roleOfApprover[approver] = role
                return true
            }
            return false
        }
        var missing: [String] = []
        for role in roles.indices {
            var visited: Set<Int> = []
            if !assign(role, &visited) { missing.append(roles[role]) }
        }
        return missing
    }
}

extension Approval {
    /// The approvals counted so far against what the rule needs (one approval when it names none).
    public var quorum: QuorumStatus {
        let counted = votes.filter(\.countsAsApproval)
        let roles = policy?.roleNames ?? []
        let distinct = Set(counted.map { PersonName.normalized($0.by) })
        return QuorumStatus(
            required: policy?.requiredApprovals ?? 1, roles: roles, approvals: distinct.count,
            missingRoles: QuorumStatus.uncoveredRoles(roles, approvers: counted.map { Set($0.roles) }))
    }

    /// The roles of its rule `actor` is in: a Slack user by ID and the user groups they were found in; a key by the
    /// person it acts for.
    public func roles(of actor: Actor) -> [String] {
        guard let policy else { return [] }
        let (person, groups): (String?, Set<String>) =
            switch actor {
            case .slackUser(let user, _, let groups): (user, groups)
            case .key(let key, let actingFor): (actingFor ?? key.boundTo, [])
            default: (nil, [])
            }
        guard let person else { return [] }
        return policy.roles.filter { $0.contains(person, memberOf: groups) }.map(\.name)
    }

    /// Everyone its rule's roles name, as approvers (for "who may decide now").
    var roleMembers: [EscalationChain.Approver] {
        guard let policy else { return [] }
        var seen: Set<EscalationChain.Approver> = []
        return policy.roles.flatMap { role in role.users.map { .user($0) } + role.groups.map { .group($0) } }
            .filter { seen.insert($0).inserted }
    }
}
