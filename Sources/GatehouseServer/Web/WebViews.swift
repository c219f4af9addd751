import ApprovalCore
import Foundation
import SlackBridge

/// What the templates show, as plain values: the page never hands a domain value to a template, so what is escaped is
/// always a string the view chose to show.
enum WebViews {
    struct Layout {
        var title: String
        var body: String
        var signedIn: Bool
        var person: String?
        var csrf: String?
        var admin: Bool
        var onPending: Bool
        var onHistory: Bool
        var onBreakGlass: Bool
    }

    /// Which page of the navigation is shown.
    enum Section {
        case pending, history, breakGlass, other
    }

    struct StatusOption {
        var value: String
        var selected: Bool
    }

    struct HistoryRow {
        var id: String
        var action: String
        var risk: String
        var status: String
        var requester: String
        var gate: String
        var createdAt: String
        var decidedBy: String?
    }

    struct History {
        var statuses: [StatusOption]
        var gate: String
        var requester: String
        var q: String
        var rows: [HistoryRow]
        var hasRows: Bool
        var nextLink: String?
    }

    struct BreakGlassUseView {
        var id: String
        var action: String
        var by: String
        var at: String
        var reason: String
        var overLimit: Bool
        var reviewedBy: String?
        var csrf: String
    }

    struct BreakGlassList {
        var uses: [BreakGlassUseView]
        var hasUses: Bool
        var error: String?
        var flash: String?
    }

    struct Row {
        var id: String
        var action: String
        var risk: String
        var requester: String
        var age: String
        var deadlineLabel: String
        var deadlineIn: String
        var level: String
        var votes: String
        var reasoning: String?
    }

    struct PendingList {
        /// The rows as `WebTemplates.renderRows` rendered them.
        var rowsHTML: String
        var hasRows: Bool
        var count: Int
    }

    struct DecisionView {
        var outcome: String
        var by: String
        var at: String
        var reason: String?
        var reasonCode: String?
    }

    struct VoteView {
        var by: String
        var verdict: String
        var at: String
        var reason: String?
        var withdrawn: Bool
    }

    struct DiffLine {
        var kind: String
        var mark: String
        var text: String
    }

    struct AuditRow {
        var at: String
        var kind: String
        var actor: String
    }

    struct ReasonCodeOption {
        var value: String
        var label: String
        var selected: Bool
    }

    /// What a refused or invalid form brings back to the page: its sentence, and what the person typed.
    struct FormState {
        var error: String?
        var reasonError: String?
        var payloadError: String?
        var reason: String?
        var reasonCode: String?
        var editedPayload: String?
        var flash: String?
    }

    struct ApprovalPage {
        var id: String
        var action: String
        var risk: String
        var status: String
        var requester: String
        var gate: String
        var createdAt: String
        var age: String
        var expiresAt: String
        var pending: Bool
        var deadlineLabel: String
        var deadlineIn: String
        var level: String
        var reasoning: String?
        var consequences: String?
        var onReject: String?
        var policy: String?
        var slackLink: String?
        var decision: DecisionView?
        var payload: String
        var diff: [DiffLine]
        var hasDiff: Bool
        var votes: [VoteView]
        var hasVotes: Bool
        var decidable: Bool
        var csrf: String
        var error: String?
        var reasonError: String?
        var payloadError: String?
        var reason: String?
        var reasonCodes: [ReasonCodeOption]
        var editedPayload: String
        var flash: String?
        var audit: [AuditRow]
    }

    struct Message {
        var heading: String
        var text: String
    }

    static func who(_ id: String, name: String?) -> String {
        guard let name, !name.isEmpty, name != id else { return id }
        return "\(name) (\(id))"
    }

    static func historyRow(_ approval: Approval) -> HistoryRow {
        HistoryRow(
            id: approval.id.rawValue, action: approval.action, risk: approval.risk.rawValue, status: approval.status.rawValue,
            requester: approval.requester ?? "—", gate: approval.gate, createdAt: RFC3339.string(from: approval.createdAt),
            decidedBy: approval.decision.map { who($0.by, name: $0.byName) })
    }

    static func breakGlassUse(_ use: BreakGlassRecord, csrf: String) -> BreakGlassUseView {
        BreakGlassUseView(
            id: use.approvalID.rawValue, action: use.action, by: who(use.by, name: use.byName), at: RFC3339.string(from: use.at),
            reason: use.reason, overLimit: use.overLimit, reviewedBy: use.reviewedBy, csrf: csrf)
    }

    static func row(_ approval: Approval, now: Date) -> Row {
        let (label, remaining) = deadline(approval, now: now)
        return Row(
            id: approval.id.rawValue, action: approval.action, risk: approval.risk.rawValue, requester: approval.requester ?? "—",
            age: ChainDuration.glance(now.timeIntervalSince(approval.createdAt)), deadlineLabel: label, deadlineIn: remaining,
            level: "\(approval.escalationLevel) of \(max(1, approval.chain.levels.count))", votes: votes(approval),
            reasoning: approval.reasoning)
    }

