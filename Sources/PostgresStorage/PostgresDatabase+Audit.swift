import ApprovalCore
import Foundation
import Logging
import PostgresNIO

// MARK: - Audit

/// Reading the audit log back on PostgreSQL, with the same checks and messages as SQLite's `AuditLog.verify`.
///
/// Replicas append under one advisory lock, each from the head the previous transaction committed, and a commit is
/// visible before its lock is released: an entry is never visible before the one ahead of it. So a walk by `seq`
/// while others append sees an unbroken prefix of the chain, and an approval is never visible without the entries
/// that committed with it.
extension PostgresDatabase: AuditArchive {
    static let auditColumns = "seq, at, kind, approval_id, actor, details, prev_hash, hash"

    /// Entries in order, optionally from a time on: from the first entry written at or after `since` to the end of the
    /// chain, one unbroken tail even when the clock was stepped back and later entries carry earlier times.
    public func auditEntries(since: Date? = nil, approvalID: ApprovalID? = nil) async throws -> [AuditEntry] {
        var bindings = PostgresBindings()
        var conditions: [String] = []
        if let since {
            bindings.append(since.ms)
            conditions.append("seq >= (SELECT MIN(seq) FROM audit_log WHERE at >= $\(bindings.count))")
        }
        if let approvalID {
            bindings.append(approvalID.rawValue)
            conditions.append("approval_id = $\(bindings.count)")
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let query = PostgresQuery(unsafeSQL: "SELECT \(Self.auditColumns) FROM audit_log\(whereClause) ORDER BY seq", binds: bindings)
        return try await read { connection in
            var entries: [AuditEntry] = []
            for try await row in try await connection.query(query, logger: self.logger).decode(AuditRow.self) {
                let (seq, at, kind, approvalID, actor, details, prevHash, hash) = row
                entries.append(
                    AuditEntry(
                        seq: seq, at: Date(millisecondsSince1970: at), kind: kind, approvalID: approvalID, actor: actor,
                        details: (try? JSONValue.parse(details)) ?? .string(details), prevHash: prevHash, hash: hash))
            }
            return entries
        }
    }

    typealias AuditRow = (Int64, Int64, String, String?, String, String, String, String)

    /// Checks the chain entry by entry, then what a chain cannot show by itself: that nothing was cut from its end.
    /// The newest entries can be deleted without breaking any link, so every approval must still have its `created`
    /// entry, every decided one its outcome, and `expectedHead` (a hash printed by an earlier verification) must still
    /// be in the log.
    public func verifyAuditLog(expectedHead: String? = nil) async throws -> AuditVerification {
        try await read { connection in
            var expectedSeq: Int64 = 1
            var prevHash = PostgresAuditLog.genesis
            var sawHead = expectedHead == nil
            var broken: AuditVerification?
            // Streamed: the log is read once, in batches, whatever its length.
            for try await row in try await connection.query(
                "SELECT \(unescaped: Self.auditColumns) FROM audit_log ORDER BY seq", logger: self.logger
            ).decode(AuditRow.self) {
                let (seq, at, kind, approvalID, actor, details, storedPrevHash, stored) = row
                if seq != expectedSeq {
                    broken = .broken(seq: seq, reason: "entry \(expectedSeq) is missing (the next one is \(seq))")
                } else if storedPrevHash != prevHash {
                    broken = .broken(seq: seq, reason: "its previous-hash does not match entry \(seq - 1)")
                } else if AuditEntry.hash(
                    seq: seq, at: at, kind: kind, approvalID: approvalID, actor: actor, details: details, prevHash: prevHash)
                    != stored
                {
                    broken = .broken(seq: seq, reason: "its content does not match its hash (it was changed after it was written)")
                } else {
                    prevHash = stored
                    if stored == expectedHead { sawHead = true }
                    expectedSeq += 1
                }
                // The rest of the rows are dropped with the stream: the first break is the answer.
                if broken != nil { break }
            }
            if let broken { return broken }
            let end = expectedSeq
            if !sawHead, let expectedHead {
                return .broken(
                    seq: end,
                    reason: "no entry has the hash \(expectedHead): if it was printed by an earlier verify of this log, entries were removed from its end")
            }
            var orphan: (id: String, status: String)?
            for try await row in try await connection.query(
                """
                SELECT id, status FROM approval
                WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE approval_id = approval.id AND kind = 'created')
                   OR (status <> 'pending' AND NOT EXISTS (
                        SELECT 1 FROM audit_log WHERE approval_id = approval.id AND kind IN ('decided', 'expired', 'cancelled')))
                ORDER BY seq LIMIT 1
                """, logger: self.logger
            ).decode((String, String).self) {
                orphan = row
            }
            if let orphan {
                return .broken(
                    seq: end,
                    reason: "approval \(orphan.id) (\(orphan.status)) is missing its entries: entries were removed from the end of the log")
            }
            return .intact(entries: Int(end - 1))
        }
    }

    /// The newest entry's number and hash: record them to check later that nothing was removed after them.
    public func auditHead() async throws -> (seq: Int64, hash: String)? {
        try await read { connection in
            var head: (seq: Int64, hash: String)?
            for try await row in try await connection.query(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", logger: self.logger
            ).decode((Int64, String).self) {
                head = row
            }
            return head
        }
    }
}
