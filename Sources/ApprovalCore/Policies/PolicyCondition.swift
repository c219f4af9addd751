import Foundation

/// When a rule applies: every condition given must hold (CONTRACT.md §7).
public struct PolicyCondition: Sendable, Equatable, Codable {
    public var gate: String?
    public var risk: [Risk]?
    /// Globs with `*`, matching the whole string.
    public var action: String?
    public var requester: String?
    /// Dotted path → tests, all of which must hold.
    public var payload: [PayloadCondition]
    /// Only when no request with this gate and action was ever approved.
    public var newAction: Bool?

    public init(
        gate: String? = nil, risk: [Risk]? = nil, action: String? = nil, requester: String? = nil,
        payload: [PayloadCondition] = [], newAction: Bool? = nil
    ) {
        self.gate = gate
        self.risk = risk
        self.action = action
        self.requester = requester
        self.payload = payload
        self.newAction = newAction
    }

    enum CodingKeys: String, CodingKey {
        case gate, risk, action, requester, payload
        case newAction = "new_action"
    }

    /// Whether `request` meets every condition.
    public func matches(_ request: ApprovalRequest, everApproved: () -> Bool) -> Bool {
        mismatch(request, explain: false, everApproved: everApproved) == nil
    }

    /// Whether `request` meets every condition, and if not, the first that failed: in words with `explain` (for
    /// `policies test`), else an empty sentence, so a create builds none. `everApproved` is asked only when the rule has
    /// `new_action`.
    public func mismatch(_ request: ApprovalRequest, explain: Bool = true, everApproved: () -> Bool) -> String? {
        func why(_ sentence: @autoclosure () -> String) -> String { explain ? sentence() : "" }
        if let gate, gate != request.gate { return why("gate is `\(request.gate)`, not `\(gate)`") }
        if let risk, !risk.contains(request.risk) {
            return why("risk is \(request.risk.rawValue), not \(risk.map(\.rawValue).joined(separator: " or "))")
        }
        if let action, !Glob.matches(action, request.action) { return why("action `\(request.action)` does not match `\(action)`") }
        if let requester {
            guard let who = request.requester else { return why("the request names no requester (rule wants `\(requester)`)") }
            if !Glob.matches(requester, who) { return why("requester `\(who)` does not match `\(requester)`") }
        }
        for condition in payload {
            if let failed = condition.mismatch(in: request.payload, explain: explain) { return failed }
        }
        if let newAction {
            let approvedBefore = everApproved()
            if newAction && approvedBefore { return why("`\(request.action)` was approved before on gate `\(request.gate)`") }
            if !newAction && !approvedBefore { return why("`\(request.action)` was never approved on gate `\(request.gate)`") }
        }
        return nil
    }
}

/// One payload condition: the value at a dotted path, and the tests it must pass.
public struct PayloadCondition: Sendable, Equatable, Codable {
    public var path: String { didSet { components = Self.components(of: path) } }
    public var tests: [Test]
    /// `path` split at its dots once, when the rule is read: a create tries every rule, and searching each rule's path
    /// for a dot on every request cost more than the rest of the evaluation together (BENCHMARKS.md, "Policies: 50
    /// rules against none").
    private var components: [String]

    public enum Test: Sendable, Equatable, Codable {
        case eq(JSONValue), ne(JSONValue), `in`([JSONValue])
        case gt(Double), gte(Double), lt(Double), lte(Double)
        case exists(Bool)

        public var name: String {
            switch self {
            case .eq: "eq"
            case .ne: "ne"
            case .in: "in"
            case .gt: "gt"
            case .gte: "gte"
            case .lt: "lt"
            case .lte: "lte"
            case .exists: "exists"
            }
        }

        /// Whether `value` (`nil`: the path is missing) passes. A missing value fails every test but
        /// `exists: false`; an order test on something that is not a number fails.
        public func holds(for value: JSONValue?) -> Bool {
            if case .exists(let wanted) = self { return (value != nil) == wanted }
            guard let value else { return false }
            switch self {
            case .eq(let expected): return value == expected
            case .ne(let unexpected): return value != unexpected
            case .in(let choices): return choices.contains(value)
            case .gt(let bound): return number(value).map { $0 > bound } ?? false
            case .gte(let bound): return number(value).map { $0 >= bound } ?? false
            case .lt(let bound): return number(value).map { $0 < bound } ?? false
            case .lte(let bound): return number(value).map { $0 <= bound } ?? false
            case .exists: return true
            }
        }

        private func number(_ value: JSONValue) -> Double? {
            if case .number(let number) = value { return number }
            return nil
        }
    }

    public init(path: String, _ tests: [Test]) {
        self.path = path
        self.tests = tests
        self.components = Self.components(of: path)
    }

