import ApprovalCore
import Foundation
import GRDB

/// Mapping between `Vote` and a row of the `vote` table.
enum VoteRow {
    static let columns = "approval_id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at, roles"

    static func insert(_ vote: Vote, approvalID: ApprovalID, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO vote (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").execute(
            arguments: [approvalID.rawValue, vote.by, vote.byName, vote.verdict.rawValue, vote.reason, vote.reasonCode,
                        vote.payloadSHA256, vote.at.millisecondsSince1970,
                        vote.roles.isEmpty ? nil : CanonicalJSON.serialize(.array(vote.roles.map(JSONValue.string)))])
    }

    /// Marks the live vote of `voter` withdrawn (a Modify replaced the payload it approved).
    static func withdraw(_ vote: Vote, approvalID: ApprovalID, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE vote SET withdrawn_at = ? WHERE approval_id = ? AND voter = ? AND withdrawn_at IS NULL")
            .execute(arguments: [vote.withdrawnAt?.millisecondsSince1970, approvalID.rawValue, vote.by])
    }

    /// An approval's votes as a column of its row: a JSON array of `[id, voter, voter_name, verdict, reason,
    /// reason_code, payload_sha256, at]`, `[]` when there are none.
    static let gathered = """
        (SELECT json_group_array(json_array(id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at, roles, withdrawn_at))
         FROM vote WHERE vote.approval_id = approval.id) AS votes
        """

    /// The votes of `gathered`, oldest first.
    static func decodeGathered(_ text: String?) throws -> [Vote] {
        guard let text, text != "[]" else { return [] }
        guard case .array(let rows) = try JSONValue.parse(text) else { throw StorageError.corrupt("votes") }
        return try rows.map { row -> (Double, Vote) in
            guard case .array(let f) = row, f.count == 10, case .number(let id) = f[0], let voter = f[1].stringValue,
                let verdict = f[3].stringValue.flatMap(Vote.Verdict.init), let digest = f[6].stringValue, case .number(let at) = f[7]
            else { throw StorageError.corrupt("vote") }
            return (id, Vote(
                by: voter, byName: f[2].stringValue, verdict: verdict, reason: f[4].stringValue, reasonCode: f[5].stringValue,
                payloadSHA256: digest, at: Date(millisecondsSince1970: Int64(at)), roles: try roles(f[8]),
                withdrawnAt: { if case .number(let at) = f[9] { Date(millisecondsSince1970: Int64(at)) } else { nil } }()))
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    private static func roles(_ value: JSONValue) throws -> [String] {
        guard case .string(let text) = value else { return [] }
        guard case .array(let names) = try JSONValue.parse(text) else { throw StorageError.corrupt("vote roles") }
        return names.compactMap(\.stringValue)
    }
}
