import Foundation

/// Which requests need whom (CONTRACT.md §7): named roles, rules tried top to bottom, and who may break the glass.
/// Applied as a whole, like chains; a request keeps the rule it matched (see `AppliedPolicy`) from submit on.
public struct PolicySet: Sendable, Equatable, Codable {
    public var roles: [Role]
    public var rules: [PolicyRule]
    public var breakGlass: BreakGlassPolicy?

    public static let empty = PolicySet(roles: [], rules: [], breakGlass: nil)
    public static let maximumRules = 500
    public static let maximumRoles = 200

    public init(roles: [Role] = [], rules: [PolicyRule] = [], breakGlass: BreakGlassPolicy? = nil) {
        self.roles = roles
        self.rules = rules
        self.breakGlass = breakGlass
    }

    public func role(named name: String) -> Role? { roles.first { $0.name == name } }

    enum CodingKeys: String, CodingKey {
        case roles, rules
        case breakGlass = "break_glass"
    }

    /// Every problem, each as a path and a sentence: unknown roles, names used twice, parameters out of range.
    public func problems() -> [(path: String, message: String)] {
        var problems: [(String, String)] = []
        var roleNames: Set<String> = []
        for (index, role) in roles.enumerated() {
            let path = "roles.\(role.name)"
            if !Self.isValidName(role.name) {
                problems.append((path, "`\(role.name)` is not a valid role name; use 1–64 characters of a–z, 0–9, `-`, `_` or `.`"))
            }
            if !roleNames.insert(role.name).inserted { problems.append((path, "the role `\(role.name)` is defined twice")) }
            if role.users.isEmpty && role.groups.isEmpty {
                problems.append((path, "names nobody; give it `users`, `groups` or both"))
            }
            for user in role.users where !EscalationChain.Approver.user(user).isValid {
                problems.append(("\(path).users", "`\(user)` is not a Slack user ID (`U…` or `W…`)"))
            }
            for group in role.groups where !EscalationChain.Approver.group(group).isValid {
                problems.append(("\(path).groups", "`\(group)` is not a Slack user group ID (`S…`)"))
            }
            _ = index
        }
        if roles.count > Self.maximumRoles { problems.append(("roles", "has \(roles.count) roles; at most \(Self.maximumRoles)")) }
        if rules.count > Self.maximumRules { problems.append(("policies", "has \(rules.count) rules; at most \(Self.maximumRules)")) }
        var ruleNames: Set<String> = []
        for (index, rule) in rules.enumerated() {
            let path = "policies[\(index)]"
            if !Self.isValidName(rule.name) {
                problems.append(("\(path).name", "`\(rule.name)` is not a valid rule name; use 1–64 characters of a–z, 0–9, `-`, `_` or `.`"))
            }
            if !ruleNames.insert(rule.name).inserted { problems.append(("\(path).name", "the rule `\(rule.name)` is defined twice")) }
            for role in rule.requiredRoles where !roleNames.contains(role) {
                problems.append(("\(path).roles", "`\(role)` is not a role defined under `roles:`"))
            }
            switch rule.then {
            case .notify(let window):
                if !(60...(7 * 86_400)).contains(window) { problems.append(("\(path).window", "must be between 1m and 7d")) }
            case .require(let approvals, let roles, let chain):
                if !(1...10).contains(approvals) { problems.append(("\(path).approvals", "must be 1–10 distinct people")) }
                if roles.count > approvals && approvals > 1 {
                    problems.append(("\(path).approvals", "is \(approvals), fewer than the \(roles.count) roles that must each approve; raise it to \(roles.count)"))
                }
                if let chain, !ApprovalRequest.isValidGateName(chain) {
                    problems.append(("\(path).chain", "`\(chain)` is not a valid chain name"))
                }
            case .auto: break
            }
        }
        if let breakGlass {
            if breakGlass.roles.isEmpty { problems.append(("break_glass.roles", "names no role; list who may break the glass")) }
            for role in breakGlass.roles where !roleNames.contains(role) {
                problems.append(("break_glass.roles", "`\(role)` is not a role defined under `roles:`"))
            }
            if !(60...(30 * 86_400)).contains(breakGlass.reviewWithin) {
                problems.append(("break_glass.review_within", "must be between 1m and 30d"))
            }
            if !(1...1_000).contains(breakGlass.maxPer30Days) { problems.append(("break_glass.max_per_30d", "must be 1–1000")) }
        }
        return problems
    }

