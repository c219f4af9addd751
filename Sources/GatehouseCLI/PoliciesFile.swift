import ApprovalCore
import Foundation
import Yams

/// The policy set as a YAML file (CONTRACT.md §7), read by `gatehouse policies apply|test` and written by
/// `gatehouse policies export`; problems are reported as the chains file reports them, each with its place.
enum PoliciesFile {
    static let topKeys = ["roles", "policies", "break_glass"]
    static let roleKeys = ["users", "groups"]
    static let ruleKeys = ["name", "when", "then", "window", "approvals", "roles", "chain"]
    static let whenKeys = ["gate", "risk", "action", "requester", "payload", "new_action"]
    static let breakGlassKeys = ["roles", "review_within", "max_per_30d"]
    static let operators = ["eq", "ne", "in", "gt", "gte", "lt", "lte", "exists"]

    static func parse(_ data: Data) throws(ChainsFileError) -> PolicySet {
        try parse(ChainsFile.text(data))
    }

    static func parse(_ text: String) throws(ChainsFileError) -> PolicySet {
        let root = try ChainsFile.compose(text)
        var reader = ChainsFile.Reader()
        var marks: [String: Node] = [:]
        let set = reader.policySet(root, marks: &marks)
        if reader.problems.isEmpty {
            // The rules that need the whole set: roles that exist, names used once, parameters in range.
            for problem in set.problems() {
                let node = marks[problem.path] ?? marks[String(problem.path.split(separator: ".").first ?? "")]
                reader.problem(problem.path, at: node, problem.message)
            }
        }
        if !reader.problems.isEmpty { throw ChainsFileError(inFileOrder: reader.problems) }
        return set
    }

    // MARK: Writing

    /// The set in the file format; ``parse(_:)-(String)`` reads it back as the same set. Ends with a newline.
    static func render(_ set: PolicySet) -> String {
        var lines = [
            "# Gatehouse policies, from `gatehouse policies export`.",
            "# Edit, then apply with `gatehouse policies apply FILE` (--dry-run shows what would change). Requests already",
            "# filed keep the rule they matched. Rules are tried top to bottom; the first that matches applies.",
        ]
        if set.roles.isEmpty {
            lines.append("roles: {}")
        } else {
            lines.append("roles:")
            for role in set.roles {
                var members: [String] = []
                if !role.users.isEmpty { members.append("users: [\(role.users.map(ChainsFile.scalar).joined(separator: ", "))]") }
                if !role.groups.isEmpty { members.append("groups: [\(role.groups.map(ChainsFile.scalar).joined(separator: ", "))]") }
                lines.append("  \(ChainsFile.scalar(role.name)): {\(members.joined(separator: ", "))}")
            }
        }
        if set.rules.isEmpty {
            lines.append("policies: []")
        } else {
            lines.append("policies:")
            for rule in set.rules {
                lines.append("  - name: \(ChainsFile.scalar(rule.name))")
                let when = conditions(rule.when)
                lines.append("    when: {\(when.joined(separator: ", "))}")
                switch rule.then {
                case .auto:
                    lines.append("    then: auto")
                case .notify(let window):
                    lines.append("    then: notify")
                    lines.append("    window: \(ChainDuration.format(window))")
                case .require(let approvals, let roles, let chain):
                    lines.append("    then: require")
                    lines.append("    approvals: \(approvals)")
                    if !roles.isEmpty { lines.append("    roles: [\(roles.map(ChainsFile.scalar).joined(separator: ", "))]") }
                    if let chain { lines.append("    chain: \(ChainsFile.scalar(chain))") }
                }
            }
        }
        if let breakGlass = set.breakGlass {
            lines.append("break_glass:")
            lines.append("  roles: [\(breakGlass.roles.map(ChainsFile.scalar).joined(separator: ", "))]")
            lines.append("  review_within: \(ChainDuration.format(breakGlass.reviewWithin))")
            lines.append("  max_per_30d: \(breakGlass.maxPer30Days)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func conditions(_ when: PolicyCondition) -> [String] {
        var parts: [String] = []
        if let gate = when.gate { parts.append("gate: \(ChainsFile.scalar(gate))") }
        if let risk = when.risk {
            parts.append(risk.count == 1 ? "risk: \(risk[0].rawValue)" : "risk: [\(risk.map(\.rawValue).joined(separator: ", "))]")
        }
        if let action = when.action { parts.append("action: \(quoted(action))") }
        if let requester = when.requester { parts.append("requester: \(quoted(requester))") }
        if !when.payload.isEmpty {
            let entries = when.payload.map { condition -> String in
                let key = ChainsFile.scalar(condition.path)
                if condition.tests.count == 1, case .eq(let value) = condition.tests[0], value.objectValue == nil, !isList(value) {
                    return "\(key): \(yaml(value))"
                }
                let tests = condition.tests.map { test -> String in
                    switch test {
                    case .eq(let v): "eq: \(yaml(v))"
                    case .ne(let v): "ne: \(yaml(v))"
                    case .in(let vs): "in: [\(vs.map(yaml).joined(separator: ", "))]"
                    case .gt(let n): "gt: \(CanonicalJSON.format(n))"
                    case .gte(let n): "gte: \(CanonicalJSON.format(n))"
                    case .lt(let n): "lt: \(CanonicalJSON.format(n))"
                    case .lte(let n): "lte: \(CanonicalJSON.format(n))"
                    case .exists(let b): "exists: \(b)"
                    }
                }
                return "\(key): {\(tests.joined(separator: ", "))}"
            }
            parts.append("payload: {\(entries.joined(separator: ", "))}")
        }
        if let newAction = when.newAction { parts.append("new_action: \(newAction)") }
        return parts
    }

    private static func isList(_ value: JSONValue) -> Bool {
        if case .array = value { return true }
        return false
    }

    /// Globs start with `*` often, which YAML reads as an alias: always quoted.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func yaml(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): CanonicalJSON.format(n)
        case .string(let s): ChainsFile.scalar(s)
        case .array(let items): "[" + items.map(yaml).joined(separator: ", ") + "]"
        case .object: CanonicalJSON.serialize(value)
        }
    }
}

