import Foundation

/// Why a command on an approval was refused. Each case maps to one HTTP code at the API edge
/// and one sentence in Slack.
public enum ApprovalError: Error, Sendable, Equatable {
    /// No approval with that id (or none the caller may see).
    case notFound
    /// It already left `pending`; the decision says by whom and when.
    case alreadyDecided(Decision)
    /// The requester tried to decide their own request.
    case selfApproval
    /// A Slack user who is not among the approvers of levels 1…`level` of the request's chain; `approvers` are those
    /// who may decide now.
    case notApprover(level: Int, of: Int, approvers: [EscalationChain.Approver])
    /// Its deadline has passed.
    case expired
    /// Only the requester's key may cancel it.
    case notRequester
    /// The caller may not do this at all, whatever the approval (a `request` key deciding); the sentence says why.
    case forbidden(String)
    /// `verify`: the approval is not approved or modified.
    case notApproved(ApprovalStatus)
    /// `verify`: the payload's digest differs from the approved one.
    case payloadMismatch(expected: String, actual: String)
    /// `verify` with `consume`: it was used up before.
    case alreadyConsumed(Date)
    /// The same idempotency key came with a different body.
    case idempotencyConflict
    /// Under a quorum, this person's vote is counted already.
    case alreadyVoted(Vote)
    /// Only members of the break-glass roles, and keys created with `--break-glass`, may break the glass.
    case notBreakGlass(String)
    /// A field of a new request is missing or wrong.
    case invalidField(String, String)
}
