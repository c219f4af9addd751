import DomainTestSupport
import Foundation
import Testing

import ApprovalCore

@Suite("Approval transitions")
struct ApprovalTransitionTests {
    let approval = Fixture.pending()
    let alice = DecisionCommand(.approve, by: .slackUser("U123", name: "alice"), reason: "looks right", reasonCode: "ok")

    // MARK: submitted

    @Test("submitted() records one `created` audit event by the owner key and nothing else")
    func submitted() {
        let transition = approval.submitted()
        #expect(transition.before == nil)
        #expect(transition.after == approval)
        #expect(approval.payloadSHA256 == Fixture.payloadDigest)
        let expected = AuditEvent(
            .created, approvalID: approval.id, actor: "key:ci",
            details: [
                "action": .string("Deploy api to production"), "payload_sha256": .string(Fixture.payloadDigest),
                "gate": .string("deploy-prod"), "risk": .string("high"), "expires_at": .string("2026-11-22T02:22:43Z"),
                "requester": .string(Fixture.requester),
            ]
        )
        #expect(transition.effects == [.audit(expected)])
    }

    @Test("submitted() names the requester, else `anonymous`, when no key owns it")
    func submittedActorFallback() throws {
        let byRequester = try #require(Fixture.pending(ownerKey: nil).submitted().auditEvents.first)
        #expect(byRequester.actor == Fixture.requester)
        let anonymous = try #require(Fixture.pending(requester: nil, ownerKey: nil).submitted().auditEvents.first)
        #expect(anonymous.actor == "anonymous")
        #expect(anonymous.details["requester"] == nil)
    }

    // MARK: deciding

