import DomainTestSupport
import Foundation
import Synchronization
import Testing

@testable import ApprovalCore

/// Escalation as approvals see it: the chain snapshot and first deadline a request gets, `advancing(at:)` step by
/// step, who may decide at each level, and the service's use of the repository for both.
@Suite("Escalation transitions")
struct EscalationTransitionTests {
    typealias Level = EscalationChain.Level

    /// 2026-11-22T01:22:43Z: when the request is filed and level 1 starts.
    static let t0 = Date(timeIntervalSince1970: 1_795_310_563)
    static let minute: TimeInterval = 60
    static let hour: TimeInterval = 3_600
    static func at(_ offset: TimeInterval) -> Date { t0.addingTimeInterval(offset) }

    static let requester = "agent:deploy-bot"
    static let id = ApprovalID(rawValue: "apr_escalation000000000000")

    /// `deploy-prod: <@U1> <@U2> 30m → <!subteam^S1> 1h → <@U3> 2h → then …`; levels start at 0, 30m and 1h30m and
    /// the chain ends at 3h30m.
    static func threeLevels(_ finalAction: EscalationChain.FinalAction = .reject) -> EscalationChain {
        Fixture.threeLevels(finalAction)
    }

    static let chainEnd = at(210 * minute)

    static func request(
        gate: String = "deploy-prod", risk: Risk = .high, requester: String? = requester, expiresIn: Int? = nil,
        callbackURL: String? = nil
    ) -> ApprovalRequest {
        ApprovalRequest(
            action: "Deploy api to production", payload: .object(["service": .string("api")]), risk: risk, gate: gate,
            requester: requester, expiresIn: expiresIn, callbackURL: callbackURL
        )
    }

    /// A request filed at `t0` under `chain`.
    static func pending(
        _ chain: EscalationChain = threeLevels(), risk: Risk = .high, requester: String? = requester, expiresIn: Int? = nil,
        callbackURL: String? = nil, id: ApprovalID = id, at created: Date = t0
    ) -> Approval {
        request(gate: chain.name, risk: risk, requester: requester, expiresIn: expiresIn, callbackURL: callbackURL)
            .approval(id: id, ownerKey: "ci", at: created, chain: chain)
    }

    /// Calls `advancing(at: now)` on each result until it returns nil (bounded, so a loop that never ends fails).
    static func drain(_ approval: Approval, at now: Date) -> [ApprovalTransition] {
        var steps: [ApprovalTransition] = []
        var current = approval
        for _ in 0..<20 {
            guard let step = current.advancing(at: now) else { return steps }
            steps.append(step)
            current = step.after
        }
        Issue.record("advancing(at:) never returned nil")
        return steps
    }

    static func advanced(_ approval: Approval, at now: Date) throws -> ApprovalTransition {
        try #require(approval.advancing(at: now))
    }

    /// The approval at level 3 of `threeLevels`, reached on time.
    static func atLastLevel(_ chain: EscalationChain, risk: Risk = .high, callbackURL: String? = nil) throws -> Approval {
        let first = try advanced(pending(chain, risk: risk, callbackURL: callbackURL), at: at(30 * minute))
        let second = try advanced(first.after, at: at(90 * minute))
        #expect(second.after.escalationLevel == 3)
        return second.after
    }

    // MARK: ApprovalRequest: lifetime and first deadline

    @Test("defaultLifetime: 24 h for the default chain and for chains shorter than a day")
    func defaultLifetimeShortChains() {
        #expect(ApprovalRequest.defaultLifetime(for: .default) == 86_400)
        #expect(ApprovalRequest.defaultLifetime(for: Self.threeLevels()) == 86_400)
    }

    @Test("defaultLifetime: the sum of the SLAs when the chain is longer than a day")
    func defaultLifetimeLongChain() {
        let chain = EscalationChain(
            name: "slow",
            levels: [Level(approvers: [.user("U1")], sla: 2 * 86_400), Level(approvers: [.user("U2")], sla: 86_400 + 1)]
        )
        #expect(ApprovalRequest.defaultLifetime(for: chain) == 3 * 86_400 + 1)
    }

    @Test("defaultLifetime: capped at 30 days")
    func defaultLifetimeCapped() {
        let chain = EscalationChain(
            name: "glacial",
            levels: [Level(approvers: [.user("U1")], sla: 20 * 86_400), Level(approvers: [.user("U2")], sla: 20 * 86_400)]
        )
        #expect(ApprovalRequest.defaultLifetime(for: chain) == 30 * 86_400)
    }

    @Test("approval(…chain:) snapshots the chain, starts level 1 at creation, first deadline at level 1's SLA")
    func approvalSnapshotsChain() {
        let chain = Self.threeLevels(.hold)
        let approval = Self.pending(chain)
        #expect(approval.chain == chain)
        #expect(approval.escalationLevel == 1)
        #expect(approval.createdAt == Self.t0)
        #expect(approval.levelStartedAt == Self.t0)
        #expect(approval.nextDeadline == Self.at(30 * Self.minute))
        #expect(approval.expiresAt == Self.at(24 * Self.hour))
        #expect(approval.chain.level(approval.escalationLevel).approvers == [.user("U1"), .user("U2")])
    }

