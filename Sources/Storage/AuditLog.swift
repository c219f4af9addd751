import ApprovalCore
import Foundation
import GRDB
import Signing

/// One stored audit entry.
public struct AuditEntry: Sendable, Equatable {
    public var seq: Int64
    public var at: Date
    public var kind: String
    public var approvalID: String?
    public var actor: String
    public var details: JSONValue
    public var prevHash: String
    public var hash: String

    public init(
        seq: Int64, at: Date, kind: String, approvalID: String?, actor: String, details: JSONValue, prevHash: String, hash: String
    ) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.approvalID = approvalID
        self.actor = actor
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }

    /// What the hash covers: the entry's fields in canonical JSON, after the previous hash.
    static func hash(seq: Int64, at: Int64, kind: String, approvalID: String?, actor: String, details: String, prevHash: String) -> String {
        // The canonical object written member by member, in key order: the same bytes as serialising
        // `body` (checked in debug builds), without building and sorting a dictionary for every entry.
        var out = CanonicalJSON.Writer(capacity: 192 + prevHash.utf8.count + details.utf8.count)
        out.raw(prevHash.utf8)
        out.raw("\n")
        out.raw(#"{"actor":"#)
        out.string(actor)
        out.raw(#","approval_id":"#)
        out.string(approvalID)
        out.raw(#","at":"#)
        out.number(Double(at))
        out.raw(#","details":"#)
        out.string(details)
        out.raw(#","kind":"#)
        out.string(kind)
        out.raw(#","seq":"#)
        out.number(Double(seq))
        out.raw("}")
        assert(
            out.bytes == Array((prevHash + "\n" + CanonicalJSON.serialize(.object([
                "seq": .number(Double(seq)), "at": .number(Double(at)), "kind": .string(kind),
                "approval_id": approvalID.map(JSONValue.string) ?? .null, "actor": .string(actor), "details": .string(details),
            ]))).utf8),
            "the audit hash input changed")
        return SHA256.hash(out.bytes).hexString
    }
}

/// The result of checking the chain.
public enum AuditVerification: Sendable, Equatable {
    case intact(entries: Int)
    /// The first entry that does not fit the chain, and why.
    case broken(seq: Int64, reason: String)
}

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
