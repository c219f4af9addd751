import ApprovalCore
import Foundation
import SlackRecords
import Synchronization

/// Every storage port in memory, for tests of the use cases and the Slack handlers without a database: the same
/// contract as the SQLite store (a commit is a compare-and-set on `before`, votes and audit entries are appended,
/// outbox rows are kept in order), plus ways for a test to look inside and to interfere.
public final class InMemoryStore: Sendable {
    private struct State {
        var approvals: [ApprovalID: Approval] = [:]
        /// Filing order, for lists (newest first).
        var order: [ApprovalID] = []
        var idempotency: [String: (digest: String, id: ApprovalID)] = [:]
        var chains: [String: EscalationChain] = [:]
        var policies = PolicySet.empty
        var breakGlass: [BreakGlassRecord] = []
        var admins: [String] = []
        var audit: [AuditEvent] = []
        var outbox: [NewOutboxItem] = []
        var messages: [SlackMessageRecord] = []
        var signatures: [String: Date] = [:]
        var commitCalls = 0
        var rejectedCommits: [ApprovalID] = []
        /// Stored right after the next `pendingDue` read: a concurrent change.
        var concurrentChange: Approval?
    }

    private let state = Mutex(State())
    public let outboxEnqueued = Wakeup()

    public init() {}

    // MARK: For tests

    /// Stores `approval` as it is, as if filed earlier.
    public func seed(_ approval: Approval) {
        state.withLock { state in
            if state.approvals[approval.id] == nil { state.order.append(approval.id) }
            state.approvals[approval.id] = approval
        }
    }

    /// Configures `chain` directly.
    public func setChain(_ chain: EscalationChain) { state.withLock { $0.chains[chain.name] = chain } }

    /// After the next `pendingDue` read, `change` is stored as if another process decided meanwhile.
    public func afterNextDueRead(_ change: Approval) { state.withLock { $0.concurrentChange = change } }

    public func stored(_ id: ApprovalID) -> Approval? { state.withLock { $0.approvals[id] } }
    /// Every audit entry appended, in order.
    public var audit: [AuditEvent] { state.withLock { $0.audit } }
    /// Every outbox row written, in order.
    public var outbox: [NewOutboxItem] { state.withLock { $0.outbox } }
    /// Every Slack message recorded, in order.
    public var messages: [SlackMessageRecord] { state.withLock { $0.messages } }
    public var commitCalls: Int { state.withLock { $0.commitCalls } }
    public var rejectedCommits: [ApprovalID] { state.withLock { $0.rejectedCommits } }
}

extension InMemoryStore: ApprovalRepository {
    public func insert(
        idempotency: IdempotencyKey?, build: @escaping @Sendable (any SubmitSnapshot) -> PlannedChange
    ) async throws -> InsertResult {
        let result = try state.withLock { state -> InsertResult in
            if let idempotency, let earlier = state.idempotency[idempotency.scope + "\u{0}" + idempotency.key] {
                guard earlier.digest == idempotency.requestDigest else { throw ApprovalError.idempotencyConflict }
                return .existing(state.approvals[earlier.id]!)
            }
            let change = build(Snapshot(state: state))
            let approval = change.transition.after
            state.approvals[approval.id] = approval
            state.order.append(approval.id)
            if let idempotency {
                state.idempotency[idempotency.scope + "\u{0}" + idempotency.key] = (idempotency.requestDigest, approval.id)
            }
            state.audit += change.transition.auditEvents
            state.outbox += change.outbox
            return .created(change.transition)
        }
        outboxEnqueued.signal()
        return result
    }

    public func approval(_ id: ApprovalID) async throws -> Approval? { stored(id) }

    public func commit(_ change: PlannedChange) async throws -> Bool {
        let transition = change.transition
        let committed = state.withLock { state -> Bool in
            state.commitCalls += 1
            guard let before = transition.before, state.approvals[before.id] == before else {
                state.rejectedCommits.append(transition.after.id)
                return false
            }
            let after = transition.after
            state.approvals[before.id] = after
            if before.status == .pending, let decision = after.decision, decision.breakGlass {
                let event = transition.auditEvents.first { $0.kind == .breakGlass }
                state.breakGlass.insert(BreakGlassRecord(
                    approvalID: after.id, action: after.action, by: decision.by, byName: decision.byName, at: decision.at,
                    reason: decision.reason ?? "", overLimit: event?.details["over_limit"] == .bool(true)), at: 0)
            }
            state.audit += transition.auditEvents
            state.outbox += change.outbox
            return true
        }
        if committed && !change.outbox.isEmpty { outboxEnqueued.signal() }
        return committed
    }

