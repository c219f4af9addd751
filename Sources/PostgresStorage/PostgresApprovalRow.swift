import ApprovalCore
import Foundation
import Logging
import PostgresNIO

/// Mapping between `Approval` and a row of the `approval` table on PostgreSQL: the same text in every column as on
/// SQLite (`ApprovalRow` in Storage), so rows copied between engines read back equal and hash the same.
enum PostgresApprovalRow {
    /// The stored columns, in the order `insert` binds them.
    static let names = [
        "id", "status", "action", "payload", "payload_sha256", "reasoning", "consequences", "on_reject", "risk", "gate",
        "requester", "created_at", "expires_at", "escalation_level", "decision", "callback_url", "owner_key", "consumed_at",
        "chain", "level_started_at", "next_deadline", "owner_key_id", "policy", "amended_payload", "revision",
    ]

    /// The approval's votes gathered in its row, in the shape SQLite's `json_group_array` gives them (see
    /// `VoteCoding.decodeGathered`): `[id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at, roles,
    /// withdrawn_at]` per vote, oldest first, `[]` when there are none. Read through `vote_by_approval`.
    static let gatheredVotes = """
        (SELECT COALESCE(json_agg(json_build_array(v.id, v.voter, v.voter_name, v.verdict, v.reason, v.reason_code,
                                                   v.payload_sha256, v.at, v.roles, v.withdrawn_at) ORDER BY v.id), '[]')::text
         FROM vote v WHERE v.approval_id = approval.id) AS votes
        """

    /// The columns read back, qualified (a join with `idempotency_key` shares some names), and the votes: reading an
    /// approval is one statement, votes included.
    static let selectColumns = names.map { "approval.\($0)" }.joined(separator: ", ") + ", " + gatheredVotes

    /// The approval and its votes, as one statement on `connection`.
    static func fetch(_ id: ApprovalID, on connection: PostgresConnection, logger: Logger) async throws -> Approval? {
        let rows = try await connection.query(
            "SELECT \(unescaped: selectColumns) FROM approval WHERE approval.id = \(id.rawValue)", logger: logger)
        var found: Approval?
        for try await row in rows { found = try decode(row) }
        return found
    }

    /// Every approval `query` selects (with `selectColumns`), in order.
    static func fetchAll(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [Approval] {
        var approvals: [Approval] = []
        for try await row in try await connection.query(query, logger: logger) { approvals.append(try decode(row)) }
        return approvals
    }

    static func decode(_ postgresRow: PostgresRow) throws -> Approval {
        let row = postgresRow.makeRandomAccess()
        func column<T: PostgresDecodable>(_ name: String, _: T.Type = T.self) throws -> T { try row[name].decode(T.self) }
        func date(_ name: String) throws -> Date { Date(millisecondsSince1970: try column(name, Int64.self)) }
        func optionalDate(_ name: String) throws -> Date? { try column(name, Int64?.self).map(Date.init(millisecondsSince1970:)) }
        return Approval(
            id: ApprovalID(rawValue: try column("id")),
            status: ApprovalStatus(rawValue: try column("status")) ?? .pending,
            action: try column("action"),
            payload: try JSONValue.parse(try column("payload", String.self)),
            reasoning: try column("reasoning"),
            consequences: try column("consequences"),
            onReject: try column("on_reject"),
            risk: Risk(rawValue: try column("risk")) ?? .medium,
            gate: try column("gate"),
            requester: try column("requester"),
            createdAt: try date("created_at"),
            expiresAt: try date("expires_at"),
            escalationLevel: Int(try column("escalation_level", Int64.self)),
            decision: try column("decision", String?.self).map(DecisionCoding.decode),
            callbackURL: try column("callback_url"),
            ownerKey: try column("owner_key"),
            ownerKeyID: try column("owner_key_id"),
            consumedAt: try optionalDate("consumed_at"),
            chain: try column("chain", String?.self).map(ChainCoding.decode) ?? .default,
            levelStartedAt: try optionalDate("level_started_at"),
            nextDeadline: try optionalDate("next_deadline"),
            votes: try VoteCoding.decodeGathered(try column("votes", String?.self)),
            policy: try column("policy", String?.self).map(PolicyCoding.decodeApplied),
            amendedPayload: try column("amended_payload", String?.self).map { try JSONValue.parse($0) },
            revision: Int(try column("revision", Int64.self)),
            payloadSHA256: try column("payload_sha256")
        )
    }

    /// Stores a new approval as SQLite's `ApprovalRow.arguments` does: the payload as canonical JSON, the chain `NULL`
    /// when it is the built-in default.
    static func insert(_ a: Approval, on connection: PostgresConnection, logger: Logger) async throws {
        let payload = CanonicalJSON.serialize(a.payload)
        let decision = a.decision.map(DecisionCoding.encode)
        let chain = a.chain == .default ? nil : ChainCoding.encode(a.chain)
        let policy = a.policy.map(PolicyCoding.encode)
        let amended = a.amendedPayload.map(CanonicalJSON.serialize)
        try await connection.query(
            """
            INSERT INTO approval (\(unescaped: names.joined(separator: ", ")))
            VALUES (\(a.id.rawValue), \(a.status.rawValue), \(a.action), \(payload), \(a.payloadSHA256), \(a.reasoning),
                    \(a.consequences), \(a.onReject), \(a.risk.rawValue), \(a.gate), \(a.requester), \(a.createdAt.ms),
                    \(a.expiresAt.ms), \(a.escalationLevel), \(decision), \(a.callbackURL), \(a.ownerKey), \(a.consumedAt?.ms),
                    \(chain), \(a.levelStartedAt.ms), \(a.nextDeadline.ms), \(a.ownerKeyID), \(policy), \(amended), \(a.revision))
            """, logger: logger)
    }

    /// A `LIMIT` as SQLite reads one: a negative limit is no limit (`LIMIT NULL` on PostgreSQL, which refuses a
    /// negative one).
    static func limit(_ limit: Int) -> Int64? { limit < 0 ? nil : Int64(limit) }
}

/// Mapping between `Vote` and a row of the `vote` table, as SQLite's `VoteRow`.
enum PostgresVoteRow {
    static func insert(_ vote: Vote, approvalID: ApprovalID, on connection: PostgresConnection, logger: Logger) async throws {
        let roles = vote.roles.isEmpty ? nil : CanonicalJSON.serialize(.array(vote.roles.map(JSONValue.string)))
        try await connection.query(
            """
            INSERT INTO vote (approval_id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at, roles)
            VALUES (\(approvalID.rawValue), \(vote.by), \(vote.byName), \(vote.verdict.rawValue), \(vote.reason),
                    \(vote.reasonCode), \(vote.payloadSHA256), \(vote.at.ms), \(roles))
            """, logger: logger)
    }

    /// Marks the live vote of `vote.by` withdrawn (a Modify replaced the payload it approved).
    static func withdraw(_ vote: Vote, approvalID: ApprovalID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE vote SET withdrawn_at = \(vote.withdrawnAt?.ms)
            WHERE approval_id = \(approvalID.rawValue) AND voter = \(vote.by) AND withdrawn_at IS NULL
            """, logger: logger)
    }
}