    /// The time to the next step: an escalation to the next level, or the end (expiry or the chain's final action).
    static func deadline(_ approval: Approval, now: Date) -> (label: String, remaining: String) {
        let escalates = approval.nextDeadline < approval.expiresAt && approval.escalationLevel < approval.chain.levels.count
        return (escalates ? "Escalates in" : "Expires in", ChainDuration.glance(approval.nextDeadline.timeIntervalSince(now)))
    }

    static func votes(_ approval: Approval) -> String {
        let live = approval.votes.filter { $0.withdrawnAt == nil }
        let approvals = live.filter(\.countsAsApproval).count
        let needed = approval.policy?.isQuorum == true ? " of \(approval.policy?.requiredApprovals ?? 1) needed" : ""
        return "\(approvals) approving\(needed), \(live.count - approvals) rejecting"
    }

    static func approvalPage(
        _ approval: Approval, now: Date, slackLink: String?, audit: [AuditEntry], csrf: String, form: FormState
    ) -> ApprovalPage {
        let (label, remaining) = deadline(approval, now: now)
        let decided = approval.decision.map { decision in
            DecisionView(
                outcome: decision.outcome.rawValue + (decision.breakGlass ? " (break-glass)" : ""), by: who(decision.by, name: decision.byName),
                at: RFC3339.string(from: decision.at), reason: decision.reason,
                reasonCode: decision.reasonCode.map { RejectReasonCode(rawValue: $0)?.label ?? $0 })
        }
        let shown = approval.decision?.payload ?? approval.currentPayload
        let diff = shown == approval.payload ? [] : lineDiff(CanonicalJSON.pretty(approval.payload), CanonicalJSON.pretty(shown))
        let votes = approval.votes.map {
            VoteView(by: who($0.by, name: $0.byName), verdict: $0.verdict.rawValue, at: RFC3339.string(from: $0.at), reason: $0.reason,
                     withdrawn: $0.withdrawnAt != nil)
        }
        return ApprovalPage(
            id: approval.id.rawValue, action: approval.action, risk: approval.risk.rawValue, status: approval.status.rawValue,
            requester: approval.requester ?? "—", gate: approval.gate, createdAt: RFC3339.string(from: approval.createdAt),
            age: ChainDuration.glance(now.timeIntervalSince(approval.createdAt)), expiresAt: RFC3339.string(from: approval.expiresAt),
            pending: approval.status == .pending, deadlineLabel: label, deadlineIn: remaining,
            level: "\(approval.escalationLevel) of \(max(1, approval.chain.levels.count))", reasoning: approval.reasoning,
            consequences: approval.consequences, onReject: approval.onReject, policy: approval.policy?.name, slackLink: slackLink,
            decision: decided, payload: CanonicalJSON.pretty(shown), diff: diff, hasDiff: !diff.isEmpty, votes: votes,
            hasVotes: !votes.isEmpty, decidable: approval.status == .pending && now < approval.expiresAt, csrf: csrf,
            error: form.error, reasonError: form.reasonError, payloadError: form.payloadError, reason: form.reason,
            reasonCodes: RejectReasonCode.allCases.map {
                ReasonCodeOption(value: $0.rawValue, label: $0.label, selected: $0.rawValue == form.reasonCode)
            },
            editedPayload: form.editedPayload ?? CanonicalJSON.pretty(approval.currentPayload), flash: form.flash,
            audit: audit.map { AuditRow(at: RFC3339.string(from: $0.at), kind: $0.kind, actor: $0.actor) })
    }

    /// The lines of `new` against `old` by their longest common subsequence: kept, removed (`-`) and added (`+`).
    static func lineDiff(_ old: String, _ new: String) -> [DiffLine] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Payloads are at most 1 MiB; past a few thousand lines a whole-text replacement says as much.
        guard a.count * b.count <= 4_000_000 else {
            return a.map { DiffLine(kind: "del", mark: "-", text: $0) } + b.map { DiffLine(kind: "add", mark: "+", text: $0) }
        }
        var common = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var lines: [DiffLine] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                lines.append(DiffLine(kind: "same", mark: " ", text: a[i]))
                i += 1
                j += 1
            } else if j < b.count, i == a.count || common[i][j + 1] >= common[i + 1][j] {
                lines.append(DiffLine(kind: "add", mark: "+", text: b[j]))
                j += 1
            } else {
                lines.append(DiffLine(kind: "del", mark: "-", text: a[i]))
                i += 1
            }
        }
        return lines
    }
}