    public func pendingDue(asOf now: Date, limit: Int) async throws -> [Approval] {
        state.withLock { state in
            let due = state.approvals.values
                .filter { $0.status == .pending && $0.nextDeadline <= now }
                .sorted { ($0.nextDeadline, $0.id.rawValue) < ($1.nextDeadline, $1.id.rawValue) }
                .prefix(limit)
            if let change = state.concurrentChange {
                state.approvals[change.id] = change
                state.concurrentChange = nil
            }
            return Array(due)
        }
    }

    public func nextDeadline() async throws -> Date? {
        state.withLock { state in state.approvals.values.filter { $0.status == .pending }.map(\.nextDeadline).min() }
    }

    public func list(_ filter: ApprovalFilter, limit: Int, before: Int64?) async throws -> ApprovalPage {
        state.withLock { state in
            // Cursors are 1-based filing positions, as the database's sequence numbers are.
            let matching = state.order.enumerated().reversed().filter { index, id in
                guard let approval = state.approvals[id] else { return false }
                if let before, Int64(index + 1) >= before { return false }
                return filter.matches(approval)
            }
            let page = matching.prefix(limit)
            let next = matching.count > limit ? page.last.map { Int64($0.offset + 1) } : nil
            return ApprovalPage(approvals: page.compactMap { state.approvals[$0.element] }, next: next)
        }
    }

    public func countsByStatus() async throws -> [ApprovalStatus: Int] {
        state.withLock { state in
            Dictionary(grouping: state.approvals.values, by: \.status).mapValues(\.count)
        }
    }

    public func pendingByGate() async throws -> [String: PendingSummary] {
        state.withLock { state in
            Dictionary(grouping: state.approvals.values.filter { $0.status == .pending }, by: \.gate).mapValues { approvals in
                PendingSummary(count: approvals.count, oldest: approvals.map(\.createdAt).min()!)
            }
        }
    }

    public func append(_ event: AuditEvent) async throws {
        state.withLock { $0.audit.append(event) }
    }
}

extension InMemoryStore: OutboxQueue {
    public func enqueueOutboxItems(_ items: [NewOutboxItem]) async throws {
        state.withLock { $0.outbox += items }
        if !items.isEmpty { outboxEnqueued.signal() }
    }
}

extension InMemoryStore: ConfigurationStore {
    public func chains() async throws -> [EscalationChain] {
        state.withLock { $0.chains.values.sorted { $0.name < $1.name } }
    }

    public func chain(named name: String) async throws -> EscalationChain? {
        state.withLock { $0.chains[name] }
    }

    public func changeChains(
        by actor: String, _ plan: @escaping @Sendable ([EscalationChain]) throws -> [ChainChange]
    ) async throws -> [ChainChange] {
        try state.withLock { state in
            let changes = try plan(state.chains.values.sorted { $0.name < $1.name })
            for change in changes where change.kind != .unchanged {
                state.chains[change.name] = change.after
                state.audit.append(change.auditEvent(by: actor))
            }
            return changes
        }
    }

    public func pendingCount(gate name: String) async throws -> Int {
        state.withLock { state in
            state.approvals.values.filter { approval in
                approval.status == .pending && approval.chain != .default && approval.chain.name == name
                    && (name == EscalationChain.default.name || approval.gate == name)
            }.count
        }
    }

    public func storedAdmins() async throws -> [String] { state.withLock { $0.admins } }

    public func addAdmins(_ users: [String], by actor: String) async throws -> [String] {
        changeAdmins(by: actor) { admins in
            users.filter { user in
                guard !admins.contains(user) else { return false }
                admins.append(user)
                return true
            }
        }
    }

    public func removeAdmins(_ users: [String], by actor: String) async throws -> [String] {
        changeAdmins(by: actor) { admins in
            let removed = users.filter(admins.contains)
            admins.removeAll(where: removed.contains)
            return removed
        }
    }

    private func changeAdmins(by actor: String, _ change: (inout [String]) -> [String]) -> [String] {
        state.withLock { state in
            let before = state.admins
            let changed = change(&state.admins)
            if !changed.isEmpty {
                state.audit.append(AuditEvent.adminsChanged(before: before, after: state.admins, by: actor))
            }
            return changed
        }
    }
}

extension InMemoryStore: SlackMessageStore {
    public func recordSlackMessage(_ message: SlackMessageRecord, audit: AuditEvent?) async throws {
        state.withLock { state in
            state.messages.append(message)
            if let audit { state.audit.append(audit) }
        }
    }

