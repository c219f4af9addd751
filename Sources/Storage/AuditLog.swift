import ApprovalCore
import Foundation
import GRDB
import Signing

/// The hash-chained, append-only audit log.
enum AuditLog {
    static let genesis = String(repeating: "0", count: 64)

    /// An event with its details already in canonical text. Prepared before the write transaction, so
    /// that the writer thread, which every commit waits for, only chains and inserts it.
    struct Prepared: Sendable {
        let kind: String
        let approvalID: String?
        let actor: String
        let details: String

        init(_ event: AuditEvent) {
            kind = event.kind.rawValue
            approvalID = event.approvalID?.rawValue
            actor = event.actor
            details = CanonicalJSON.serialize(event.details)
        }
    }

    static func append(_ event: AuditEvent, at now: Date, in db: Database) throws {
        try append(Prepared(event), at: now, in: db)
    }

    static func append(_ event: Prepared, at now: Date, in db: Database) throws {
        // Read, not remembered: other processes (the CLI) append to the same chain.
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?["seq"] as Int64? ?? 0) + 1
        let prevHash: String = last?["hash"] ?? genesis
        let at = now.millisecondsSince1970
        let hash = AuditEntry.hash(
            seq: seq, at: at, kind: event.kind, approvalID: event.approvalID, actor: event.actor, details: event.details,
            prevHash: prevHash
        )
        try db.cachedStatement(
            sql: "INSERT INTO audit_log (seq, at, kind, approval_id, actor, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(
            arguments: [seq, at, event.kind, event.approvalID, event.actor, event.details, prevHash, hash]
        )
    }

    static func entry(_ row: Row) -> AuditEntry {
        let details: String = row["details"]
        return AuditEntry(
            seq: row["seq"], at: Date(millisecondsSince1970: row["at"]), kind: row["kind"], approvalID: row["approval_id"],
            actor: row["actor"], details: (try? JSONValue.parse(details)) ?? .string(details), prevHash: row["prev_hash"],
            hash: row["hash"]
        )
    }

    /// Checks the chain entry by entry, then what a chain cannot show by itself: that nothing was cut from its end.
    /// The newest entries can be deleted without breaking any link, so every approval must still have its `created`
    /// entry, every decided one its outcome, and `expectedHead` (a hash printed by an earlier verification) must still
    /// be in the log.
    static func verify(_ db: Database, expectedHead: String? = nil) throws -> AuditVerification {
        var expectedSeq: Int64 = 1
        var prevHash = genesis
        var sawHead = expectedHead == nil
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY seq")
        while let row = try cursor.next() {
            let seq: Int64 = row["seq"]
            if seq != expectedSeq {
                return .broken(seq: seq, reason: "entry \(expectedSeq) is missing (the next one is \(seq))")
            }
            if row["prev_hash"] as String != prevHash {
                return .broken(seq: seq, reason: "its previous-hash does not match entry \(seq - 1)")
            }
            let recomputed = AuditEntry.hash(
                seq: seq, at: row["at"], kind: row["kind"], approvalID: row["approval_id"], actor: row["actor"],
                details: row["details"], prevHash: prevHash
            )
            let stored: String = row["hash"]
            if recomputed != stored {
                return .broken(seq: seq, reason: "its content does not match its hash (it was changed after it was written)")
            }
            prevHash = stored
            if stored == expectedHead { sawHead = true }
            expectedSeq += 1
        }
        let end = expectedSeq
        if !sawHead, let expectedHead {
            return .broken(
                seq: end,
                reason: "no entry has the hash \(expectedHead): if it was printed by an earlier verify of this log, entries were removed from its end")
        }
        let orphan = try Row.fetchOne(
            db,
            sql: """
                SELECT id, status FROM approval
                WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE approval_id = approval.id AND kind = 'created')
                   OR (status <> 'pending' AND NOT EXISTS (
                        SELECT 1 FROM audit_log WHERE approval_id = approval.id AND kind IN ('decided', 'expired', 'cancelled')))
                ORDER BY seq LIMIT 1
                """)
        if let orphan {
            let id: String = orphan["id"]
            let status: String = orphan["status"]
            return .broken(
                seq: end, reason: "approval \(id) (\(status)) is missing its entries: entries were removed from the end of the log")
        }
        return .intact(entries: Int(end - 1))
    }
}