    public static func isValidName(_ name: String) -> Bool { ApprovalRequest.isValidGateName(name) }
}

/// A named set of Slack users and user groups.
public struct Role: Sendable, Equatable, Codable {
    public var name: String
    public var users: [String]
    public var groups: [String]

    public init(name: String, users: [String] = [], groups: [String] = []) {
        self.name = name
        self.users = users
        self.groups = groups
    }

    /// Whether `person` (a Slack user ID, or the name a key acts for) found in `memberOf` user groups is in this role.
    public func contains(_ person: String, memberOf groups: Set<String>) -> Bool {
        users.contains { PersonName.same($0, person) } || self.groups.contains { groups.contains($0) }
    }

    /// In one line, as Slack shows it: `<@U1> <!subteam^S1>`.
    public var mentions: String {
        (users.map { "<@\($0)>" } + groups.map { "<!subteam^\($0)>" }).joined(separator: " ")
    }
}

/// Who may break the glass, how soon an admin must review it, and how often one person may before it is flagged.
public struct BreakGlassPolicy: Sendable, Equatable, Codable {
    public var roles: [String]
    public var reviewWithin: TimeInterval
    public var maxPer30Days: Int

    public init(roles: [String], reviewWithin: TimeInterval = 86_400, maxPer30Days: Int = 3) {
        self.roles = roles
        self.reviewWithin = reviewWithin
        self.maxPer30Days = maxPer30Days
    }

    enum CodingKeys: String, CodingKey {
        case roles
        case reviewWithin = "review_within"
        case maxPer30Days = "max_per_30d"
    }
}

/// One rule: when it applies, and what it then asks for.
public struct PolicyRule: Sendable, Equatable, Codable {
    public var name: String
    public var when: PolicyCondition
    public var then: Outcome

    public enum Outcome: Sendable, Equatable, Codable {
        /// Approved at submit by `policy:NAME`; low risk only.
        case auto
        /// Approves itself after `window` seconds unless rejected; low and medium risk only.
        case notify(window: TimeInterval)
        /// `approvals` distinct people, one from each of `roles`; `chain` pings (default: the request's gate).
        case require(approvals: Int, roles: [String], chain: String?)

        public var kind: String {
            switch self {
            case .auto: "auto"
            case .notify: "notify"
            case .require: "require"
            }
        }

        /// The highest risk it may apply to; above it the rule is skipped.
        public var highestRisk: Risk {
            switch self {
            case .auto: .low
            case .notify: .medium
            case .require: .critical
            }
        }
    }

    public init(name: String, when: PolicyCondition = PolicyCondition(), then: Outcome) {
        self.name = name
        self.when = when
        self.then = then
    }

    var requiredRoles: [String] {
        if case .require(_, let roles, _) = then { return roles }
        return []
    }
}

/// The rule a request matched, as it was at submit, with the members of its roles then: a change of the policies
/// or roles never changes a request in flight.
public struct AppliedPolicy: Sendable, Equatable, Codable {
    public var name: String
    public var then: PolicyRule.Outcome
    /// The rule's roles, with their members at submit.
    public var roles: [Role]

    public init(name: String, then: PolicyRule.Outcome, roles: [Role] = []) {
        self.name = name
        self.then = then
        self.roles = roles
    }

    /// The approvals a decision needs: 1 unless a `require` rule asks for more.
    public var requiredApprovals: Int {
        if case .require(let approvals, let roles, _) = then { return max(approvals, roles.count, 1) }
        return 1
    }

    /// Whether decisions are counted as votes: more than one approval, or a role that must approve.
    public var isQuorum: Bool {
        if case .require(let approvals, let roles, _) = then { return approvals > 1 || !roles.isEmpty }
        return false
    }

    public var notifyWindow: TimeInterval? {
        if case .notify(let window) = then { return window }
        return nil
    }

    public var roleNames: [String] { roles.map(\.name) }

    /// The chain a `require` rule names for pinging, if it names one.
    public var chainName: String? {
        if case .require(_, _, let chain) = then { return chain }
        return nil
    }
}