    @Test("approve: status approved, decision on the original payload, waiters woken")
    func approve() throws {
        let transition = try approval.deciding(alice, at: Fixture.now)
        #expect(transition.before == approval)
        #expect(transition.after.status == .approved)
        let decision = try #require(transition.after.decision)
        #expect(
            decision
                == Decision(
                    outcome: .approved, by: "U123", byName: "alice", at: Fixture.now, reason: "looks right", reasonCode: "ok",
                    payload: Fixture.payload, payloadSHA256: Fixture.payloadDigest
                )
        )
        let event = AuditEvent(
            .decided, approvalID: approval.id, actor: "U123",
            details: [
                "outcome": .string("approved"), "payload_sha256": .string(Fixture.payloadDigest), "by_name": .string("alice"),
                "reason": .string("looks right"), "reason_code": .string("ok"),
            ]
        )
        #expect(transition.effects == [.audit(event), .wakeWaiters])
    }

    @Test("the key that filed the request may not decide it, under any name; other keys and Slack users may")
    func filingKeyIsRefused() throws {
        // Fixture.pending() is owned by the key `ci`.
        for name in ["alice", nil] {
            #expect(throws: ApprovalError.selfApproval) {
                try approval.deciding(DecisionCommand(.approve, by: .key(named: "ci", actingFor: name)), at: Fixture.now)
            }
        }
        #expect(throws: ApprovalError.selfApproval) {
            try approval.deciding(DecisionCommand(.reject, by: .key(named: "ci", actingFor: "bob")), at: Fixture.now)
        }
        #expect(try approval.deciding(DecisionCommand(.approve, by: .key(named: "lead", actingFor: "alice")), at: Fixture.now).after.status == .approved)
        #expect(try approval.deciding(DecisionCommand(.approve, by: .slackUser("Uci")), at: Fixture.now).after.status == .approved)
    }

    @Test("the decision leaves every other field as it was, and adds the decider's vote")
    func decidingChangesOnlyStatusAndDecision() throws {
        var after = try approval.deciding(alice, at: Fixture.now).after
        #expect(
            after.votes == [
                Vote(by: "U123", byName: "alice", verdict: .approve, reason: "looks right", reasonCode: "ok",
                     payloadSHA256: Fixture.payloadDigest, at: Fixture.now)
            ])
        after.status = approval.status
        after.decision = approval.decision
        after.votes = approval.votes
        #expect(after.revision == approval.revision + 1)
        after.revision = approval.revision
        #expect(after == approval)
    }

    @Test("reject: status rejected, audit details carry only the fields given")
    func reject() throws {
        let transition = try approval.deciding(DecisionCommand(.reject, by: .slackUser("U999")), at: Fixture.now)
        #expect(transition.after.status == .rejected)
        #expect(transition.after.decision?.outcome == .rejected)
        #expect(transition.after.decision?.payloadSHA256 == Fixture.payloadDigest)
        let event = AuditEvent(
            .decided, approvalID: approval.id, actor: "U999",
            details: ["outcome": .string("rejected"), "payload_sha256": .string(Fixture.payloadDigest)]
        )
        #expect(transition.effects == [.audit(event), .wakeWaiters])
    }

    @Test("modify: status modified, the decision carries the edited payload and its digest; the original stays")
    func modify() throws {
        let transition = try approval.deciding(DecisionCommand(.modify(Fixture.editedPayload), by: .slackUser("U123")), at: Fixture.now)
        #expect(transition.after.status == .modified)
        #expect(transition.after.status.isApproved)
        let decision = try #require(transition.after.decision)
        #expect(decision.outcome == .modified)
        #expect(decision.payload == Fixture.editedPayload)
        #expect(decision.payloadSHA256 == Fixture.editedPayloadDigest)
        #expect(transition.after.payload == Fixture.payload)
        #expect(transition.after.payloadSHA256 == Fixture.payloadDigest)
        #expect(transition.auditEvents.first?.details["payload_sha256"] == .string(Fixture.editedPayloadDigest))
        #expect(transition.auditEvents.first?.details["outcome"] == .string("modified"))
    }

    @Test(
        "modify with anything but an object is refused as an invalid payload",
        arguments: [JSONValue.array([]), .string("{}"), .null, .number(1), .bool(true)]
    )
    func modifyNeedsObject(edited: JSONValue) {
        #expect {
            try approval.deciding(DecisionCommand(.modify(edited), by: .slackUser("U123")), at: Fixture.now)
        } throws: { error in
            guard case .invalidField(let field, _) = error as? ApprovalError else { return false }
            return field == "payload"
        }
    }

    @Test("a decided approval delivers its callback when a callback URL is set")
    func callbackOnDecision() throws {
        let withCallback = Fixture.pending(callbackURL: "https://ci.example.com/hook")
        let transition = try withCallback.deciding(alice, at: Fixture.now)
        #expect(transition.effects.count == 3)
        #expect(transition.effects.contains(.wakeWaiters))
        #expect(transition.effects.contains(.deliverCallback(url: "https://ci.example.com/hook")))
        #expect(transition.auditEvents.map(\.kind) == [.decided])
    }

    @Test("no callback is delivered without a callback URL")
    func noCallbackWithoutURL() throws {
        let effects = try approval.deciding(alice, at: Fixture.now).effects
        #expect(!effects.contains { if case .deliverCallback = $0 { true } else { false } })
    }

    // MARK: once decided, never again

    static let laterCommands: [DecisionCommand] = [
        DecisionCommand(.approve, by: .slackUser("U200")), DecisionCommand(.reject, by: .slackUser("U200")),
        DecisionCommand(.modify(Fixture.editedPayload), by: .slackUser("U200")),
    ]

    /// Each way an approval can leave `pending`.
    static func decidedApprovals() throws -> [Approval] {
        let approval = Fixture.pending()
        return [
            try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: Fixture.now).after,
            try approval.deciding(DecisionCommand(.reject, by: .slackUser("U1")), at: Fixture.now).after,
            try approval.deciding(DecisionCommand(.modify(Fixture.editedPayload), by: .slackUser("U1")), at: Fixture.now).after,
            try approval.cancelling(by: .key(named: "ci"), at: Fixture.now).after,
            try #require(approval.expiring(at: Fixture.deadline)).after,
        ]
    }

    @Test("a decided approval refuses every further command with the decision that stands")
    func decidedRefusesEverything() throws {
        for decided in try Self.decidedApprovals() {
            let decision = try #require(decided.decision)
            for command in Self.laterCommands {
                #expect(throws: ApprovalError.alreadyDecided(decision)) {
                    try decided.deciding(command, at: Fixture.now.addingTimeInterval(1))
                }
            }
            #expect(throws: ApprovalError.alreadyDecided(decision)) {
                try decided.cancelling(by: .key(named: "ci"), at: Fixture.now.addingTimeInterval(1))
            }
            #expect(decided.expiring(at: Fixture.deadline.addingTimeInterval(1)) == nil)
        }
    }

    @Test("a decided approval reports `alreadyDecided`, not `expired`, after its deadline")
    func decidedBeatsExpired() throws {
        let decided = try approval.deciding(alice, at: Fixture.now).after
        let decision = try #require(decided.decision)
        #expect(throws: ApprovalError.alreadyDecided(decision)) {
            try decided.deciding(DecisionCommand(.reject, by: .slackUser("U2")), at: Fixture.deadline.addingTimeInterval(60))
        }
    }

    // MARK: self-approval

    @Test("the requester may not decide their own request, by ID or by name")
    func selfApproval() {
        for verdict in [DecisionCommand.Verdict.approve, .reject, .modify(Fixture.editedPayload)] {
            #expect(throws: ApprovalError.selfApproval) {
                try approval.deciding(DecisionCommand(verdict, by: .slackUser(Fixture.requester)), at: Fixture.now)
            }
            #expect(throws: ApprovalError.selfApproval) {
                try approval.deciding(DecisionCommand(verdict, by: .key(named: "ops", actingFor: Fixture.requester)), at: Fixture.now)
            }
        }
    }

    @Test("someone else may decide, and an approval without a requester has no self-approval rule")
    func notSelfApproval() throws {
        #expect(try approval.deciding(DecisionCommand(.approve, by: .slackUser("U123", name: "alice")), at: Fixture.now).after.status == .approved)
        let anonymous = Fixture.pending(requester: nil)
        #expect(try anonymous.deciding(DecisionCommand(.approve, by: .slackUser("U123")), at: Fixture.now).after.status == .approved)
    }

    // MARK: deadline

    @Test("a decision at or after the deadline is refused as expired")
    func decisionAfterDeadline() {
        for at in [Fixture.deadline, Fixture.deadline.addingTimeInterval(0.001), Fixture.deadline.addingTimeInterval(86_400)] {
            #expect(throws: ApprovalError.expired) { try approval.deciding(alice, at: at) }
            #expect(throws: ApprovalError.expired) { try approval.cancelling(by: .key(named: "ci"), at: at) }
        }
    }

    @Test("a decision just before the deadline is accepted")
    func decisionJustBeforeDeadline() throws {
        let at = Fixture.deadline.addingTimeInterval(-0.001)
        let transition = try approval.deciding(alice, at: at)
        #expect(transition.after.decision?.at == at)
    }

    // MARK: cancelling

    @Test("cancelling: status cancelled, decision by the canceller on the original payload")
    func cancelling() throws {
        let transition = try approval.cancelling(by: .key(named: "ci"), reason: "superseded", at: Fixture.now)
        #expect(transition.before == approval)
        #expect(transition.after.status == .cancelled)
        #expect(
            transition.after.decision
                == Decision(
                    outcome: .cancelled, by: "key:ci", at: Fixture.now, reason: "superseded", payload: Fixture.payload,
                    payloadSHA256: Fixture.payloadDigest
                )
        )
        let event = AuditEvent(
            .cancelled, approvalID: approval.id, actor: "key:ci",
            details: [
                "outcome": .string("cancelled"), "payload_sha256": .string(Fixture.payloadDigest),
                "reason": .string("superseded"),
            ]
        )
        #expect(transition.effects == [.audit(event), .wakeWaiters])
    }

    @Test("cancelling delivers the callback when one is set")
    func cancellingCallback() throws {
        let transition = try Fixture.pending(callbackURL: "http://localhost:9000/cb").cancelling(by: .key(named: "ci"), at: Fixture.now)
        #expect(transition.effects.contains(.deliverCallback(url: "http://localhost:9000/cb")))
        #expect(transition.effects.contains(.wakeWaiters))
    }

    // MARK: expiring

    @Test("expiring(at:) is nil before the deadline")
    func notDueYet() {
        #expect(approval.expiring(at: Fixture.now) == nil)
        #expect(approval.expiring(at: Fixture.deadline.addingTimeInterval(-0.001)) == nil)
    }

    @Test("expiring(at:) at the deadline expires it by system:timeout")
    func expiresAtDeadline() throws {
        let transition = try #require(approval.expiring(at: Fixture.deadline))
        #expect(transition.before == approval)
        #expect(transition.after.status == .expired)
        let decision = try #require(transition.after.decision)
        #expect(decision.outcome == .expired)
        #expect(decision.by == "system:timeout")
        #expect(decision.at == Fixture.deadline)
        #expect(decision.payload == Fixture.payload)
        #expect(decision.payloadSHA256 == Fixture.payloadDigest)
        #expect(transition.auditEvents.map(\.kind) == [.expired])
        #expect(transition.auditEvents.first?.actor == "system:timeout")
        #expect(transition.effects.contains(.wakeWaiters))
        #expect(!transition.effects.contains { if case .deliverCallback = $0 { true } else { false } })
    }

    @Test("expiring(at:) after the deadline records the deadline as the time it expired, however late it runs, and delivers the callback when set")
    func expiresAfterDeadline() throws {
        let late = Fixture.deadline.addingTimeInterval(90)
        let transition = try #require(Fixture.pending(callbackURL: "https://ci.example.com/hook").expiring(at: late))
        #expect(transition.after.status == .expired)
        #expect(transition.after.decision?.at == Fixture.deadline)
        #expect(transition.after.decision?.by == "system:timeout")
        #expect(transition.effects.contains(.deliverCallback(url: "https://ci.example.com/hook")))
        #expect(transition.effects.contains(.wakeWaiters))
    }

    // MARK: verifying

    @Test("verifying a pending approval is refused as not approved")
    func verifyPending() {
        #expect(throws: ApprovalError.notApproved(.pending)) {
            try approval.verifying(Fixture.payload, consume: false, by: .key(named: "ci"), at: Fixture.now)
        }
    }

    @Test("verifying a rejected or cancelled approval is refused as not approved, with its status")
    func verifyRejectedOrCancelled() throws {
        let rejected = try approval.deciding(DecisionCommand(.reject, by: .slackUser("U1")), at: Fixture.now).after
        #expect(throws: ApprovalError.notApproved(.rejected)) {
            try rejected.verifying(Fixture.payload, consume: true, by: .key(named: "ci"), at: Fixture.now)
        }
        let cancelled = try approval.cancelling(by: .key(named: "ci"), at: Fixture.now).after
        #expect(throws: ApprovalError.notApproved(.cancelled)) {
            try cancelled.verifying(Fixture.payload, consume: true, by: .key(named: "ci"), at: Fixture.now)
        }
    }

    @Test("verifying an expired approval, or a pending one past its deadline, is refused as expired")
    func verifyExpired() throws {
        let expired = try #require(approval.expiring(at: Fixture.deadline)).after
        #expect(throws: ApprovalError.expired) {
            try expired.verifying(Fixture.payload, consume: false, by: .key(named: "ci"), at: Fixture.deadline)
        }
        #expect(throws: ApprovalError.expired) {
            try approval.verifying(Fixture.payload, consume: false, by: .key(named: "ci"), at: Fixture.deadline)
        }
    }

    @Test("verifying the approved payload succeeds whatever its key order or layout, and records `verified`")
    func verifyApproved() throws {
        let approved = try approval.deciding(alice, at: Fixture.now).after
        let sameFacts = try JSONValue.parse(#"{ "replicas": 3.0, "commit": "9f3c2e1", "environment": "production", "service": "api" }"#)
        let at = Fixture.now.addingTimeInterval(5)
        let transition = try approved.verifying(sameFacts, consume: false, by: .key(named: "ci"), at: at)
        #expect(transition.before == approved)
        var unchanged = approved
        unchanged.revision += 1
        #expect(transition.after == unchanged)
        #expect(transition.after.consumedAt == nil)
        let event = AuditEvent(.verified, approvalID: approval.id, actor: "key:ci", details: ["payload_sha256": .string(Fixture.payloadDigest)])
        #expect(transition.effects == [.audit(event)])
    }

    @Test("verifying a different payload is a mismatch carrying both digests")
    func verifyMismatch() throws {
        let approved = try approval.deciding(alice, at: Fixture.now).after
        #expect(throws: ApprovalError.payloadMismatch(expected: Fixture.payloadDigest, actual: Fixture.editedPayloadDigest)) {
            try approved.verifying(Fixture.editedPayload, consume: true, by: .key(named: "ci"), at: Fixture.now)
        }
        let extraField = JSONValue.object(Fixture.payload.objectValue!.merging(["force": .bool(true)]) { a, _ in a })
        #expect {
            try approved.verifying(extraField, consume: false, by: .key(named: "ci"), at: Fixture.now)
        } throws: { error in
            guard case .payloadMismatch(let expected, let actual) = error as? ApprovalError else { return false }
            return expected == Fixture.payloadDigest && actual == CanonicalJSON.sha256(of: extraField) && actual != expected
        }
    }

    @Test("consume uses the approval up: consumedAt is set, and a second consume is refused with that time")
    func consume() throws {
        let approved = try approval.deciding(alice, at: Fixture.now).after
        let firstUse = Fixture.now.addingTimeInterval(10)
        let transition = try approved.verifying(Fixture.payload, consume: true, by: .key(named: "ci"), at: firstUse)
        #expect(transition.after.consumedAt == firstUse)
        #expect(transition.after.status == .approved)
        #expect(transition.auditEvents.map(\.kind) == [.verified, .consumed])
        #expect(transition.auditEvents.allSatisfy { $0.actor == "key:ci" && $0.approvalID == approval.id })
        #expect(!transition.effects.contains(.wakeWaiters))

        let consumed = transition.after
        #expect(throws: ApprovalError.alreadyConsumed(firstUse)) {
            try consumed.verifying(Fixture.payload, consume: true, by: .key(named: "ci"), at: Fixture.now.addingTimeInterval(20))
        }
        #expect(throws: ApprovalError.alreadyConsumed(firstUse)) {
            try consumed.verifying(Fixture.payload, consume: false, by: .key(named: "ci"), at: Fixture.now.addingTimeInterval(20))
        }
    }

    @Test("a modified approval verifies the edited payload, and the original is a mismatch")
    func verifyModified() throws {
        let modified = try approval.deciding(DecisionCommand(.modify(Fixture.editedPayload), by: .slackUser("U1")), at: Fixture.now).after
        let transition = try modified.verifying(Fixture.editedPayload, consume: true, by: .key(named: "ci"), at: Fixture.now)
        #expect(transition.after.consumedAt == Fixture.now)
        #expect(transition.auditEvents.first?.details["payload_sha256"] == .string(Fixture.editedPayloadDigest))
        #expect(throws: ApprovalError.payloadMismatch(expected: Fixture.editedPayloadDigest, actual: Fixture.payloadDigest)) {
            try modified.verifying(Fixture.payload, consume: false, by: .key(named: "ci"), at: Fixture.now)
        }
    }
}