    public func slackMessages(for id: ApprovalID) async throws -> [SlackMessageRecord] {
        state.withLock { $0.messages.filter { $0.approvalID == id } }
    }

    public func slackPermalinks(for ids: [ApprovalID]) async throws -> [ApprovalID: String] {
        state.withLock { state in
            var links: [ApprovalID: String] = [:]
            for message in state.messages where message.kind == .channel && ids.contains(message.approvalID) {
                links[message.approvalID] = message.permalink
            }
            return links
        }
    }

    public func updateSlackMessage(channel: String, ts: String, permalink: String?, shownSHA256: String?) async throws {
        state.withLock { state in
            for index in state.messages.indices where state.messages[index].channel == channel && state.messages[index].ts == ts {
                if let permalink { state.messages[index].permalink = permalink }
                if let shownSHA256 { state.messages[index].shownSHA256 = shownSHA256 }
            }
        }
    }
}

extension InMemoryStore: SlackSignatureStore {
    public func acceptedSlackSignatures(at now: Date) async throws -> [String: Date] {
        state.withLock { $0.signatures.filter { $0.value >= now } }
    }

    public func recordSlackSignature(_ signature: String, expiresAt: Date, now: Date) async throws -> Bool {
        state.withLock { state in
            state.signatures = state.signatures.filter { $0.value >= now }
            guard state.signatures[signature] == nil else { return false }
            state.signatures[signature] = expiresAt
            return true
        }
    }
}

extension InMemoryStore {
    /// A create's reads, from the state as it is inside the lock.
    private struct Snapshot: SubmitSnapshot {
        let state: State
        var policies: PolicySet { state.policies }

        func chain(named name: String) -> EscalationChain {
            state.chains[name] ?? state.chains[EscalationChain.default.name] ?? .default
        }

        func everApproved(gate: String, action: String) -> Bool {
            state.approvals.values.contains { $0.gate == gate && $0.action == action && $0.status.isApproved }
        }
    }

    /// Configures the policy set directly.
    public func setPolicies(_ policies: PolicySet) { state.withLock { $0.policies = policies } }
}

extension InMemoryStore: PolicyStore {
    public func policies() async throws -> PolicySet { state.withLock { $0.policies } }

    public func everApproved(gate: String, action: String) async throws -> Bool {
        state.withLock { Snapshot(state: $0).everApproved(gate: gate, action: action) }
    }

    public func changePolicies(
        by actor: String, _ change: @escaping @Sendable (PolicySet) throws -> PolicySet
    ) async throws -> (before: PolicySet, after: PolicySet) {
        try state.withLock { state in
            let before = state.policies
            let after = try change(before)
            if after != before {
                state.policies = after
                state.audit.append(AuditEvent.policiesChanged(before: before, after: after, by: actor))
            }
            return (before, after)
        }
    }
}

extension InMemoryStore: BreakGlassStore {
    public func breakGlassUses(unreviewedOnly: Bool) async throws -> [BreakGlassRecord] {
        state.withLock { state in state.breakGlass.filter { !unreviewedOnly || $0.reviewedAt == nil } }
    }

    public func breakGlassUse(_ id: ApprovalID) async throws -> BreakGlassRecord? {
        state.withLock { state in state.breakGlass.first { $0.approvalID == id } }
    }

    public func unreviewedBreakGlassCount() async throws -> Int {
        state.withLock { state in state.breakGlass.filter { $0.reviewedAt == nil }.count }
    }

    public func breakGlassCount(by actor: String, since: Date) async throws -> Int {
        state.withLock { state in state.breakGlass.filter { $0.by == actor && $0.at >= since }.count }
    }

    public func markBreakGlassReviewed(
        _ id: ApprovalID, by actor: String, at now: Date, audit: AuditEvent, outbox: [NewOutboxItem]
    ) async throws -> Bool {
        state.withLock { state in
            guard let index = state.breakGlass.firstIndex(where: { $0.approvalID == id && $0.reviewedAt == nil }) else { return false }
            state.breakGlass[index].reviewedBy = actor
            state.breakGlass[index].reviewedAt = now
            state.audit.append(audit)
            state.outbox += outbox
            return true
        }
    }

    public func markBreakGlassReminded(_ ids: [ApprovalID], at now: Date, outbox: [NewOutboxItem]) async throws {
        state.withLock { state in
            for index in state.breakGlass.indices where ids.contains(state.breakGlass[index].approvalID) {
                state.breakGlass[index].remindedAt = now
            }
            state.outbox += outbox
        }
    }
}