    @Test("approval(…chain:) with no expires_in lives as long as a chain longer than a day")
    func approvalLifetimeFromChain() {
        let chain = EscalationChain(
            name: "slow",
            levels: [Level(approvers: [.user("U1")], sla: 2 * 86_400), Level(approvers: [.user("U2")], sla: 86_400)]
        )
        let approval = Self.pending(chain)
        #expect(approval.expiresAt == Self.at(3 * 86_400))
        #expect(approval.nextDeadline == Self.at(2 * 86_400))
    }

    @Test("approval(…chain:): an explicit expires_in wins over the chain's length")
    func approvalExplicitExpiresInWins() {
        let chain = EscalationChain(
            name: "slow",
            levels: [Level(approvers: [.user("U1")], sla: 2 * 86_400), Level(approvers: [.user("U2")], sla: 86_400)]
        )
        let approval = Self.pending(chain, expiresIn: 7_200)
        #expect(approval.expiresAt == Self.at(7_200))
        #expect(approval.nextDeadline == Self.at(7_200), "level 1's SLA ends after expires_at")
    }

    @Test("approval(…chain:): the first deadline is expires_at when that comes before level 1's SLA ends")
    func approvalFirstDeadlineCappedByExpiry() {
        let approval = Self.pending(expiresIn: 600)
        #expect(approval.expiresAt == Self.at(600))
        #expect(approval.nextDeadline == Self.at(600))
    }

    @Test("approval(…chain: .default): the next deadline is expires_at", arguments: [nil, 60, 2_592_000] as [Int?])
    func approvalDefaultChainDeadline(expiresIn: Int?) {
        let approval = Self.pending(.default, expiresIn: expiresIn)
        #expect(approval.chain == .default)
        #expect(approval.expiresAt == Self.at(TimeInterval(expiresIn ?? 86_400)))
        #expect(approval.nextDeadline == approval.expiresAt)
        #expect(approval.levelStartedAt == Self.t0)
    }

    // MARK: advancing: when nothing happens

    @Test("advancing is nil before the next deadline")
    func notDue() {
        let approval = Self.pending()
        #expect(approval.advancing(at: Self.t0) == nil)
        #expect(approval.advancing(at: Self.at(30 * Self.minute - 0.001)) == nil)
        #expect(approval.advancing(at: Self.at(30 * Self.minute)) != nil)
    }