extension ChainsFile.Reader {
    mutating func policySet(_ root: Node?, marks: inout [String: Node]) -> PolicySet {
        guard let root, !root.isNull else { return .empty }
        guard let fields = fields(of: root, path: "", allowed: PoliciesFile.topKeys, what: "the top level", example: "`roles:`, `policies:` and `break_glass:`")
        else { return .empty }
        var set = PolicySet.empty
        if let rolesNode = fields["roles"], !rolesNode.isNull {
            marks["roles"] = rolesNode
            if case .mapping(let mapping) = rolesNode {
                for (key, value) in mapping {
                    guard case .scalar(let name) = key else { continue }
                    let path = "roles.\(name.string)"
                    marks[path] = key
                    guard let members = self.fields(of: value, path: path, allowed: PoliciesFile.roleKeys, what: "a role", example: "`users:` and `groups:`")
                    else { continue }
                    let users = ids(members["users"], path: "\(path).users", users: true) ?? []
                    let groups = ids(members["groups"], path: "\(path).groups", users: false) ?? []
                    set.roles.append(Role(name: name.string, users: users.map(\.id), groups: groups.map(\.id)))
                }
            } else {
                problem("roles", at: rolesNode, "expected roles by name (`lead: {users: [U…]}`), found \(rolesNode.kind)")
            }
        }
        if let list = fields["policies"], !list.isNull {
            marks["policies"] = list
            if case .sequence(let items) = list {
                for (index, item) in items.enumerated() {
                    let path = "policies[\(index)]"
                    marks[path] = item
                    marks["\(path).name"] = item["name"] ?? item
                    marks["\(path).roles"] = item["roles"] ?? item
                    marks["\(path).approvals"] = item["approvals"] ?? item
                    marks["\(path).window"] = item["window"] ?? item
                    marks["\(path).chain"] = item["chain"] ?? item
                    if let rule = rule(item, path: path) { set.rules.append(rule) }
                }
            } else {
                problem("policies", at: list, "expected a list of rules (each starting with `- name:`), found \(list.kind)")
            }
        }
        if let node = fields["break_glass"], !node.isNull {
            marks["break_glass"] = node
            marks["break_glass.roles"] = node["roles"] ?? node
            set.breakGlass = breakGlass(node)
        }
        return set
    }

