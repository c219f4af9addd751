import ApprovalCore
import Foundation
import GRDB
import SlackRecords

extension GatehouseDatabase: ContactStore {
    public func insertContact(
        _ contact: ContactRequest, requestDigest: String, audit: AuditEvent, outbox: [NewOutboxItem]
    ) async throws -> ContactInsertResult {
        let now = clock.now
        let options = ContactOptionsCoding.encode(contact.options)
        let spec = CanonicalJSON.serialize(contact.spec)
        let chain = ChainCoding.encode(contact.chain)
        let audit = AuditLog.Prepared(audit)
        let result: ContactInsertResult = try await write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM contact_request WHERE owner_key_id = ? AND call_id = ?",
                arguments: [contact.ownerKeyID, contact.callID])
            {
                guard row["request_digest"] as String == requestDigest else { throw ApprovalError.idempotencyConflict }
                return .existing(try Self.decodeContact(row))
            }
            try db.execute(
                sql: """
                    INSERT INTO contact_request
                        (id, owner_key, owner_key_id, run_id, call_id, request_digest, msg, subject, response_options, spec, chain,
                         created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [contact.id.rawValue, contact.ownerKey, contact.ownerKeyID, contact.runID, contact.callID, requestDigest,
                            contact.message, contact.subject, options, spec, chain, contact.createdAt.millisecondsSince1970])
            try AuditLog.append(audit, at: now, in: db)
            for item in outbox { try Self.enqueue(item, at: now, in: db) }
            return .created(contact)
        }
        if case .created = result, !outbox.isEmpty { outboxEnqueued.signal() }
        return result
    }

    public func contact(_ id: ContactID) async throws -> ContactRequest? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM contact_request WHERE id = ?", arguments: [id.rawValue]).map(Self.decodeContact)
        }
    }

    public func contact(callID: String, ownerKeyID: Int64?) async throws -> ContactRequest? {
        try await writer.read { db in
            let row = if let ownerKeyID {
                try Row.fetchOne(
                    db, sql: "SELECT * FROM contact_request WHERE owner_key_id = ? AND call_id = ?", arguments: [ownerKeyID, callID])
            } else {
                try Row.fetchOne(
                    db, sql: "SELECT * FROM contact_request WHERE call_id = ? ORDER BY seq DESC LIMIT 1", arguments: [callID])
            }
            return try row.map(Self.decodeContact)
        }
    }

    public func pendingContacts(ownerKeyID: Int64?, limit: Int) async throws -> [ContactRequest] {
        try await writer.read { db in
            var owner = ""
            var arguments: StatementArguments = []
            if let ownerKeyID {
                owner = " AND owner_key_id = ?"
                arguments += [ownerKeyID]
            }
            arguments += [limit]
            return try Row.fetchAll(
                db, sql: "SELECT * FROM contact_request WHERE state = 'pending'\(owner) ORDER BY seq LIMIT ?", arguments: arguments
            ).map(Self.decodeContact)
        }
    }

    public func recordAnswer(_ id: ContactID, _ answer: ContactAnswer, audit: AuditEvent, outbox: [NewOutboxItem]) async throws -> Bool {
        let now = clock.now
        let audit = AuditLog.Prepared(audit)
        let recorded = try await write { db in
            try db.execute(
                sql: """
                    UPDATE contact_request SET state = 'answered', response = ?, response_option_name = ?, answered_by = ?,
                        answered_by_name = ?, answered_at = ?
                    WHERE id = ? AND state = 'pending'
                    """,
                arguments: [answer.response, answer.optionName, answer.by, answer.byName, answer.at.millisecondsSince1970, id.rawValue])
            guard db.changesCount == 1 else { return false }
            try AuditLog.append(audit, at: now, in: db)
            for item in outbox { try Self.enqueue(item, at: now, in: db) }
            return true
        }
        if recorded, !outbox.isEmpty { outboxEnqueued.signal() }
        return recorded
    }

    static func decodeContact(_ row: Row) throws -> ContactRequest {
        let options = try ContactOptionsCoding.decode(row["response_options"] as String)
        var answer: ContactAnswer?
        if let response = row["response"] as String?, let by = row["answered_by"] as String?, let at = row["answered_at"] as Int64? {
            answer = ContactAnswer(
                response: response, optionName: row["response_option_name"], by: by, byName: row["answered_by_name"],
                at: Date(millisecondsSince1970: at))
        }
        let question = ContactQuestion(
            runID: row["run_id"], callID: row["call_id"], message: row["msg"], subject: row["subject"], options: options,
            spec: try JSONValue.parse(row["spec"] as String))
        return ContactRequest(
            id: ContactID(rawValue: row["id"]), ownerKey: row["owner_key"], ownerKeyID: row["owner_key_id"], question: question,
            createdAt: Date(millisecondsSince1970: row["created_at"]), chain: try ChainCoding.decode(row["chain"]), answer: answer)
    }
}

extension GatehouseDatabase: ContactPosts {
    public func contactPost(_ id: ContactID) async throws -> (channel: String, ts: String)? {
        try await writer.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT slack_channel, slack_ts FROM contact_request WHERE id = ?", arguments: [id.rawValue]),
                let channel = row["slack_channel"] as String?, let ts = row["slack_ts"] as String?
            else { return nil }
            return (channel, ts)
        }
    }

    public func recordContactPost(_ id: ContactID, channel: String, ts: String, audit: AuditEvent) async throws {
        let now = clock.now
        let audit = AuditLog.Prepared(audit)
        try await write { db in
            try db.execute(
                sql: "UPDATE contact_request SET slack_channel = ?, slack_ts = ? WHERE id = ?", arguments: [channel, ts, id.rawValue])
            try AuditLog.append(audit, at: now, in: db)
        }
    }
}

extension GatehouseDatabase: FunctionCallIndex {
    public func functionCall(_ callID: String, ownerKeyID: Int64?) async throws -> ApprovalID? {
        try await writer.read { db in
            let id: String? = if let ownerKeyID {
                try String.fetchOne(
                    db, sql: "SELECT approval_id FROM idempotency_key WHERE scope = ? AND key = ?",
                    arguments: [FunctionCallScope.of(keyID: ownerKeyID), callID])
            } else {
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT i.approval_id FROM idempotency_key i JOIN approval a ON a.id = i.approval_id
                        WHERE i.key = ? AND substr(i.scope, 1, ?) = ? ORDER BY a.seq DESC LIMIT 1
                        """,
                    arguments: [callID, FunctionCallScope.prefix.count, FunctionCallScope.prefix])
            }
            return id.map(ApprovalID.init(rawValue:))
        }
    }

    public func pendingFunctionCalls(ownerKeyID: Int64?, limit: Int) async throws -> [(callID: String, approval: Approval)] {
        try await writer.read { db in
            var scope = "substr(i.scope, 1, ?) = ?"
            var arguments: StatementArguments = [FunctionCallScope.prefix.count, FunctionCallScope.prefix]
            if let ownerKeyID {
                scope = "i.scope = ?"
                arguments = [FunctionCallScope.of(keyID: ownerKeyID)]
            }
            arguments += [limit]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.key AS call_id, i.approval_id FROM approval a JOIN idempotency_key i ON i.approval_id = a.id
                    WHERE a.status = 'pending' AND \(scope) ORDER BY a.seq LIMIT ?
                    """,
                arguments: arguments)
            return try rows.compactMap { row in
                guard let approval = try Self.fetchApproval(ApprovalID(rawValue: row["approval_id"]), in: db) else { return nil }
                return (row["call_id"] as String, approval)
            }
        }
    }

    public func functionCallID(of id: ApprovalID) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT key FROM idempotency_key WHERE approval_id = ? AND substr(scope, 1, ?) = ?",
                arguments: [id.rawValue, FunctionCallScope.prefix.count, FunctionCallScope.prefix])
        }
    }
}