    @Test("advancing is nil for a decided or cancelled approval, however late")
    func decidedNeverAdvances() throws {
        let approval = Self.pending()
        let decided = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Self.at(minute))
        let cancelled = try approval.cancelling(by: .key(named: "ci"), at: Self.at(minute))
        for after in [decided.after, cancelled.after] {
            #expect(after.advancing(at: Self.at(30 * Self.minute)) == nil)
            #expect(after.advancing(at: Self.at(30 * 86_400)) == nil)
        }
    }

    var minute: TimeInterval { Self.minute }

    // MARK: advancing: escalation

    @Test("escalate: level 2 starts at level 1's deadline, with an audit entry and a ping for level 2")
    func escalateOnTime() throws {
        let approval = Self.pending()
        let step = try Self.advanced(approval, at: Self.at(30 * minute))
        #expect(step.before == approval)
        var expected = approval
        expected.escalationLevel = 2
        expected.levelStartedAt = Self.at(30 * minute)
        expected.nextDeadline = Self.at(90 * minute)
        expected.revision += 1
        #expect(step.after == expected)
        let event = AuditEvent(
            .escalated, approvalID: Self.id, actor: "system:escalation",
            details: [
                "from_level": .number(1), "to_level": .number(2), "levels": .number(3), "chain": .string("deploy-prod"),
                "sla": .number(1800), "approvers": .array([.object(["group": .string("S1")])]),
                "next_deadline": .string("2026-11-22T02:52:43Z"),
            ]
        )
        #expect(step.effects == [.audit(event), .notifyApprovers(level: 2, repeated: false)])
    }

    @Test("escalate called late: the new level starts when the previous SLA ended, not when the scheduler ran")
    func escalateLate() throws {
        let step = try Self.advanced(Self.pending(), at: Self.at(45 * minute))
        #expect(step.after.escalationLevel == 2)
        #expect(step.after.levelStartedAt == Self.at(30 * minute))
        #expect(step.after.nextDeadline == Self.at(90 * minute))
        #expect(step.effects.last == .notifyApprovers(level: 2, repeated: false))
    }

    @Test("escalate to the last level: details name its SLA-ending level, approvers and deadline")
    func escalateToLastLevel() throws {
        let second = try Self.advanced(Self.pending(), at: Self.at(30 * minute))
        let third = try Self.advanced(second.after, at: Self.at(90 * minute))
        #expect(third.before == second.after)
        #expect(third.after.escalationLevel == 3)
        #expect(third.after.levelStartedAt == Self.at(90 * minute))
        #expect(third.after.nextDeadline == Self.chainEnd)
        #expect(third.after.chain.level(third.after.escalationLevel).approvers == [.user("U3")])
        let event = try #require(third.auditEvents.first)
        #expect(
            event.details
                == .object([
                    "from_level": .number(2), "to_level": .number(3), "levels": .number(3), "chain": .string("deploy-prod"),
                    "sla": .number(3600), "approvers": .array([.object(["user": .string("U3")])]),
                    "next_deadline": .string("2026-11-22T04:52:43Z"),
                ]))
        #expect(third.effects.count == 2)
        #expect(third.effects.last == .notifyApprovers(level: 3, repeated: false))
    }

    @Test("escalate: the next level's deadline is capped by expires_at, which then expires it plainly")
    func escalateDeadlineCappedByExpiry() throws {
        let approval = Self.pending(expiresIn: 3_600)
        let step = try Self.advanced(approval, at: Self.at(30 * minute))
        #expect(step.after.escalationLevel == 2)
        #expect(step.after.nextDeadline == Self.at(3_600))
        #expect(step.auditEvents.first?.details["next_deadline"] == .string("2026-11-22T02:22:43Z"))
        #expect(step.after.advancing(at: Self.at(3_599)) == nil)
        let expiry = try Self.advanced(step.after, at: Self.at(3_600))
        #expect(expiry.after.status == .expired)
        #expect(expiry.after.escalationLevel == 2)
        #expect(expiry.after.decision?.by == "system:timeout")
        #expect(expiry.after.decision?.reason == "No decision before the deadline.")
    }

    // MARK: advancing: the end of the chain

    @Test("then reject: at the chain's end before expires_at it expires, decided by system:timeout, waking waiters")
    func finalReject() throws {
        let last = try Self.atLastLevel(Self.threeLevels(.reject), callbackURL: "https://ci.example.com/hook")
        let step = try Self.advanced(last, at: Self.chainEnd)
        #expect(step.before == last)
        #expect(step.after.status == .expired)
        let decision = try #require(step.after.decision)
        #expect(decision.outcome == .expired)
        #expect(decision.by == "system:timeout")
        #expect(decision.at == Self.chainEnd)
        #expect(decision.reason?.contains("then reject") == true)
        #expect(step.auditEvents.map(\.kind) == [.expired])
        #expect(step.auditEvents.first?.actor == "system:timeout")
        #expect(step.effects.contains(.wakeWaiters))
        #expect(step.effects.contains(.deliverCallback(url: "https://ci.example.com/hook")))
        #expect(!step.effects.contains { if case .notifyApprovers = $0 { true } else { false } })
        #expect(step.after.advancing(at: Self.chainEnd) == nil)
    }

    @Test("then approve: a low-risk request is approved by policy:then-approve at the chain's end")
    func finalApproveLowRisk() throws {
        let last = try Self.atLastLevel(Self.threeLevels(.approve), risk: .low)
        let step = try Self.advanced(last, at: Self.chainEnd)
        #expect(step.after.status == .approved)
        let decision = try #require(step.after.decision)
        #expect(decision.outcome == .approved)
        #expect(decision.by == "policy:then-approve")
        #expect(decision.payload == last.payload)
        #expect(decision.payloadSHA256 == last.payloadSHA256)
        #expect(step.auditEvents.map(\.kind) == [.decided])
        #expect(step.auditEvents.first?.actor == "policy:then-approve")
        #expect(step.effects.contains(.wakeWaiters))
    }

    @Test("then approve: any risk other than low expires instead", arguments: [Risk.medium, .high, .critical])
    func finalApproveOtherRisk(risk: Risk) throws {
        let last = try Self.atLastLevel(Self.threeLevels(.approve), risk: risk)
        let step = try Self.advanced(last, at: Self.chainEnd)
        #expect(step.after.status == .expired)
        #expect(step.after.decision?.by == "system:timeout")
        #expect(step.auditEvents.map(\.kind) == [.expired])
    }

    @Test("then hold: the last level is asked again, its deadline moved by its SLA, the level and its start kept")
    func holdRepings() throws {
        let last = try Self.atLastLevel(Self.threeLevels(.hold))
        let step = try Self.advanced(last, at: Self.chainEnd)
        var expected = last
        expected.nextDeadline = Self.at(5.5 * Self.hour)
        expected.revision += 1
        #expect(step.after == expected)
        let event = AuditEvent(
            .escalated, approvalID: Self.id, actor: "system:escalation",
            details: [
                "from_level": .number(3), "to_level": .number(3), "levels": .number(3), "chain": .string("deploy-prod"),
                "repeated": .bool(true), "sla": .number(7200), "approvers": .array([.object(["user": .string("U3")])]),
                "next_deadline": .string("2026-11-22T06:52:43Z"),
            ]
        )
        #expect(step.effects == [.audit(event), .notifyApprovers(level: 3, repeated: true)])
        let again = try Self.advanced(step.after, at: Self.at(5.5 * Self.hour))
        #expect(again.after.nextDeadline == Self.at(7.5 * Self.hour))
        #expect(again.effects.last == .notifyApprovers(level: 3, repeated: true))
    }

    @Test("then hold: re-pings missed while nothing ran are not sent in a burst; the next is the next future slot")
    func holdNoBurst() throws {
        let last = try Self.atLastLevel(Self.threeLevels(.hold))
        // Due at 3h30m, 5h30m, 7h30m and 9h30m; the scheduler comes back at 10h.
        let steps = Self.drain(last, at: Self.at(10 * Self.hour))
        #expect(steps.count == 1)
        #expect(steps.first?.after.nextDeadline == Self.at(11.5 * Self.hour))
        #expect(steps.first?.effects.last == .notifyApprovers(level: 3, repeated: true))
    }

    @Test("then hold: the re-ping deadline is capped by expires_at, which then expires it")
    func holdUntilExpiry() throws {
        // 4 h of life: the chain ends at 3h30m, so the first re-ping is due at expires_at.
        let approval = Self.pending(Self.threeLevels(.hold), expiresIn: 4 * 3_600)
        let steps = Self.drain(approval, at: Self.at(4 * Self.hour - 1))
        #expect(steps.map(\.after.nextDeadline) == [Self.at(90 * minute), Self.chainEnd, Self.at(4 * Self.hour)])
        #expect(steps.last?.effects.last == .notifyApprovers(level: 3, repeated: true))
        let expiry = try Self.advanced(try #require(steps.last).after, at: Self.at(4 * Self.hour))
        #expect(expiry.after.status == .expired)
        #expect(expiry.after.decision?.reason == "No decision before the deadline.")
    }

    @Test("a scheduler that comes back after expires_at expires the request without escalating first")
    func lateAfterExpiry() {
        let steps = Self.drain(Self.pending(Self.threeLevels(.hold), expiresIn: 4 * 3_600), at: Self.at(5 * Self.hour))
        #expect(steps.count == 1)
        #expect(steps.first?.after.status == .expired)
        #expect(steps.first?.after.escalationLevel == 1)
        #expect(steps.first?.auditEvents.map(\.kind) == [.expired])
    }

    // MARK: advancing: expires_at first

    @Test("expires_at before level 1's SLA ends: a plain expiry at expires_at, no escalation")
    func expiresBeforeFirstSLA() throws {
        let approval = Self.pending(expiresIn: 600)
        #expect(approval.advancing(at: Self.at(599)) == nil)
        let step = try Self.advanced(approval, at: Self.at(600))
        #expect(step.after.status == .expired)
        #expect(step.after.escalationLevel == 1)
        let decision = try #require(step.after.decision)
        #expect(decision.by == "system:timeout")
        #expect(decision.at == Self.at(600))
        #expect(decision.reason == "No decision before the deadline.")
        #expect(step.auditEvents.map(\.kind) == [.expired])
        #expect(step.effects.contains(.wakeWaiters))
        #expect(!step.effects.contains { if case .notifyApprovers = $0 { true } else { false } })
    }

    @Test("the default chain never escalates: nothing until expires_at, then a plain expiry")
    func defaultChainExpires() throws {
        let approval = Self.pending(.default, expiresIn: 3_600)
        #expect(approval.advancing(at: Self.at(3_599)) == nil)
        let steps = Self.drain(approval, at: Self.at(3_600))
        #expect(steps.count == 1)
        #expect(steps.first?.after.status == .expired)
        #expect(steps.first?.after.escalationLevel == 1)
        #expect(steps.first?.after.decision?.by == "system:timeout")
    }

    // MARK: advancing: a late scheduler

    @Test("a late scheduler fires each overdue level once, in order, then the final action, then nothing")
    func lateSchedulerReject() throws {
        let approval = Self.pending(Self.threeLevels(.reject))
        let late = Self.at(5 * Self.hour)
        let steps = Self.drain(approval, at: late)
        #expect(steps.count == 3)
        guard steps.count == 3 else { return }
        #expect(steps[0].before == approval)
        #expect(steps[1].before == steps[0].after)
        #expect(steps[2].before == steps[1].after)
        #expect(steps.map(\.after.escalationLevel) == [2, 3, 3])
        #expect(steps[0].after.levelStartedAt == Self.at(30 * minute))
        #expect(steps[0].after.nextDeadline == Self.at(90 * minute))
        #expect(steps[1].after.levelStartedAt == Self.at(90 * minute))
        #expect(steps[1].after.nextDeadline == Self.chainEnd)
        #expect(steps[0].effects.last == .notifyApprovers(level: 2, repeated: false))
        #expect(steps[1].effects.last == .notifyApprovers(level: 3, repeated: false))
        #expect(steps[2].after.status == .expired)
        #expect(steps[2].after.decision?.by == "system:timeout")
        // It expired when the chain ended, not when the late scheduler noticed.
        #expect(steps[2].after.decision?.at == Self.chainEnd)
        #expect(steps.flatMap(\.auditEvents).map(\.kind) == [.escalated, .escalated, .expired])
    }

    @Test("a late scheduler on a hold chain escalates each level once, then asks the last level once")
    func lateSchedulerHold() throws {
        let steps = Self.drain(Self.pending(Self.threeLevels(.hold)), at: Self.at(10 * Self.hour))
        #expect(
            steps.map(\.effects.last) == [
                .notifyApprovers(level: 2, repeated: false), .notifyApprovers(level: 3, repeated: false),
                .notifyApprovers(level: 3, repeated: true),
            ].map(Optional.some))
        #expect(steps.last?.after.nextDeadline == Self.at(11.5 * Self.hour))
        #expect(steps.last?.after.status == .pending)
    }

    // MARK: advancing: rescheduling

    @Test("a next deadline earlier than the chain's real one is moved forward quietly, with no effects")
    func waitReschedules() throws {
        var approval = Self.pending()
        approval.nextDeadline = Self.at(10 * minute)
        #expect(approval.advancing(at: Self.at(9 * minute)) == nil)
        let step = try Self.advanced(approval, at: Self.at(10 * minute))
        #expect(step.before == approval)
        #expect(step.effects.isEmpty)
        var expected = approval
        expected.nextDeadline = Self.at(30 * minute)
        expected.revision += 1
        #expect(step.after == expected)
        #expect(step.after.advancing(at: Self.at(10 * minute)) == nil)
    }

    @Test("rescheduling caps the moved deadline by expires_at")
    func waitReschedulesCapped() throws {
        var approval = Self.pending(expiresIn: 1_200)
        approval.nextDeadline = Self.at(5 * minute)
        let step = try Self.advanced(approval, at: Self.at(6 * minute))
        #expect(step.effects.isEmpty)
        #expect(step.after.nextDeadline == Self.at(1_200))
        #expect(step.after.status == .pending)
    }

    // MARK: deciding with group members

    @Test("groupMembers nil (the API) bypasses the chain: anyone but the requester decides at any level")
    func apiBypassesChain() throws {
        let step = try Self.pending().deciding(DecisionCommand(.approve, by: .key(named: "deployer")), at: Self.at(minute))
        #expect(step.after.status == .approved)
        #expect(step.after.decision?.by == "key:deployer")
    }

    @Test("a user not named at the current level is refused with the approvers of levels 1…k")
    func notApproverListsLevelsUpToCurrent() {
        var approval = Self.pending()
        let command = DecisionCommand(.approve, by: .slackUser("U9"))
        #expect(throws: ApprovalError.notApprover(level: 1, of: 3, approvers: [.user("U1"), .user("U2")])) {
            try approval.deciding(command, at: Self.at(minute))
        }
        approval.escalationLevel = 2
        #expect(throws: ApprovalError.notApprover(level: 2, of: 3, approvers: [.user("U1"), .user("U2"), .group("S1")])) {
            try approval.deciding(command, at: Self.at(minute))
        }
        approval.escalationLevel = 3
        #expect(
            throws: ApprovalError.notApprover(level: 3, of: 3, approvers: [.user("U1"), .user("U2"), .group("S1"), .user("U3")])
        ) {
            try approval.deciding(command, at: Self.at(minute))
        }
    }

    @Test("the refusal does not offer the requester as someone who may decide, even when the chain names them")
    func refusalLeavesOutTheRequester() {
        let approval = Self.pending(requester: "U1")
        #expect(throws: ApprovalError.notApprover(level: 1, of: 3, approvers: [.user("U2")])) {
            try approval.deciding(DecisionCommand(.approve, by: .slackUser("U9")), at: Self.at(minute))
        }
    }

    @Test("a user named at level 1 decides with an empty group map")
    func levelOneApproverDecides() throws {
        let step = try Self.pending().deciding(DecisionCommand(.reject, by: .slackUser("U2")), at: Self.at(minute))
        #expect(step.after.status == .rejected)
        #expect(step.after.decision?.by == "U2")
    }

    @Test("an approver of a later level is refused until the request reaches that level")
    func laterLevelWaitsItsTurn() throws {
        var approval = Self.pending()
        let command = DecisionCommand(.approve, by: .slackUser("U3"))
        for level in [1, 2] {
            approval.escalationLevel = level
            #expect(throws: ApprovalError.self) { try approval.deciding(command, at: Self.at(minute)) }
        }
        approval.escalationLevel = 3
        #expect(try approval.deciding(command, at: Self.at(minute)).after.status == .approved)
        // Authority accumulates: level 1's approvers still decide at level 3.
        #expect(
            try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Self.at(minute)).after.status
                == .approved)
    }

    @Test("a group member decides once the group's level is reached and they were found in the group")
    func groupMemberDecides() throws {
        var approval = Self.pending()
        let member = DecisionCommand(.approve, by: .slackUser("U7", groups: ["S1"]))
        #expect(throws: ApprovalError.notApprover(level: 1, of: 3, approvers: [.user("U1"), .user("U2")])) {
            try approval.deciding(member, at: Self.at(minute))
        }
        approval.escalationLevel = 2
        #expect(try approval.deciding(member, at: Self.at(minute)).after.decision?.by == "U7")
        // The same user found in no group, or only in another group, is refused.
        for groups in [[], ["S2"]] as [Set<String>] {
            #expect(throws: ApprovalError.self) {
                try approval.deciding(DecisionCommand(.approve, by: .slackUser("U7", groups: groups)), at: Self.at(minute))
            }
        }
    }

    @Test("the requester is refused as self-approval even when named as an approver")
    func requesterStillRefused() {
        let named = Self.pending(requester: "U1")
        #expect(throws: ApprovalError.selfApproval) {
            try named.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Self.at(minute))
        }
        let unnamed = Self.pending(requester: "U9")
        #expect(throws: ApprovalError.selfApproval) {
            try unnamed.deciding(DecisionCommand(.approve, by: .slackUser("U9")), at: Self.at(minute))
        }
    }

    @Test("the default chain lets anyone but the requester decide with an empty group map")
    func defaultChainOpen() throws {
        let approval = Self.pending(.default)
        let step = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U42")), at: Self.at(minute))
        #expect(step.after.status == .approved)
        #expect(throws: ApprovalError.selfApproval) {
            try approval.deciding(DecisionCommand(.approve, by: .slackUser(Self.requester)), at: Self.at(minute))
        }
    }

    // MARK: groupsToCheck

    @Test("groupsToCheck names the groups of the levels reached so far, each once, and none for a named user")
    func groupsToCheck() {
        let chain = EscalationChain(
            name: "x",
            levels: [
                Level(approvers: [.user("U1"), .group("S2")], sla: 60),
                Level(approvers: [.group("S1"), .group("S2")], sla: 60),
                Level(approvers: [.group("S3"), .user("U2"), .group("S1")], sla: 60),
            ]
        )
        #expect(chain.groupsToCheck(for: "U9", atLevel: 1) == ["S2"])
        #expect(chain.groupsToCheck(for: "U9", atLevel: 2) == ["S2", "S1"])
        #expect(chain.groupsToCheck(for: "U9", atLevel: 3) == ["S2", "S1", "S3"])
        // Named directly at a reached level: nothing to look up.
        #expect(chain.groupsToCheck(for: "U1", atLevel: 1).isEmpty)
        #expect(chain.groupsToCheck(for: "U2", atLevel: 3).isEmpty)
        // Named only at a later level: the reached levels' groups still decide.
        #expect(chain.groupsToCheck(for: "U2", atLevel: 2) == ["S2", "S1"])
        #expect(Self.threeLevels().groupsToCheck(for: "U9", atLevel: 1).isEmpty)
        #expect(Self.threeLevels().groupsToCheck(for: "U9", atLevel: 2) == ["S1"])
        #expect(EscalationChain.default.groupsToCheck(for: "U9", atLevel: 1).isEmpty)
    }
}