    mutating func rule(_ node: Node, path: String) -> PolicyRule? {
        guard let fields = fields(of: node, path: path, allowed: PoliciesFile.ruleKeys, what: "a rule", example: "`name:`, `when:` and `then:`")
        else { return nil }
        let before = problems.count
        guard let nameNode = fields["name"], let name = string(nameNode, path: "\(path).name", expected: "a rule name like `staging`") else {
            if fields["name"] == nil { problem(path, at: node, "missing `name`; every rule has one, like `name: staging`") }
            return nil
        }
        let when = fields["when"].map { condition($0, path: "\(path).when") } ?? PolicyCondition()
        guard let thenNode = fields["then"], let then = string(thenNode, path: "\(path).then", expected: "auto, notify or require") else {
            if fields["then"] == nil { problem(path, at: node, "missing `then`; write `then: auto`, `then: notify` or `then: require`") }
            return nil
        }
        let extras: [(String, [String])] = [("auto", []), ("notify", ["window"]), ("require", ["approvals", "roles", "chain"])]
        guard let allowed = extras.first(where: { $0.0 == then })?.1 else {
            problem("\(path).then", at: thenNode, "`\(then)` is not an outcome; use auto, notify or require")
            return nil
        }
        for key in ["window", "approvals", "roles", "chain"] where fields[key] != nil && !allowed.contains(key) {
            problem("\(path).\(key)", at: fields[key], "`\(key)` does not go with `then: \(then)`")
        }
        let outcome: PolicyRule.Outcome
        switch then {
        case "auto":
            outcome = .auto
        case "notify":
            guard let windowNode = fields["window"] else {
                problem(path, at: node, "missing `window`; a notify rule says how long to wait for a rejection, like `window: 5m`")
                return nil
            }
            guard let window = duration(windowNode, path: "\(path).window") else { return nil }
            outcome = .notify(window: window)
        default:
            var approvals = 1
            if let node = fields["approvals"] {
                if let text = string(node, path: "\(path).approvals", expected: "a number of people, 1–10"), let count = Int(text) {
                    approvals = count
                } else if case .scalar = node {
                    problem("\(path).approvals", at: node, "expected a number of people, 1–10")
                }
            }
            let roles = fields["roles"].map { names($0, path: "\(path).roles") } ?? []
            let chain = fields["chain"].flatMap { string($0, path: "\(path).chain", expected: "a chain name") }
            outcome = .require(approvals: approvals, roles: roles, chain: chain)
        }
        guard problems.count == before else { return nil }
        return PolicyRule(name: name, when: when, then: outcome)
    }

    mutating func condition(_ node: Node, path: String) -> PolicyCondition {
        guard let fields = fields(of: node, path: path, allowed: PoliciesFile.whenKeys, what: "a condition", example: "`gate:`, `risk:`, `payload:`…")
        else { return PolicyCondition() }
        var when = PolicyCondition()
        when.gate = fields["gate"].flatMap { string($0, path: "\(path).gate", expected: "a gate name") }
        if let riskNode = fields["risk"] {
            let texts: [String]
            if case .sequence = riskNode { texts = names(riskNode, path: "\(path).risk") } else {
                texts = string(riskNode, path: "\(path).risk", expected: "low, medium, high or critical").map { [$0] } ?? []
            }
            var risks: [Risk] = []
            for text in texts {
                if let risk = Risk(rawValue: text) { risks.append(risk) } else {
                    problem("\(path).risk", at: riskNode, "`\(text)` is not a risk; use low, medium, high or critical")
                }
            }
            when.risk = risks
        }
        when.action = fields["action"].flatMap { string($0, path: "\(path).action", expected: "a glob like `deploy *`") }
        when.requester = fields["requester"].flatMap { string($0, path: "\(path).requester", expected: "a glob like `agent:*`") }
        if let payload = fields["payload"] {
            if case .mapping(let mapping) = payload {
                for (key, value) in mapping {
                    guard case .scalar(let pathText) = key else { continue }
                    if let condition = payloadCondition(pathText.string, value, path: "\(path).payload.\(pathText.string)") {
                        when.payload.append(condition)
                    }
                }
            } else {
                problem("\(path).payload", at: payload, "expected payload paths with values (`{environment: staging}`), found \(payload.kind)")
            }
        }
        if let newAction = fields["new_action"] {
            switch Resolver.default.resolveTag(of: newAction) {
            case .bool: when.newAction = (newAction.bool ?? false)
            default: problem("\(path).new_action", at: newAction, "expected true or false")
            }
        }
        return when
    }

