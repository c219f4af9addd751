import ApprovalCore
import Foundation
import GRDB

/// Mapping between `Vote` and a row of the `vote` table.
enum VoteRow {
    static let columns = "approval_id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at"

    static func insert(_ vote: Vote, approvalID: ApprovalID, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO vote (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").execute(
            arguments: [approvalID.rawValue, vote.by, vote.byName, vote.verdict.rawValue, vote.reason, vote.reasonCode,
                        vote.payloadSHA256, vote.at.millisecondsSince1970])
    }

    /// An approval's votes as a column of its row: a JSON array of `[id, voter, voter_name, verdict, reason,
    /// reason_code, payload_sha256, at]`, `[]` when there are none.
    static let gathered = """
        (SELECT json_group_array(json_array(id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at))
         FROM vote WHERE vote.approval_id = approval.id) AS votes
        """

    /// The votes of `gathered`, oldest first.
    static func decodeGathered(_ text: String?) throws -> [Vote] {
        guard let text, text != "[]" else { return [] }
        guard case .array(let rows) = try JSONValue.parse(text) else { throw StorageError.corrupt("votes") }
        return try rows.map { row -> (Double, Vote) in
            guard case .array(let f) = row, f.count == 8, case .number(let id) = f[0], let voter = f[1].stringValue,
                let verdict = f[3].stringValue.flatMap(Vote.Verdict.init), let digest = f[6].stringValue, case .number(let at) = f[7]
            else { throw StorageError.corrupt("vote") }
            return (id, Vote(
                by: voter, byName: f[2].stringValue, verdict: verdict, reason: f[4].stringValue, reasonCode: f[5].stringValue,
                payloadSHA256: digest, at: Date(millisecondsSince1970: Int64(at))))
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