// MARK: - The service, over an in-memory repository

extension EscalationTransitionTests {
    @Suite("Escalation through ApprovalService")
    struct ServiceTests {
        static let t0 = EscalationTransitionTests.t0
        static func at(_ offset: TimeInterval) -> Date { EscalationTransitionTests.at(offset) }
        static let minute: TimeInterval = 60
        var minute: TimeInterval { Self.minute }

        static func approval(
            _ chain: EscalationChain = EscalationTransitionTests.threeLevels(), _ n: Int = 0, at created: Date = t0,
            level: Int = 1
        ) -> Approval {
            var approval = EscalationTransitionTests.pending(
                chain, id: ApprovalID(rawValue: "apr_service\(n)000000000000000"), at: created)
            approval.escalationLevel = level
            return approval
        }

        static func make(_ approvals: [Approval], now: Date) -> (ApprovalService, InMemoryStore, RecordingObserver) {
            let repository = InMemoryStore()
            for approval in approvals { repository.seed(approval) }
            let observer = RecordingObserver()
            return (ApprovalService(repository: repository, clock: TestClock(now: now), observer: observer), repository, observer)
        }

        @Test("submit files the request under a snapshot of its gate's chain, read through the repository")
        func submitSnapshotsChain() async throws {
            let (service, repository, _) = Self.make([], now: Self.t0)
            let chain = EscalationTransitionTests.threeLevels(.hold)
            repository.setChain(chain)
            let (approval, created) = try await service.submit(EscalationTransitionTests.request(), by: .key(named: "ci", scope: .request))
            #expect(created)
            #expect(approval.chain == chain)
            #expect(approval.nextDeadline == Self.at(30 * minute))
            #expect(repository.stored(approval.id) == approval)
            let other = try await service.submit(EscalationTransitionTests.request(gate: "other"), by: .key(named: "ci", scope: .request))
            #expect(other.approval.chain == .default)
            #expect(other.approval.nextDeadline == other.approval.expiresAt)
        }

