import ApprovalCore
import Foundation
import SlackAPI

/// What messages say about a request's place in its escalation chain: the note on every message about it, and the
/// announcement posted in its thread and by DM when a level's time runs out.
public enum EscalationText {
    /// Approvers as Slack mentions, so they are notified: `<@U1> <!subteam^S1>`.
    public static func mentions(_ approvers: [EscalationChain.Approver]) -> String {
        approvers.map(\.description).joined(separator: " ")
    }

    /// The note shown on a pending request's messages, or `nil` for the default chain (anyone in the channel, no
    /// escalation). Its `deadline` is when the request stops waiting: the chain's end or `expires_at`, whichever is
    /// first.
    public static func note(for approval: Approval) -> EscalationNote? {
        guard approval.status == .pending, approval.chain != .default, !approval.chain.levels.isEmpty else { return nil }
        let level = approval.escalationLevel
        let text = ":busts_in_silhouette: *Level \(level) of \(approval.chain.levels.count)* of chain `\(Mrkdwn.escape(approval.chain.name))` · "
            + callOn(approval, level: level) + " · " + whatNext(approval)
        return EscalationNote(text: text, deadline: approval.decideBy)
    }

    /// Posted in the request's thread (and at the top of each DM) when `level` is asked at `now`: what happened, who
    /// is asked now, and what happens next. A ping sent late (after a restart, when the request has moved on to a later
    /// level) leaves out what happens next: the ping for the current level says that.
    public static func announcement(_ approval: Approval, level: Int, repeated: Bool, at now: Date) -> String {
        let what = head(approval, level: level, repeated: repeated, at: now)
        guard level == approval.escalationLevel else { return what }
        return what + " " + sentence(whatNext(approval))
    }

    /// What happened and who is asked now, without what comes next: the line kept at the top of a DM through its
    /// updates, where the request's own note says what comes next as it changes. Asking again, it says how long the
    /// level has waited at `now`, which stays true when asks were missed while the service was down.
    public static func head(_ approval: Approval, level: Int, repeated: Bool, at now: Date) -> String {
        let chain = approval.chain
        let count = chain.levels.count
        let who = callOn(approval, level: level)
        let head: String
        if repeated {
            let waited = waitedText(now.timeIntervalSince(approval.levelStartedAt), sla: chain.level(level).sla)
            // A level of nobody but the requester is not "asked again": say again who still may decide.
            let asking = namesOthers(approval, level: level) ? "; asking again: " : ": "
            head = "Still no decision after \(waited) at level \(level) of \(count)\(asking)\(who)."
        } else if level > 1, !namesOthers(approval, level: level - 1), !chain.level(level - 1).approvers.isEmpty {
            // Left at once: nobody there may decide.
            head = "Level \(level - 1) names only the requester, who may not decide; escalated at once to level \(level) of \(count): \(who)."
        } else {
            let previous = chain.level(level - 1).sla
            head = "No decision after \(ChainDuration.format(previous)); escalated to level \(level) of \(count): \(who)."
        }
        return head
    }

    /// Whom `level` calls on, as mentions: its approvers but the requester, who may not decide and so is not called on
    /// even when the chain names them. A level that names nobody else says so, and who still may decide: the earlier
    /// levels' approvers, or nobody, which only an admin can mend.
    static func callOn(_ approval: Approval, level: Int) -> String {
        let own = approval.withoutRequester(approval.chain.level(level).approvers)
        if !own.isEmpty { return mentions(own) }
        let earlier = level > 1 ? approval.withoutRequester(approval.chain.approvers(upTo: level - 1)) : []
        if !earlier.isEmpty { return "nobody but the requester, who may not decide; " + mentions(earlier) + " still may" }
        return "nobody but the requester, who may not decide: ask a Gatehouse admin to fix the chain"
    }

    /// Whether `level` names anyone but the requester.
    static func namesOthers(_ approval: Approval, level: Int) -> Bool {
        !approval.withoutRequester(approval.chain.level(level).approvers).isEmpty
    }

    /// What happens at the next deadline, as a clause whose subject is the request, so it reads both after a `·`
    /// in the note and as "It …" in an announcement: "escalates to level 3 <date>", "expires <date> if nobody
    /// decides"…
    static func whatNext(_ approval: Approval) -> String {
        let chain = approval.chain
        let level = approval.escalationLevel
        let next = approval.nextDeadline
        if next >= approval.expiresAt { return "expires \(SlackText.date(approval.expiresAt)) if nobody decides" }
        if level < chain.levels.count { return "escalates to level \(level + 1) \(SlackText.date(next))" }
        switch chain.finalAction {
        case .reject:
            return "expires \(SlackText.date(next)) if nobody decides (then reject)"
        case .approve:
            return approval.risk == .low
                ? "is approved automatically \(SlackText.date(next)) if nobody decides (then approve, low risk)"
                : "expires \(SlackText.date(next)) if nobody decides (then approve applies to low risk only)"
        case .hold:
            // No time for the next ask: the note then stays the same from one ask to the next, so asking again
            // updates no message.
            let every = ChainDuration.format(chain.level(level).sla)
            return "asks level \(level) again every \(every) until it expires \(SlackText.date(approval.expiresAt))"
        }
    }

    /// A time waited, as durations are written, in the unit the level's SLA is counted in: for an SLA of whole minutes,
    /// whole minutes (an ask sent a few seconds after its deadline reads "40m", not "40m3s"); otherwise seconds.
    static func waitedText(_ seconds: TimeInterval, sla: TimeInterval) -> String {
        let whole = max(seconds.rounded(.down), 1)
        let inMinutes = whole >= 60 && sla.truncatingRemainder(dividingBy: 60) == 0
        return ChainDuration.format(inMinutes ? (whole / 60).rounded(.down) * 60 : whole)
    }

    /// A reminder DM once the request is decided: it asked for a decision, and now says none is needed and why.
    /// "“Deploy api” is no longer waiting for you. :white_check_mark: *Approved* by <@U1> · <date>"
    static func settledReminder(_ approval: Approval) -> String {
        let outcome = ApprovalMessage.outcomeText(approval).prefix { $0 != "\n" }
        return SlackText.fit("“\(Mrkdwn.escape(approval.action))” is no longer waiting for you. " + outcome, BlockKitLimits.messageText)
    }

    private static func sentence(_ clause: String) -> String {
        guard let first = clause.first else { return clause }
        return "It " + String(first) + clause.dropFirst() + "."
    }
}
