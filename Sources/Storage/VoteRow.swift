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

    /// One approval's votes, oldest first.
    static func fetch(for id: ApprovalID, in db: Database) throws -> [Vote] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(columns) FROM vote WHERE approval_id = ? ORDER BY id"), arguments: [id.rawValue])
            .map(decode)
    }

    /// The votes of several approvals at once, each approval's oldest first.
    static func fetch(for ids: [ApprovalID], in db: Database) throws -> [ApprovalID: [Vote]] {
        var votes: [ApprovalID: [Vote]] = [:]
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = ids[start..<min(start + 500, ids.count)]
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(columns) FROM vote WHERE approval_id IN (\(marks)) ORDER BY id",
                arguments: StatementArguments(chunk.map(\.rawValue)))
            for row in rows { votes[ApprovalID(rawValue: row["approval_id"]), default: []].append(try decode(row)) }
        }
        return votes
    }

    static func decode(_ row: Row) throws -> Vote {
        guard let verdict = Vote.Verdict(rawValue: row["verdict"]) else { throw StorageError.corrupt("vote") }
        return Vote(
            by: row["voter"], byName: row["voter_name"], verdict: verdict, reason: row["reason"], reasonCode: row["reason_code"],
            payloadSHA256: row["payload_sha256"], at: Date(millisecondsSince1970: row["at"]))
    }
}