    mutating func payloadCondition(_ dotted: String, _ node: Node, path: String) -> PayloadCondition? {
        guard case .mapping(let mapping) = node else {
            guard let value = json(node, path: path) else { return nil }
            return PayloadCondition(path: dotted, [.eq(value)])
        }
        var tests: [PayloadCondition.Test] = []
        for (key, value) in mapping {
            guard case .scalar(let op) = key, PoliciesFile.operators.contains(op.string) else {
                let name = (key.scalar?.string).map { "`\($0)`" } ?? "this key"
                let closest = key.scalar.flatMap { Spelling.closest(to: $0.string, among: PoliciesFile.operators) }
                problem("\(path)", at: key, "\(name) is not a test\(closest.map { "; did you mean `\($0)`? The tests are" } ?? "; use") eq, ne, in, gt, gte, lt, lte or exists")
                continue
            }
            switch op.string {
            case "eq", "ne":
                guard let v = json(value, path: "\(path).\(op.string)") else { continue }
                tests.append(op.string == "eq" ? .eq(v) : .ne(v))
            case "in":
                guard case .sequence(let items) = value else {
                    problem("\(path).in", at: value, "expected a list of values, like `in: [eu-west-1, eu-central-1]`")
                    continue
                }
                tests.append(.in(items.compactMap { json($0, path: "\(path).in") }))
            case "exists":
                guard Resolver.default.resolveTag(of: value) == .bool, let b = value.bool else {
                    problem("\(path).exists", at: value, "expected true or false")
                    continue
                }
                tests.append(.exists(b))
            default:
                guard case .number(let n)? = json(value, path: "\(path).\(op.string)") else {
                    problem("\(path).\(op.string)", at: value, "`\(op.string)` compares numbers: give a number, like `\(op.string): 1000`")
                    continue
                }
                switch op.string {
                case "gt": tests.append(.gt(n))
                case "gte": tests.append(.gte(n))
                case "lt": tests.append(.lt(n))
                default: tests.append(.lte(n))
                }
            }
        }
        return tests.isEmpty ? nil : PayloadCondition(path: dotted, tests)
    }

    /// A YAML scalar or list as JSON: numbers as numbers, `true`/`false`, `null`, anything else a string.
    mutating func json(_ node: Node, path: String) -> JSONValue? {
        switch node {
        case .scalar(let scalar):
            switch Resolver.default.resolveTag(of: node) {
            case .null: return .null
            case .bool: return .bool(node.bool ?? false)
            case .int, .float:
                guard let number = Double(scalar.string.replacingOccurrences(of: "_", with: "")), number.isFinite else {
                    problem(path, at: node, "`\(scalar.string)` is not a number JSON can hold")
                    return nil
                }
                return .number(number)
            default: return .string(scalar.string)
            }
        case .sequence(let items):
            return .array(items.compactMap { json($0, path: path) })
        default:
            problem(path, at: node, "expected a value or a list of values, found \(node.kind)")
            return nil
        }
    }

    mutating func names(_ node: Node, path: String) -> [String] {
        guard case .sequence(let items) = node else {
            if let single = string(node, path: path, expected: "a list of names") { return [single] }
            return []
        }
        return items.enumerated().compactMap { index, item in string(item, path: "\(path)[\(index)]", expected: "a name") }
    }

    mutating func duration(_ node: Node, path: String) -> TimeInterval? {
        guard let text = string(node, path: path, expected: "a duration like `5m`") else { return nil }
        do {
            return try ChainDuration.parse(text)
        } catch {
            problem(path, at: node, "`\(text)` is not a duration: it \(error.reason)")
            return nil
        }
    }

    mutating func breakGlass(_ node: Node) -> BreakGlassPolicy? {
        guard let fields = fields(of: node, path: "break_glass", allowed: PoliciesFile.breakGlassKeys, what: "break_glass", example: "`roles:`, `review_within:` and `max_per_30d:`")
        else { return nil }
        var policy = BreakGlassPolicy(roles: fields["roles"].map { names($0, path: "break_glass.roles") } ?? [])
        if let within = fields["review_within"], let seconds = duration(within, path: "break_glass.review_within") { policy.reviewWithin = seconds }
        if let max = fields["max_per_30d"] {
            if let text = string(max, path: "break_glass.max_per_30d", expected: "a number"), let count = Int(text) {
                policy.maxPer30Days = count
            } else {
                problem("break_glass.max_per_30d", at: max, "expected a whole number, like `max_per_30d: 3`")
            }
        }
        return policy
    }
}
