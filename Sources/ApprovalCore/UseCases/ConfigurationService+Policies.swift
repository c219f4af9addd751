import Foundation

/// Why a policy change was refused as a whole; each problem has its path.
public struct PolicyProblems: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [Problem]

    public struct Problem: Sendable, Equatable, Codable {
        public var path: String
        public var message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    public init(_ problems: [Problem]) { self.problems = problems }

    public var description: String { problems.map { "\($0.path): \($0.message)" }.joined(separator: "; ") }
}

extension ConfigurationService {
    private var policies: any PolicyStore {
        get throws {
            guard let policyStore else { throw PolicyProblems([.init(path: "", message: "this store keeps no policies")]) }
            return policyStore
        }
    }

    public func policySet() async throws -> PolicySet { try await policies.policies() }

    /// Checks `set` as a whole; throws every problem at once.
    public static func check(_ set: PolicySet) throws(PolicyProblems) {
        let problems = set.problems()
        if !problems.isEmpty { throw PolicyProblems(problems.map { .init(path: $0.path, message: $0.message) }) }
    }

    /// Replaces the whole policy set (roles, rules, break-glass) in one transaction, audited as `config_changed`;
    /// with `dryRun`, writes nothing. Returns the set before and after.
    public func applyPolicies(_ set: PolicySet, dryRun: Bool = false, by actor: Actor) async throws -> (before: PolicySet, after: PolicySet) {
        try Self.check(set)
        if dryRun { return (try await policies.policies(), set) }
        try await checkMayChange(actor, attempt: ["command": .string("policies apply")])
        return try await policies.changePolicies(by: actor.id) { _ in set }
    }

    /// Creates or replaces one role's members (from Slack: `/gatehouse role set`).
    public func setRole(_ role: Role, by actor: Actor) async throws -> (before: Role?, after: Role) {
        try await checkMayChange(actor, attempt: ["command": .string("role set"), "name": .string(role.name)])
        let change = try await policies.changePolicies(by: actor.id) { current in
            var next = current
            if let index = next.roles.firstIndex(where: { $0.name == role.name }) {
                next.roles[index] = role
            } else {
                next.roles.append(role)
            }
            try Self.check(next)
            return next
        }
        return (change.before.role(named: role.name), role)
    }

    /// Deletes a role; refused while a rule or break-glass names it. Returns the deleted role (`nil`: none).
    public func deleteRole(named name: String, by actor: Actor) async throws -> Role? {
        try await checkMayChange(actor, attempt: ["command": .string("role delete"), "name": .string(name)])
        let change = try await policies.changePolicies(by: actor.id) { current in
            var next = current
            next.roles.removeAll { $0.name == name }
            let users = current.rules.filter { rule in
                if case .require(_, let roles, _) = rule.then { return roles.contains(name) }
                return false
            }.map(\.name) + ((current.breakGlass?.roles.contains(name) ?? false) ? ["break_glass"] : [])
            if !users.isEmpty {
                throw PolicyProblems([.init(
                    path: "roles.\(name)",
                    message: "is still used by \(users.map { "`\($0)`" }.joined(separator: ", ")); change those first")])
            }
            return next
        }
        return change.before.role(named: name)
    }
}