        // MARK: Slack users: the groups to resolve before deciding, and the decision

        @Test("a user named directly needs no group resolved, and decides")
        func namedUserNoLookup() async throws {
            let approval = Self.approval()
            let (service, repository, observer) = Self.make([approval], now: Self.at(minute))
            #expect(approval.groupsToResolve(for: "U2", name: nil, at: Self.at(minute)).isEmpty)
            let decided = try await service.decide(approval.id, DecisionCommand(.approve, by: .slackUser("U2")))
            #expect(decided.status == .approved)
            #expect(decided.decision?.by == "U2")
            #expect(repository.stored(approval.id) == decided)
            #expect(observer.transitions.map(\.after) == [decided])
        }

        @Test("a chain without groups needs none resolved: the default chain decides, a user-only chain refuses")
        func noGroupsNoLookup() async throws {
            let open = Self.approval(.default, 1)
            let usersOnly = Self.approval(
                EscalationChain(name: "users", levels: [EscalationChain.Level(approvers: [.user("U1")], sla: 1_800)]), 2)
            let (service, repository, _) = Self.make([open, usersOnly], now: Self.at(minute))
            #expect(open.groupsToResolve(for: "U9", name: nil, at: Self.at(minute)).isEmpty)
            #expect(usersOnly.groupsToResolve(for: "U9", name: nil, at: Self.at(minute)).isEmpty)
            let decided = try await service.decide(open.id, DecisionCommand(.approve, by: .slackUser("U9")))
            #expect(decided.status == .approved)
            await #expect(throws: ApprovalError.notApprover(level: 1, of: 1, approvers: [.user("U1")])) {
                try await service.decide(usersOnly.id, DecisionCommand(.approve, by: .slackUser("U9")))
            }
            #expect(repository.stored(usersOnly.id) == usersOnly)
        }

