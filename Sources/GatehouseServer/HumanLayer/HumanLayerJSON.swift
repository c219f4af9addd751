import ApprovalCore
import Foundation

/// Approvals and contact requests in HumanLayer's shapes: the bare `FunctionCall` and `HumanContact` objects its SDK
/// reads. A function call is pending while `status.approved` is `null`; anything but a plain approval answers
/// `approved: false` with a comment (its SDK refuses a rejection without one), so the original arguments never run
/// unless they were approved as they are.
enum HumanLayerJSON {
    static func functionCall(_ approval: Approval, callID: String) -> JSONValue {
        .object([
            "run_id": .string(runID(of: approval)),
            "call_id": .string(callID),
            "spec": .object([
                "fn": .string(approval.action), "kwargs": approval.payload,
                "channel": .null, "reject_options": .null, "state": .null,
            ]),
            "status": status(of: approval),
            "gatehouse": .object([
                "approval_id": .string(approval.id.rawValue), "status": .string(approval.status.rawValue),
                "payload_sha256": .string(approval.payloadSHA256),
            ]),
        ])
    }

    /// A function call's `run_id`: kept as its approval's requester, `agent:RUN_ID`.
    static func runID(of approval: Approval) -> String {
        guard let requester = approval.requester else { return "" }
        return requester.hasPrefix(requesterPrefix) ? String(requester.dropFirst(requesterPrefix.count)) : requester
    }

    static let requesterPrefix = "agent:"

    static func status(of approval: Approval) -> JSONValue {
        var members: [String: JSONValue] = [
            "requested_at": .string(RFC3339.string(from: approval.createdAt)), "responded_at": .null, "approved": .null,
            "comment": .null, "reject_option_name": .null, "slack_message_ts": .null,
        ]
        guard let decision = approval.decision else { return .object(members) }
        members["responded_at"] = .string(RFC3339.string(from: decision.at))
        let approved = decision.outcome == .approved
        members["approved"] = .bool(approved)
        members["comment"] = comment(on: approval, decision).map(JSONValue.string) ?? .null
        if decision.outcome == .rejected { members["reject_option_name"] = decision.reasonCode.map(JSONValue.string) ?? .null }
        return .object(members)
    }

    /// What the agent is told: the approver's reason as it is for an approval (or none), and for everything else a
    /// sentence that is never `null`: a rejection's reason (or that there was none), the payload a modification
    /// approved instead, or that it expired or was cancelled.
    static func comment(on approval: Approval, _ decision: Decision) -> String? {
        let who = decision.byName ?? decision.by
        let when = RFC3339.string(from: decision.at)
        switch decision.outcome {
        case .approved:
            return decision.reason
        case .rejected:
            if let reason = decision.reason, !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return reason }
            return "Rejected by \(who) without a comment."
        case .modified:
            let because = decision.reason.map { " (\($0))" } ?? ""
            return "Not approved as requested: \(who) approved \(approval.action) only with these arguments instead\(because): "
                + CanonicalJSON.serialize(decision.payload)
                + ". Run it with these arguments instead, never with the original ones."
        case .expired:
            return "Not approved: nobody decided before the request expired at \(when). Do not run it."
        case .cancelled:
            return "Not approved: the request was cancelled at \(when)" + (decision.reason.map { " (\($0))" } ?? "") + ". Do not run it."
        }
    }

    static func humanContact(_ contact: ContactRequest) -> JSONValue {
        var status: [String: JSONValue] = [
            "requested_at": .string(RFC3339.string(from: contact.createdAt)), "responded_at": .null, "response": .null,
            "response_option_name": .null,
        ]
        var extra: [String: JSONValue] = ["contact_id": .string(contact.id.rawValue), "answered_by": .null, "answered_by_name": .null]
        if let answer = contact.answer {
            status["responded_at"] = .string(RFC3339.string(from: answer.at))
            status["response"] = .string(answer.response)
            status["response_option_name"] = answer.optionName.map(JSONValue.string) ?? .null
            extra["answered_by"] = .string(answer.by)
            extra["answered_by_name"] = answer.byName.map(JSONValue.string) ?? .null
        }
        return .object([
            "run_id": .string(contact.runID), "call_id": .string(contact.callID), "spec": contact.spec,
            "status": .object(status), "gatehouse": .object(extra),
        ])
    }
}
