import Foundation
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
    public static func hash(seq: Int64, at: Int64, kind: String, approvalID: String?, actor: String, details: String, prevHash: String) -> String {
        // The canonical object written member by member, in key order: the same bytes as serialising the entry's
        // members as an object (a test proves it), without building and sorting a dictionary for every entry.
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
        return SHA256.hash(out.bytes).hexString
    }
}

/// The result of checking the chain.
public enum AuditVerification: Sendable, Equatable {
    case intact(entries: Int)
    /// The first entry that does not fit the chain, and why.
    case broken(seq: Int64, reason: String)
}


extension AuditEntry {
    /// The entry as `audit export` writes it and `GET /v1/approvals/{id}/audit` answers it.
    public var json: JSONValue {
        .object([
            "seq": .number(Double(seq)), "at": .string(RFC3339.string(from: at)), "kind": .string(kind),
            "approval_id": approvalID.map(JSONValue.string) ?? .null, "actor": .string(actor), "details": details,
            "prev_hash": .string(prevHash), "hash": .string(hash),
        ])
    }
}
