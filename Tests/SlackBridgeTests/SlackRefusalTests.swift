import ApprovalCore
import Foundation
import SlackBridge
import Testing

/// What the person who clicked reads when their click changed nothing.
@Suite("Refusals in Slack")
struct SlackRefusalTests {
    static let at = SampleApprovals.decidedAt
    static let atText = "<!date^1772443500^{date_short_pretty} at {time}|2026-03-02T09:25:00Z>"

    static func decision(_ outcome: Decision.Outcome, by: String = "U012ABCDEF", name: String? = "dana") -> Decision {
        Decision(outcome: outcome, by: by, byName: name, at: at, payload: .object([:]), payloadSHA256: CanonicalJSON.sha256(of: .object([:])))
    }

    @Test("already decided: who decided what, and when", arguments: [
        (Decision.Outcome.approved, "approved"), (.modified, "approved with changes"), (.rejected, "rejected"),
    ])
    func alreadyDecided(_ outcome: Decision.Outcome, _ verb: String) {
        #expect(
            SlackInteractions.refusal(.alreadyDecided(Self.decision(outcome)), to: "U0OTHER")
                == "This request was already \(verb) by <@U012ABCDEF> at \(Self.atText); nothing was changed.")
    }

    @Test("already decided by the one who clicks again (a double click, a second submit): it says they did it", arguments: [
        (Decision.Outcome.approved, "approved"), (.modified, "approved with changes"), (.rejected, "rejected"),
    ])
    func alreadyDecidedByThem(_ outcome: Decision.Outcome, _ verb: String) {
        let decided = ApprovalError.alreadyDecided(Self.decision(outcome))
        #expect(SlackInteractions.refusal(decided, to: "U012ABCDEF") == "You already \(verb) this request at \(Self.atText); nothing was changed.")
        #expect(SlackInteractions.plainRefusal(decided, to: "U012ABCDEF")
            == "You already \(verb) this request at 2026-03-02T09:25:00Z; nothing was changed.")
        // Someone else, in plain text (a modal): no mention, so "someone else".
        #expect(SlackInteractions.plainRefusal(decided, to: "U0OTHER") == "This request was already \(verb) by someone else at 2026-03-02T09:25:00Z; nothing was changed.")
        #expect(SlackInteractions.plainRefusal(.alreadyDecided(Self.decision(.expired, by: "system:timeout", name: nil)), to: "U0OTHER")
            == "This request expired at 2026-03-02T09:25:00Z without a decision; nothing was changed.")
    }

    @Test("already decided through the API or a policy names the key or the rule, escaped")
    func decidedElsewhere() {
        #expect(
            SlackInteractions.refusal(.alreadyDecided(Self.decision(.approved, by: "key:ci", name: "<!channel>")), to: "U0OTHER")
                == "This request was already approved by &lt;!channel&gt; (API key ci) at \(Self.atText); nothing was changed.")
        #expect(
            SlackInteractions.refusal(.alreadyDecided(Self.decision(.rejected, by: "policy:night-freeze", name: nil)), to: "U0OTHER")
                == "This request was already rejected by policy night-freeze at \(Self.atText); nothing was changed.")
    }

    @Test("already expired")
    func alreadyExpired() {
        #expect(
            SlackInteractions.refusal(.alreadyDecided(Self.decision(.expired, by: "system:timeout", name: nil)), to: "U0OTHER")
                == "This request expired at \(Self.atText) without a decision; nothing was changed.")
    }

    @Test("already cancelled")
    func alreadyCancelled() {
        #expect(
            SlackInteractions.refusal(.alreadyDecided(Self.decision(.cancelled, by: "key:ci", name: nil)), to: "U0OTHER")
                == "The requester cancelled this request at \(Self.atText); nothing was changed.")
    }

    @Test("self-approval, a passed deadline and an unknown request each have their own sentence")
    func ownSentences() {
        #expect(SlackInteractions.refusal(.selfApproval, to: "U0OTHER") == "You filed this request, so someone else has to decide it.")
        #expect(SlackInteractions.refusal(.expired, to: "U0OTHER") == "This request has passed its deadline and can no longer be decided.")
        #expect(SlackInteractions.refusal(.notFound, to: "U0OTHER") == "Gatehouse has no record of this request.")
    }

    @Test("errors a click cannot normally cause name their code", arguments: [
        (ApprovalError.notRequester, "not_requester"),
        (.notApproved(.pending), "not_approved"),
        (.payloadMismatch(expected: "a", actual: "b"), "payload_mismatch"),
        (.alreadyConsumed(SampleApprovals.decidedAt), "already_consumed"),
        (.idempotencyConflict, "idempotency_conflict"),
        (.invalidField("payload", "The edited payload must be a JSON object."), "invalid_field"),
    ])
    func otherErrors(_ error: ApprovalError, _ code: String) {
        #expect(SlackInteractions.refusal(error, to: "U0OTHER") == "That did not work: \(code).")
    }

    @Test("every refusal is one line that ends with a full stop")
    func shape() {
        let errors: [ApprovalError] = [
            .notFound, .selfApproval, .expired, .notRequester, .notApproved(.rejected), .idempotencyConflict,
            .alreadyDecided(Self.decision(.approved)), .alreadyDecided(Self.decision(.expired)),
        ]
        for error in errors {
            let text = SlackInteractions.refusal(error, to: "U0OTHER")
            #expect(text.hasSuffix("."), "\(text)")
            #expect(!text.contains("\n"), "\(text)")
        }
    }
}
