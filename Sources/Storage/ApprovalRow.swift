import ApprovalCore
import Foundation
import GRDB

/// Mapping between `Approval` and a row of the `approval` table.
enum ApprovalRow {
    static let columns = """
        id, status, action, payload, payload_sha256, reasoning, consequences, on_reject, risk, gate, requester,
        created_at, expires_at, escalation_level, decision, callback_url, owner_key, consumed_at, chain, level_started_at,
        next_deadline, owner_key_id, policy, amended_payload, revision
        """
    /// The columns read back: the stored ones, and the approval's votes gathered in the same statement (read through
    /// the vote table's index on `approval_id`), so reading an approval costs one statement, votes included.
    static let selectColumns = columns + ", " + VoteRow.gathered
    // Built once: cached statements are looked up by their SQL text.
    static let insertSQL = "INSERT INTO approval (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    static let selectByIDSQL = "SELECT \(selectColumns) FROM approval WHERE id = ?"

    /// Every approval `sql` selects (with `selectColumns`), decoded from each row as the statement steps to it. Such a
    /// row finds a column by a hash of its name; a row copied out first (`Row.fetchAll`) compares the name with every
    /// column's, lower-cased, on each lookup, which was a tenth of the time of a pending page of 1,000 requests.
    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Approval] {
        try Array(Row.fetchCursor(db, sql: sql, arguments: arguments).map(decode))
    }

    static func decode(_ row: Row) throws -> Approval {
        let payload = try JSONValue.parse(row["payload"] as String)
        return Approval(
            id: ApprovalID(rawValue: row["id"]),
            status: ApprovalStatus(rawValue: row["status"]) ?? .pending,
            action: row["action"],
            payload: payload,
            reasoning: row["reasoning"],
            consequences: row["consequences"],
            onReject: row["on_reject"],
            risk: Risk(rawValue: row["risk"]) ?? .medium,
            gate: row["gate"],
            requester: row["requester"],
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            expiresAt: Date(millisecondsSince1970: row["expires_at"]),
            escalationLevel: row["escalation_level"],
            decision: try (row["decision"] as String?).map(DecisionCoding.decode),
            callbackURL: row["callback_url"],
            ownerKey: row["owner_key"],
            ownerKeyID: row["owner_key_id"],
            consumedAt: (row["consumed_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
            chain: try (row["chain"] as String?).map(ChainCoding.decode) ?? .default,
            levelStartedAt: (row["level_started_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
            nextDeadline: (row["next_deadline"] as Int64?).map(Date.init(millisecondsSince1970:)),
            votes: try VoteCoding.decodeGathered(row["votes"]),
            policy: try (row["policy"] as String?).map(PolicyCoding.decodeApplied),
            amendedPayload: try (row["amended_payload"] as String?).map { try JSONValue.parse($0) },
            revision: row["revision"],
            payloadSHA256: row["payload_sha256"]
        )
    }

    static func arguments(_ a: Approval) -> StatementArguments {
        [
            a.id.rawValue, a.status.rawValue, a.action, CanonicalJSON.serialize(a.payload), a.payloadSHA256,
            a.reasoning, a.consequences, a.onReject, a.risk.rawValue, a.gate, a.requester,
            a.createdAt.millisecondsSince1970, a.expiresAt.millisecondsSince1970, a.escalationLevel,
            a.decision.map(DecisionCoding.encode), a.callbackURL, a.ownerKey, a.consumedAt?.millisecondsSince1970,
            a.chain == .default ? nil : ChainCoding.encode(a.chain), a.levelStartedAt.millisecondsSince1970,
            a.nextDeadline.millisecondsSince1970, a.ownerKeyID, a.policy.map(PolicyCoding.encode),
            a.amendedPayload.map(CanonicalJSON.serialize), a.revision,
        ]
    }
}
