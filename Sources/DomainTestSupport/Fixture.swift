import Foundation

import ApprovalCore

/// Fixed facts for tests at every layer: one clock reading, one payload, one pending approval, one chain.
public enum Fixture {
    /// 2026-11-22T01:22:43Z.
    public static let now = Date(timeIntervalSince1970: 1_795_310_563)
    /// One hour after `now`: 2026-11-22T02:22:43Z.
    public static let deadline = now.addingTimeInterval(3600)

    public static let payload: JSONValue = .object([
        "service": .string("api"), "environment": .string("production"), "commit": .string("9f3c2e1"),
        "replicas": .number(3),
    ])
    /// `payload` with one field changed.
    public static let editedPayload: JSONValue = .object([
        "service": .string("api"), "environment": .string("production"), "commit": .string("9f3c2e1"),
        "replicas": .number(1),
    ])

    /// SHA-256 of the canonical `payload` and `editedPayload`, computed with Python's `hashlib`.
    public static let payloadDigest = "89ee15bf612db80f330c115b114f1a8c472183ae0dbf5f4ee8cb7964c9a8c1f0"
    public static let editedPayloadDigest = "5c66898ac66276e27093b67f9516e5c593d2d37f3838c98adb5ea93b36f723d2"

    public static let requester = "agent:deploy-bot"

    public static func pending(
        requester: String? = Fixture.requester, callbackURL: String? = nil, ownerKey: String? = "ci"
    ) -> Approval {
        Approval(
            id: ApprovalID(rawValue: "apr_fixture0000000000000000"), action: "Deploy api to production", payload: payload,
            reasoning: "Release 42", risk: .high, gate: "deploy-prod", requester: requester, createdAt: now,
            expiresAt: deadline, callbackURL: callbackURL, ownerKey: ownerKey
        )
    }

    /// `deploy-prod`: `U1 U2 30m → S1 1h → U3 2h`, then `finalAction`.
    public static func threeLevels(_ finalAction: EscalationChain.FinalAction = .reject) -> EscalationChain {
        EscalationChain(
            name: "deploy-prod",
            levels: [
                EscalationChain.Level(approvers: [.user("U1"), .user("U2")], sla: 1_800),
                EscalationChain.Level(approvers: [.group("S1")], sla: 3_600),
                EscalationChain.Level(approvers: [.user("U3")], sla: 7_200),
            ],
            finalAction: finalAction
        )
    }
}
