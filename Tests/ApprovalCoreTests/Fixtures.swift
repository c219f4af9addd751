import Foundation

import ApprovalCore

/// Fixed facts for pure domain tests: one clock reading, one payload, one pending approval.
enum Fixture {
    /// 2026-11-22T01:22:43Z.
    static let now = Date(timeIntervalSince1970: 1_795_310_563)
    /// One hour after `now`: 2026-11-22T02:22:43Z.
    static let deadline = now.addingTimeInterval(3600)

    static let payload: JSONValue = .object([
        "service": .string("api"), "environment": .string("production"), "commit": .string("9f3c2e1"),
        "replicas": .number(3),
    ])
    /// `payload` with one field changed.
    static let editedPayload: JSONValue = .object([
        "service": .string("api"), "environment": .string("production"), "commit": .string("9f3c2e1"),
        "replicas": .number(1),
    ])

    /// SHA-256 of the canonical `payload` and `editedPayload`, computed with Python's `hashlib`.
    static let payloadDigest = "89ee15bf612db80f330c115b114f1a8c472183ae0dbf5f4ee8cb7964c9a8c1f0"
    static let editedPayloadDigest = "5c66898ac66276e27093b67f9516e5c593d2d37f3838c98adb5ea93b36f723d2"

    static let requester = "agent:deploy-bot"

    static func pending(
        requester: String? = Fixture.requester, callbackURL: String? = nil, ownerKey: String? = "ci"
    ) -> Approval {
        Approval(
            id: ApprovalID(rawValue: "apr_fixture0000000000000000"), action: "Deploy api to production", payload: payload,
            reasoning: "Release 42", risk: .high, gate: "deploy-prod", requester: requester, createdAt: now,
            expiresAt: deadline, callbackURL: callbackURL, ownerKey: ownerKey
        )
    }
}
