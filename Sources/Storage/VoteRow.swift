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
}