        @Test("the groups of the levels reached are resolved when the user is not named, and their members decide")
        func lookupWhenNeeded() async throws {
            let approval = Self.approval(level: 2)
            let (service, repository, _) = Self.make([approval], now: Self.at(40 * minute))
            #expect(approval.groupsToResolve(for: "U7", name: nil, at: Self.at(40 * minute)) == ["S1"])
            #expect(Self.approval(level: 1).groupsToResolve(for: "U7", name: nil, at: Self.at(minute)) == [])
            let decided = try await service.decide(
                approval.id, DecisionCommand(.reject, by: .slackUser("U7", groups: ["S1"]), reason: "no"))
            #expect(decided.status == .rejected)
            #expect(decided.decision?.by == "U7")
            #expect(repository.stored(approval.id)?.status == .rejected)
        }

        @Test("a refusal as not an approver appends exactly one decision_refused entry and commits nothing")
        func refusalAudited() async throws {
            let approval = Self.approval(level: 2)
            let (service, repository, observer) = Self.make([approval], now: Self.at(40 * minute))
            await #expect(
                throws: ApprovalError.notApprover(level: 2, of: 3, approvers: [.user("U1"), .user("U2"), .group("S1")])
            ) {
                try await service.decide(approval.id, DecisionCommand(.approve, by: .slackUser("U9", groups: [])))
            }
            #expect(
                repository.audit == [
                    AuditEvent(.decisionRefused, approvalID: approval.id, actor: "U9", details: ["reason": .string("not_approver")])
                ])
            #expect(repository.commitCalls == 0)
            #expect(repository.stored(approval.id) == approval)
            #expect(observer.transitions.isEmpty)
        }

        @Test("no group is resolved in front of another refusal: decided, expired or the requester's own")
        func noLookupBeforeOtherRefusals() throws {
            let approval = Self.approval(level: 2)
            let decided = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Self.at(40 * minute)).after
            #expect(decided.groupsToResolve(for: "U7", name: nil, at: Self.at(41 * minute)).isEmpty)
            #expect(approval.groupsToResolve(for: "U7", name: nil, at: approval.expiresAt).isEmpty)
            let requester = try #require(approval.requester)
            #expect(approval.groupsToResolve(for: requester, name: nil, at: Self.at(40 * minute)).isEmpty)
            #expect(approval.groupsToResolve(for: "U8", name: requester, at: Self.at(40 * minute)).isEmpty)
        }

        @Test("checkDecision refuses and audits as a decision would, and stores nothing either way")
        func checkDecisionStoresNothing() async throws {
            let approval = Self.approval(level: 2)
            let (service, repository, observer) = Self.make([approval], now: Self.at(40 * minute))
            #expect(try await service.checkDecision(approval.id, DecisionCommand(.reject, by: .slackUser("U7", groups: ["S1"]))) == approval)
            await #expect(throws: ApprovalError.notApprover(level: 2, of: 3, approvers: [.user("U1"), .user("U2"), .group("S1")])) {
                try await service.checkDecision(approval.id, DecisionCommand(.reject, by: .slackUser("U9")))
            }
            #expect(repository.audit.map(\.kind) == [.decisionRefused])
            #expect(repository.commitCalls == 0)
            #expect(observer.transitions.isEmpty)
        }

        // MARK: escalateDue(asOf:)

        /// A escalated at 30m and 1h30m; B, filed at 20m, at 50m; C, filed at 1h20m, is due only at 1h50m.
        static let dueSet = [approval(0, at: t0), approval(1, at: at(20 * minute)), approval(2, at: at(80 * minute))]
        static func approval(_ n: Int, at created: Date) -> Approval { approval(EscalationTransitionTests.threeLevels(), n, at: created) }

        @Test("escalateDue advances every due approval, each one's steps in order, and leaves the others", arguments: [500, 1])
        func escalateDueAdvancesAll(batch: Int) async throws {
            let (a, b, c) = (Self.dueSet[0], Self.dueSet[1], Self.dueSet[2])
            let now = Self.at(100 * minute)
            let (service, repository, observer) = Self.make(Self.dueSet, now: now)
            let fired = try await service.escalateDue(asOf: now, batch: batch)

            #expect(fired.count == 3)
            let ofA = fired.filter { $0.after.id == a.id }
            #expect(ofA.map(\.after.escalationLevel) == [2, 3])
            #expect(ofA.first?.before == a)
            #expect(ofA.last?.before == ofA.first?.after)
            #expect(fired.filter { $0.after.id == b.id }.map(\.after.escalationLevel) == [2])
            #expect(!fired.contains { $0.after.id == c.id })

            let storedA = try #require(repository.stored(a.id))
            #expect(storedA.escalationLevel == 3)
            #expect(storedA.levelStartedAt == Self.at(90 * minute))
            #expect(storedA.nextDeadline == Self.at(210 * minute))
            let storedB = try #require(repository.stored(b.id))
            #expect(storedB.escalationLevel == 2)
            #expect(storedB.levelStartedAt == Self.at(50 * minute))
            #expect(storedB.nextDeadline == Self.at(110 * minute))
            #expect(repository.stored(c.id) == c)

            // The observer heard one commit per approval: a's two steps together, with both steps' effects in order.
            let heardA = observer.transitions.filter { $0.after.id == a.id }
            #expect(heardA.map(\.after.escalationLevel) == [3])
            #expect(heardA.first?.before == a)
            #expect(heardA.first?.effects == ofA.flatMap(\.effects))
            #expect(observer.transitions.count == 2)
            #expect(repository.audit.map(\.kind) == [.escalated, .escalated, .escalated])
            // Nothing is due any more at the same instant.
            #expect(try await service.escalateDue(asOf: now, batch: batch).isEmpty)
        }

        @Test("escalateDue skips an approval decided between the read and the commit")
        func escalateDueSkipsDecidedMeanwhile() async throws {
            let (a, b) = (Self.dueSet[0], Self.dueSet[1])
            let now = Self.at(100 * minute)
            let (service, repository, observer) = Self.make([a, b], now: now)
            // Someone decides A after the scheduler read it as due.
            let decision = try a.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Self.at(95 * minute))
            repository.afterNextDueRead(decision.after)

            let fired = try await service.escalateDue(asOf: now)
            #expect(fired.map(\.after.id) == [b.id])
            #expect(repository.stored(a.id) == decision.after)
            #expect(repository.stored(b.id)?.escalationLevel == 2)
            #expect(!observer.transitions.contains { $0.after.id == a.id })
            #expect(!repository.audit.contains { $0.approvalID == a.id })
            #expect(repository.rejectedCommits == [a.id])
        }
    }
}

