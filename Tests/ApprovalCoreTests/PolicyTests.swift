@testable import ApprovalCore
import DomainTestSupport
import Foundation
import Testing

@Suite("Policies: conditions, tiers, quorum, notify, break-glass")
struct PolicyTests {
    static func request(
        gate: String = "deploy", action: String = "Deploy api", risk: Risk = .medium, requester: String? = "agent:bot",
        payload: JSONValue = .object(["cost": .number(1500), "environment": .string("staging"), "items": .array([.object(["sku": .string("A1")])])])
    ) -> ApprovalRequest {
        ApprovalRequest(action: action, payload: payload, risk: risk, gate: gate, requester: requester)
    }

    static func matches(_ condition: PolicyCondition, _ request: ApprovalRequest = request(), approvedBefore: Bool = false) -> Bool {
        condition.mismatch(request, everApproved: { approvedBefore }) == nil
    }

    @Test("every payload operator compares as documented; numbers as numbers, a missing path is false, never an error")
    func operators() {
        func holds(_ path: String, _ test: PayloadCondition.Test) -> Bool { Self.matches(PolicyCondition(payload: [PayloadCondition(path: path, [test])])) }
        #expect(holds("cost", .gt(1000)))
        #expect(!holds("cost", .gt(1500)))
        #expect(holds("cost", .gte(1500)))
        #expect(holds("cost", .lt(1500.5)))
        #expect(!holds("cost", .lte(1499)))
        #expect(holds("cost", .eq(.number(1500.0))))
        #expect(holds("environment", .ne(.string("production"))))
        #expect(holds("environment", .in([.string("dev"), .string("staging")])))
        #expect(!holds("environment", .in([.string("prod")])))
        #expect(holds("items.0.sku", .eq(.string("A1"))))
        #expect(!holds("items.1.sku", .exists(true)))
        // The path is split once when the condition is made; one read back from its stored form, or given a new
        // path, splits the new one.
        let stored = try! JSONEncoder().encode(PayloadCondition(path: "items.0.sku", [.eq(.string("A1"))]))
        let decoded = try! JSONDecoder().decode(PayloadCondition.self, from: stored)
        #expect(Self.matches(PolicyCondition(payload: [decoded])))
        var renamed = decoded
        renamed.path = "cost"
        #expect(!Self.matches(PolicyCondition(payload: [renamed])))
        renamed.tests = [.gt(1000)]
        #expect(Self.matches(PolicyCondition(payload: [renamed])))
        #expect(holds("missing", .exists(false)))
        #expect(!holds("missing", .exists(true)))
        #expect(!holds("missing", .gt(0)))
        #expect(!holds("missing", .ne(.string("x"))))
        // A string that looks like a number is not one.
        #expect(!holds("environment", .gt(0)))
        #expect(!Self.matches(PolicyCondition(payload: [PayloadCondition(path: "cost", [.gt(100)])]),
                               Self.request(payload: .object(["cost": .string("1500")]))))
    }

    @Test("gate, risk lists, action and requester globs (whole string), new_action")
    func fields() {
        #expect(Self.matches(PolicyCondition(gate: "deploy")))
        #expect(!Self.matches(PolicyCondition(gate: "docs")))
        #expect(Self.matches(PolicyCondition(risk: [.low, .medium])))
        #expect(!Self.matches(PolicyCondition(risk: [.high])))
        #expect(Self.matches(PolicyCondition(action: "Deploy *")))
        #expect(!Self.matches(PolicyCondition(action: "Deploy")))
        #expect(!Self.matches(PolicyCondition(action: "eploy*")))
        #expect(Self.matches(PolicyCondition(action: "*api")))
        #expect(Self.matches(PolicyCondition(action: "*")))
        #expect(Self.matches(PolicyCondition(requester: "agent:*")))
        #expect(!Self.matches(PolicyCondition(requester: "agent:*"), Self.request(requester: nil)))
        #expect(Self.matches(PolicyCondition(newAction: true), approvedBefore: false))
        #expect(!Self.matches(PolicyCondition(newAction: true), approvedBefore: true))
        #expect(Glob.matches("a*b*c", "aXbYc") && !Glob.matches("a*b*c", "aXbY") && Glob.matches("a**", "a"))
    }

    @Test("auto applies to low risk only and notify to low and medium: above that the rule is skipped and evaluation goes on")
    func tiers() {
        let set = PolicySet(rules: [
            PolicyRule(name: "quiet", then: .auto),
            PolicyRule(name: "window", then: .notify(window: 300)),
            PolicyRule(name: "two", then: .require(approvals: 2, roles: [], chain: nil)),
        ])
        #expect(set.evaluate(Self.request(risk: .low)) { false }.applied?.name == "quiet")
        let medium = set.evaluate(Self.request(risk: .medium)) { false }
        #expect(medium.applied?.name == "window")
        #expect(medium.steps[0].skipped?.contains("low risk only") == true)
        let critical = set.evaluate(Self.request(risk: .critical)) { false }
        #expect(critical.applied?.name == "two")
        #expect(critical.steps.map(\.rule) == ["quiet", "window", "two"])
        #expect(PolicySet().evaluate(Self.request()) { false }.applied == nil)
    }

    @Test("new_action asks the store at most once, and only when a rule has it")
    func lookups() {
        var asked = 0
        let plain = PolicySet(rules: [PolicyRule(name: "a", when: PolicyCondition(gate: "x"), then: .auto)])
        _ = plain.evaluate(Self.request()) { asked += 1; return false }
        #expect(asked == 0)
        let set = PolicySet(rules: [
            PolicyRule(name: "a", when: PolicyCondition(newAction: false), then: .require(approvals: 1, roles: [], chain: nil)),
            PolicyRule(name: "b", when: PolicyCondition(newAction: true), then: .require(approvals: 2, roles: [], chain: nil)),
        ])
        #expect(set.evaluate(Self.request()) { asked += 1; return false }.applied?.name == "b")
        #expect(asked == 1)
    }

    @Test("role coverage: one person in two roles covers one of them; the matching finds the cover when there is one")
    func quorumArithmetic() {
        #expect(QuorumStatus.uncoveredRoles(["lead", "director"], approvers: [["lead", "director"]]) == ["director"])
        #expect(QuorumStatus.uncoveredRoles(["lead", "director"], approvers: [["lead", "director"], ["lead"]]).isEmpty)
        #expect(QuorumStatus.uncoveredRoles(["lead", "director"], approvers: [["lead"], ["lead"]]) == ["director"])
        #expect(QuorumStatus.uncoveredRoles([], approvers: []).isEmpty)
    }

    static let spend = AppliedPolicy(
        name: "big-spend", then: .require(approvals: 2, roles: ["lead", "director"], chain: nil),
        roles: [Role(name: "lead", users: ["U1", "U3"]), Role(name: "director", users: ["U2", "U3"], groups: ["S9"])])

    static func quorumApproval() -> Approval {
        var approval = Fixture.pending()
        approval.policy = spend
        approval.chain = .default
        return approval
    }

    @Test("a quorum completes only with enough distinct people covering every role; votes before that leave it pending")
    func quorum() throws {
        let approval = Self.quorumApproval()
        let first = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now)
        #expect(first.after.status == .pending)
        #expect(first.after.quorum == QuorumStatus(required: 2, roles: ["lead", "director"], approvals: 1, missingRoles: ["director"]))
        #expect(first.auditEvents.map(\.kind) == [.voted])
        #expect(first.after.votes.last?.roles == ["lead"])
        // A second lead is a second person, but no director.
        var other = approval
        other.policy?.roles[0].users.append("U4")
        let twoLeads = try other.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now).after
            .deciding(DecisionCommand(.approve, by: .slackUser("U4")), at: Fixture.now)
        #expect(twoLeads.after.status == .pending)
        #expect(twoLeads.after.quorum.missingRoles == ["director"])
        // A director through a user group completes it.
        let done = try first.after.deciding(DecisionCommand(.approve, by: .slackUser("U7", groups: ["S9"])), at: Fixture.now)
        #expect(done.after.status == .approved)
        #expect(done.after.decision?.by == "U7")
        #expect(done.auditEvents.map(\.kind) == [.voted, .decided])
        #expect(done.after.quorum.isMet)
        // Someone in both roles alone is one person of two.
        let both = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U3")), at: Fixture.now)
        #expect(both.after.status == .pending)
    }

    @Test("a second vote by the same person, and a vote by someone outside the roles and the chain, are refused")
    func refusals() throws {
        var approval = Self.quorumApproval()
        approval.chain = Fixture.threeLevels()
        let voted = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now).after
        #expect(throws: ApprovalError.self) { try voted.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now) }
        #expect(throws: ApprovalError.self) { try voted.deciding(DecisionCommand(.reject, by: .slackUser("U1")), at: Fixture.now) }
        do {
            _ = try voted.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now)
        } catch {
            guard case .alreadyVoted = error else { Issue.record("expected alreadyVoted, got \(error)"); return }
        }
        #expect(throws: ApprovalError.self) { try voted.deciding(DecisionCommand(.approve, by: .slackUser("U99")), at: Fixture.now) }
        var own = voted
        own.requester = "U2"
        #expect(throws: ApprovalError.selfApproval) { try own.deciding(DecisionCommand(.approve, by: .slackUser("U2")), at: Fixture.now) }
    }

    @Test("veto: one rejection by anyone who may vote rejects at once")
    func veto() throws {
        let voted = try Self.quorumApproval().deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now).after
        let rejected = try voted.deciding(DecisionCommand(.reject, by: .slackUser("U2"), reason: "too much"), at: Fixture.now)
        #expect(rejected.after.status == .rejected)
        #expect(rejected.after.decision?.by == "U2")
    }

    @Test("Modify under a quorum puts the edited payload to the vote, withdraws earlier approvals (audited), counts as the modifier's")
    func modifyWithdraws() throws {
        let voted = try Self.quorumApproval().deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now).after
        let edited: JSONValue = .object(["cost": .number(900)])
        let modified = try voted.deciding(DecisionCommand(.modify(edited), by: .slackUser("U2")), at: Fixture.now.addingTimeInterval(5))
        #expect(modified.after.status == .pending)
        #expect(modified.after.amendedPayload == edited)
        #expect(modified.after.payload == Fixture.payload)
        #expect(modified.after.votes[0].withdrawnAt == Fixture.now.addingTimeInterval(5))
        #expect(modified.auditEvents.map(\.kind) == [.voteWithdrawn, .voted])
        #expect(modified.after.quorum.approvals == 1)
        #expect(modified.after.quorum.missingRoles == ["lead"])
        // The lead approves again, now the edited payload: decided as modified, bound to the edited digest.
        let done = try modified.after.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now.addingTimeInterval(9))
        #expect(done.after.status == .modified)
        #expect(done.after.decision?.payload == edited)
        #expect(done.after.decision?.payloadSHA256 == CanonicalJSON.sha256(of: edited))
        #expect(throws: ApprovalError.self) { try done.after.verifying(Fixture.payload, consume: false, by: .key(named: "ci"), at: Fixture.now) }
    }

    @Test("notify: approved by policy:NAME when the window ends, once, even when noticed late (after a restart)")
    func notifyWindow() throws {
        let policy = AppliedPolicy(name: "staging", then: .notify(window: 300))
        let approval = Self.request().approval(id: .random(at: Fixture.now), ownerKey: "ci", at: Fixture.now, policy: policy)
        #expect(approval.nextDeadline == Fixture.now.addingTimeInterval(300).truncatedToMilliseconds)
        #expect(approval.advancing(at: Fixture.now.addingTimeInterval(299)) == nil)
        let late = Fixture.now.addingTimeInterval(4 * 3600)
        let step = try #require(approval.advancing(at: late))
        #expect(step.after.status == .approved)
        #expect(step.after.decision?.by == "policy:staging")
        #expect(step.after.decision?.at == approval.notifyEndsAt)
        #expect(step.effects.contains(.wakeWaiters))
        #expect(step.after.advancing(at: late) == nil)
        // A rejection before the end wins.
        let rejected = try approval.deciding(DecisionCommand(.reject, by: .slackUser("U1")), at: Fixture.now.addingTimeInterval(10))
        #expect(rejected.after.status == .rejected)
        #expect(rejected.after.advancing(at: late) == nil)
    }

    @Test("break-glass approves at once, even the breaker's own request and under a quorum, with a reason; the decision says so")
    func breakGlass() throws {
        var approval = Self.quorumApproval()
        approval.requester = "U5"
        let broken = try approval.breakingGlass(by: .slackUser("U5", name: "pat"), reason: "prod is down", overLimit: true, at: Fixture.now)
        #expect(broken.after.status == .approved)
        #expect(broken.after.decision?.breakGlass == true)
        #expect(broken.auditEvents.map(\.kind) == [.decided, .breakGlass])
        #expect(broken.auditEvents[1].details["over_limit"] == .bool(true))
        #expect(throws: ApprovalError.self) { try approval.breakingGlass(by: .slackUser("U5"), reason: "  ", overLimit: false, at: Fixture.now) }
        #expect(throws: ApprovalError.self) { try broken.after.breakingGlass(by: .slackUser("U5"), reason: "again", overLimit: false, at: Fixture.now) }
    }

    @Test("who may break the glass: members of the break-glass roles, and keys created with --break-glass")
    func mayBreakGlass() throws {
        let set = PolicySet(roles: [Role(name: "oncall", groups: ["S1"])], breakGlass: BreakGlassPolicy(roles: ["oncall"]))
        #expect(throws: Never.self) { try ApprovalService.checkMayBreakGlass(.slackUser("U1", groups: ["S1"]), policies: set) }
        #expect(throws: ApprovalError.self) { try ApprovalService.checkMayBreakGlass(.slackUser("U1"), policies: set) }
        #expect(throws: ApprovalError.self) { try ApprovalService.checkMayBreakGlass(.slackUser("U1", groups: ["S1"]), policies: .empty) }
        let key = APIKey(name: "pager", scope: .decide, breakGlass: true)
        #expect(throws: Never.self) { try ApprovalService.checkMayBreakGlass(.key(key, actingFor: "pat"), policies: .empty) }
        #expect(throws: ApprovalError.self) { try ApprovalService.checkMayBreakGlass(.key(named: "plain", actingFor: "pat"), policies: set) }
        #expect(throws: ApprovalError.self) {
            try ApprovalService.checkMayBreakGlass(.key(APIKey(name: "r", scope: .request, breakGlass: true)), policies: set)
        }
    }

    @Test("a policy set is checked as a whole: unknown roles, repeated names, parameters out of range")
    func validation() {
        let set = PolicySet(
            roles: [Role(name: "lead", users: ["U1"]), Role(name: "lead", users: ["bad"])],
            rules: [
                PolicyRule(name: "a", then: .require(approvals: 11, roles: ["ghost"], chain: nil)),
                PolicyRule(name: "a", then: .notify(window: 5)),
            ],
            breakGlass: BreakGlassPolicy(roles: ["nobody"], reviewWithin: 10, maxPer30Days: 0))
        let paths = set.problems().map(\.path)
        for expected in ["roles.lead", "roles.lead.users", "policies[0].roles", "policies[0].approvals", "policies[1].name",
                         "policies[1].window", "break_glass.roles", "break_glass.review_within", "break_glass.max_per_30d"] {
            #expect(paths.contains(expected), "\(expected)")
        }
        #expect(PolicySet(roles: [Role(name: "lead", users: ["U1"])], rules: [PolicyRule(name: "x", then: .auto)]).problems().isEmpty)
    }

    @Test("suggestions: classes approved by people every time, at least --min times, low and medium risk only")
    func suggestions() throws {
        func decided(_ action: String, risk: Risk, by: String = "U1", outcome: DecisionCommand.Verdict = .approve) throws -> Approval {
            let approval = Self.request(action: action, risk: risk).approval(id: .random(at: Fixture.now), ownerKey: "ci", at: Fixture.now)
            return try approval.deciding(DecisionCommand(outcome, by: .slackUser(by)), at: Fixture.now.addingTimeInterval(60)).after
        }
        var all: [Approval] = []
        for _ in 0..<3 { all.append(try decided("Restart worker", risk: .low)) }
        for _ in 0..<3 { all.append(try decided("Scale api", risk: .medium, by: "U2")) }
        all.append(try decided("Scale api", risk: .medium, outcome: .modify(.object(["x": .number(1)]))))
        for _ in 0..<3 { all.append(try decided("Drop table", risk: .high)) }
        let suggestions = PolicySuggestion.suggest(from: all, minimum: 3)
        #expect(suggestions.map(\.action) == ["Restart worker"])
        #expect(suggestions.first?.outcome == "auto")
        #expect(suggestions.first?.medianTimeToDecision == 60)
        #expect(PolicySuggestion.suggest(from: all, minimum: 4).isEmpty)
    }
}