    enum CodingKeys: String, CodingKey { case path, tests }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(path: try container.decode(String.self, forKey: .path), try container.decode([Test].self, forKey: .tests))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(tests, forKey: .tests)
    }

    private static func components(of path: String) -> [String] {
        path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The value at `path` in `payload`: object members by name, array elements by index (`items.0.sku`).
    public static func value(at path: String, in payload: JSONValue) -> JSONValue? {
        value(at: components(of: path), in: payload)
    }

    private static func value(at components: [String], in payload: JSONValue) -> JSONValue? {
        var current = payload
        for part in components {
            switch current {
            case .object(let members):
                guard let next = members[part] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(part), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    func mismatch(in payload: JSONValue, explain: Bool) -> String? {
        let value = Self.value(at: components, in: payload)
        for test in tests where !test.holds(for: value) {
            guard explain else { return "" }
            let shown = value.map { CanonicalJSON.serialize($0) } ?? "missing"
            return "payload.\(path) is \(shown.prefix(80)), which fails `\(test.name)`"
        }
        return nil
    }
}

/// Globs with `*` (any run of characters, also none), matching the whole string.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        if pattern == "*" { return true }
        if !pattern.contains("*") { return pattern == text }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(Array.init)
        let text = Array(text)
        if parts.count == 1 { return parts[0] == text }
        guard text.starts(with: parts[0]) else { return false }
        var position = parts[0].count
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let found = firstIndex(of: part, in: text, from: position) else { return false }
            position = found + part.count
        }
        let last = parts[parts.count - 1]
        return text.count - position >= last.count && text.suffix(last.count).elementsEqual(last)
    }

    private static func firstIndex(of part: [Character], in text: [Character], from start: Int) -> Int? {
        guard part.count <= text.count - start else { return nil }
        for index in start...(text.count - part.count) where text[index..<(index + part.count)].elementsEqual(part) {
            return index
        }
        return nil
    }
}

/// What the policies make of a request: the rule it matched (or none: one approval from the gate's chain), and the
/// rules tried on the way, with why each did not apply.
public struct PolicyEvaluation: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var rule: String
        /// `nil`: it matched. Otherwise why not (a condition, or the tier it may not apply to).
        public var skipped: String?
    }

    public var applied: AppliedPolicy?
    public var steps: [Step]

    /// `auto`, `notify` or `require`.
    public var outcome: String { applied?.then.kind ?? "require" }
}

extension PolicySet {
    /// The first rule whose conditions hold and whose tier allows the request's risk; `everApproved` answers
    /// `new_action` and is asked at most once.
    public func evaluate(_ request: ApprovalRequest, explain: Bool = true, everApproved: () -> Bool) -> PolicyEvaluation {
        var cached: Bool?
        let lookup = {
            if let cached { return cached }
            let answer = everApproved()
            cached = answer
            return answer
        }
        var steps: [PolicyEvaluation.Step] = []
        // By index, so that a rule that does not match is read in place rather than copied.
        for index in rules.indices {
            // The words of a mismatch only when asked for (`policies test`, evaluate): a create needs the match alone.
            if let why = rules[index].when.mismatch(request, explain: explain, everApproved: lookup) {
                if explain { steps.append(.init(rule: rules[index].name, skipped: why)) }
                continue
            }
            let rule = rules[index]
            let highest = rule.then.highestRisk
            if Risk.allCases.firstIndex(of: request.risk)! > Risk.allCases.firstIndex(of: highest)! {
                let allowed = highest == .low ? "low risk only" : "low and medium risk only"
                steps.append(.init(
                    rule: rule.name,
                    skipped: "matches, but `\(rule.then.kind)` applies to \(allowed) and this is \(request.risk.rawValue) risk"))
                continue
            }
            steps.append(.init(rule: rule.name, skipped: nil))
            let roles = rule.requiredRoles.compactMap(role(named:))
            return PolicyEvaluation(applied: AppliedPolicy(name: rule.name, then: rule.then, roles: roles), steps: steps)
        }
        return PolicyEvaluation(applied: nil, steps: steps)
    }

    /// Whether the rules ask whether an action is new at all (so the lookup is needed).
    public var usesNewAction: Bool { rules.contains { $0.when.newAction != nil } }
}

extension PolicyCondition {
    /// Each condition in words, for people: `gate deploy`, `risk low or medium`, `payload.cost > 1000`.
    public var described: [String] {
        var parts: [String] = []
        if let gate { parts.append("gate \(gate)") }
        if let risk { parts.append("risk " + risk.map(\.rawValue).joined(separator: " or ")) }
        if let action { parts.append("action \(action)") }
        if let requester { parts.append("requester \(requester)") }
        for condition in payload {
            for test in condition.tests {
                let value: String =
                    switch test {
                    case .eq(let v): "= " + CanonicalJSON.serialize(v)
                    case .ne(let v): "≠ " + CanonicalJSON.serialize(v)
                    case .in(let vs): "in " + CanonicalJSON.serialize(.array(vs))
                    case .gt(let n): "> " + CanonicalJSON.format(n)
                    case .gte(let n): "≥ " + CanonicalJSON.format(n)
                    case .lt(let n): "< " + CanonicalJSON.format(n)
                    case .lte(let n): "≤ " + CanonicalJSON.format(n)
                    case .exists(let b): b ? "is given" : "is not given"
                    }
                parts.append("payload.\(condition.path) \(value)")
            }
        }
        if let newAction { parts.append(newAction ? "an action never approved before" : "an action approved before") }
        return parts
    }
}
