import ApprovalCore
import Foundation
import SlackBridge
import Testing

/// Fixed approvals for rendering tests: fixed ids, fixed dates, decisions made through the domain's own transitions.
enum SampleApprovals {
    /// 2026-03-02T09:15:00Z.
    static let filedAt = Date(timeIntervalSince1970: 1_772_442_900)
    /// Ten minutes after filing: 2026-03-02T09:25:00Z.
    static let decidedAt = filedAt.addingTimeInterval(600)

    static func id(_ number: Int) -> ApprovalID {
        let digits = String(number)
        return ApprovalID(rawValue: "apr_golden" + String(repeating: "0", count: 12 - digits.count) + digits)
    }

    /// A typical high-risk request with everything filled in, waiting for a decision.
    static let pendingHighRisk = ApprovalRequest(
        action: "Drop table orders_archive_2019 in production",
        payload: .object([
            "database": .string("orders-prod"),
            "statement": .string("DROP TABLE orders_archive_2019;"),
            "dry_run": .bool(false),
            "replicas": .number(3),
            "tags": .array([.string("cleanup"), .string("storage")]),
        ]),
        reasoning: "The archive was copied to cold storage on 2026-02-27 and the copy was verified row by row. Keeping it costs 40 GB of SSD on every replica.",
        consequences: "The table disappears from the primary and all 3 replicas. Getting it back means reloading it from cold storage (about 2 hours).",
        onReject: "I will keep the table and ask again after the next storage review.",
        risk: .high, gate: "prod-db", requester: "agent:db-janitor", expiresIn: 3600
    ).approval(id: id(1), ownerKey: "db-janitor", at: filedAt)

    /// The least a requester can send: an action and a payload, low risk, no requester name.
    static let pendingLowMinimal = ApprovalRequest(
        action: "Restart the staging worker",
        payload: .object(["service": .string("worker"), "environment": .string("staging")]),
        risk: .low
    ).approval(id: id(2), ownerKey: "ci", at: filedAt)

    /// A deploy whose payload is worth editing.
    static let pendingDeploy = ApprovalRequest(
        action: "Deploy api 2.14.0 to production",
        payload: deployPayload,
        reasoning: "Release 2.14.0 passed staging for 48 hours.",
        risk: .medium, gate: "deploy-prod", requester: "agent:deploy-bot", expiresIn: 7200
    ).approval(id: id(5), ownerKey: "deploy-bot", at: filedAt)

    static let deployPayload: JSONValue = .object([
        "service": .string("api"),
        "environment": .string("production"),
        "version": .string("2.14.0"),
        "replicas": .number(3),
        "skip_tests": .bool(true),
        "options": .object(["canary": .bool(true), "region": .string("eu-west-1")]),
    ])

    /// `deployPayload` as an approver edits it: one value changed, one nested value changed, one added, one removed.
    static let editedDeployPayload: JSONValue = .object([
        "service": .string("api"),
        "environment": .string("production"),
        "version": .string("2.14.0"),
        "replicas": .number(1),
        "max_surge": .number(1),
        "options": .object(["canary": .bool(false), "region": .string("eu-west-1")]),
    ])

    /// A medium-risk request whose payload is too large to show whole in the message.
    static let pendingLargePayload = ApprovalRequest(
        action: "Apply 60 firewall rules to the edge",
        payload: .object(Dictionary(uniqueKeysWithValues: (1...60).map { index in
            (String(format: "rule_%02d", index), JSONValue.string("allow tcp 443 from 10.\(index).0.0/16 to edge-\(index).internal"))
        })),
        risk: .medium, gate: "network", requester: "agent:netops", expiresIn: 3600
    ).approval(id: id(8), ownerKey: "netops", at: filedAt)

    static func decided(_ approval: Approval, _ command: DecisionCommand, at date: Date = decidedAt) throws -> Approval {
        try approval.deciding(command, at: date).after
    }

    static func approvedBySlackUser() throws -> Approval {
        try decided(pendingHighRisk, DecisionCommand(.approve, by: .slackUser("U012ABCDEF", name: "dana"), reason: "Checked the cold-storage copy myself; row counts match."))
    }

    static func rejectedWithReasonCode() throws -> Approval {
        var approval = pendingHighRisk
        approval.id = id(3)
        return try decided(approval, DecisionCommand(.reject, by: .slackUser("U034GHIJKL", name: "sam"), reason: "Not during the quarter-end freeze.\nAsk again on the 10th.", reasonCode: RejectReasonCode.notNow.rawValue))
    }

    static func modified() throws -> Approval {
        try decided(pendingDeploy, DecisionCommand(.modify(editedDeployPayload), by: .slackUser("U056MNOPQR", name: "lee")))
    }

    static func expired() throws -> Approval {
        var approval = pendingLowMinimal
        approval.id = id(6)
        return try #require(approval.expiring(at: approval.expiresAt.addingTimeInterval(1))).after
    }

    static func cancelled() throws -> Approval {
        var approval = pendingLowMinimal
        approval.id = id(7)
        return try approval.cancelling(by: .key(named: "ci"), reason: "Superseded by a newer request.", at: filedAt.addingTimeInterval(120)).after
    }
}
