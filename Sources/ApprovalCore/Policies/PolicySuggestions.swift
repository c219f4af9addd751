import Foundation

/// `gatehouse policies suggest`: classes of requests (gate, action, risk) that people approved every time, as
/// candidate rules with their evidence. It only suggests; nothing is applied.
public struct PolicySuggestion: Sendable {
    public var gate: String
    public var action: String
    public var risk: Risk
    public var approvals: Int
    public var first: Date
    public var last: Date
    /// Median time from filing to decision.
    public var medianTimeToDecision: TimeInterval
    /// Who approved, most often first.
    public var approvers: [(String, Int)]

    /// `auto` for low risk, `notify` for medium.
    public var outcome: String { risk == .low ? "auto" : "notify" }

    /// Classes approved by a person every time (never modified, rejected or left to expire) at least `minimum`
    /// times; only low and medium risk, which are all `auto` and `notify` may take. Cancelled requests say nothing.
    public static func suggest(from decided: [Approval], minimum: Int) -> [PolicySuggestion] {
        struct Key: Hashable { var gate: String, action: String, risk: Risk }
        var groups: [Key: [Approval]] = [:]
        for approval in decided where approval.status != .pending && approval.status != .cancelled {
            groups[Key(gate: approval.gate, action: approval.action, risk: approval.risk), default: []].append(approval)
        }
        return groups.compactMap { key, approvals -> PolicySuggestion? in
            guard key.risk == .low || key.risk == .medium, approvals.count >= minimum else { return nil }
            // Approved by people: a policy's or a timeout's approval is no evidence of what people think.
            guard approvals.allSatisfy({ $0.status == .approved && $0.decision.map(isPerson) == true }) else { return nil }
            let times = approvals.compactMap { a in a.decision.map { $0.at.timeIntervalSince(a.createdAt) } }.sorted()
            let median = times.isEmpty ? 0 : times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            var counts: [String: Int] = [:]
            for approval in approvals { counts[approval.decision.map { $0.byName ?? $0.by } ?? "?", default: 0] += 1 }
            let dates = approvals.map(\.createdAt)
            return PolicySuggestion(
                gate: key.gate, action: key.action, risk: key.risk, approvals: approvals.count, first: dates.min()!, last: dates.max()!,
                medianTimeToDecision: median, approvers: counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) })
        }.sorted { ($0.gate, $0.action, $0.risk.rawValue) < ($1.gate, $1.action, $1.risk.rawValue) }
    }

    private static func isPerson(_ decision: Decision) -> Bool {
        !decision.by.hasPrefix("policy:") && !decision.by.hasPrefix("system:") && !decision.breakGlass
    }
}