/// A level whose approvers are all the requester cannot decide: the request does not wait for its SLA.
@Suite("Levels that name only the requester")
struct RequesterOnlyLevelTests {
    static let t0 = Fixture.now
    static let chain = EscalationChain(
        name: "pay",
        levels: [.init(approvers: [.user("U0AGENT")], sla: 1_800), .init(approvers: [.user("U0LEAD")], sla: 3_600)])

    static func filed(_ chain: EscalationChain = chain, requester: String = "U0AGENT") -> Approval {
        ApprovalRequest(action: "Pay", payload: .object([:]), gate: chain.name, requester: requester, expiresIn: 86_400)
            .approval(id: ApprovalID(rawValue: "apr_requesteronly0000000000"), ownerKey: "ci", at: t0, chain: chain)
    }

    @Test("filed at a level of only the requester, it is due at once and escalates to the next level at once, audited as a skip")
    func firstLevelSkipped() throws {
        let approval = Self.filed()
        #expect(approval.nextDeadline == Self.t0)
        let step = try #require(approval.advancing(at: Self.t0))
        #expect(step.after.escalationLevel == 2)
        #expect(step.after.levelStartedAt == Self.t0)
        #expect(step.after.nextDeadline == Self.t0.addingTimeInterval(3_600))
        #expect(step.effects.contains(.notifyApprovers(level: 2, repeated: false)))
        let audit = try #require(step.auditEvents.first)
        #expect(audit.kind == .escalated)
        #expect(audit.details["skipped"] == .string("level 1 names only the requester"))
        // Spelled another way, the requester is still the requester.
        #expect(Self.filed(requester: " u0agent").nextDeadline == Self.t0)
        // Someone else at level 1: the SLA is waited as usual.
        #expect(Self.filed(requester: "agent:x").nextDeadline == Self.t0.addingTimeInterval(1_800))
    }

    @Test("a last level of only the requester ends the chain at once; a held one waits for the earlier levels until it expires")
    func lastLevelEndsOrWaits() throws {
        let endsInReject = EscalationChain(
            name: "pay", levels: [.init(approvers: [.user("U0LEAD")], sla: 600), .init(approvers: [.user("U0AGENT")], sla: 600)])
        var reached = Self.filed(endsInReject)
        reached.escalationLevel = 2
        reached.nextDeadline = Self.t0
        let ended = try #require(reached.advancing(at: Self.t0))
        #expect(ended.after.status == .expired)
        var held = reached
        held.chain.finalAction = .hold
        let waiting = try #require(held.advancing(at: Self.t0))
        #expect(waiting.after.status == .pending)
        #expect(waiting.after.nextDeadline == held.expiresAt)
        #expect(waiting.effects.isEmpty)
    }
}
