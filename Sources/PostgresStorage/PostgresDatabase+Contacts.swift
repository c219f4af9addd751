import ApprovalCore
import Foundation
import Logging
import PostgresNIO
import SlackRecords

/// Contact requests, shared by every replica: a key's `call_id` names one question whichever replica stores it, and a
/// question is answered once whichever replicas answer it.
extension PostgresDatabase: ContactStore {
    /// Stores a new question unless its key used its `call_id` before: the same request gives the earlier one back,
    /// another throws `ApprovalError.idempotencyConflict`.
    ///
    /// The insert is `ON CONFLICT DO NOTHING` (on `(owner_key_id, call_id)`, and on `id` for a retried request that
    /// carries the same id): when another replica stores the same call at the same moment, this one waits for that
    /// transaction, inserts nothing, and reads the row it committed (a new statement sees it under READ COMMITTED), to
    /// answer as if the other had come first.
    public func insertContact(
        _ contact: ContactRequest, requestDigest: String, audit: AuditEvent, outbox: [NewOutboxItem]
    ) async throws -> ContactInsertResult {
        let now = clock.now
        let options = ContactOptionsCoding.encode(contact.options)
        let spec = CanonicalJSON.serialize(contact.spec)
        let chain = ChainCoding.encode(contact.chain)
        // The call stored before, by this replica or another: the same request, or a conflict.
        let earlier = { (stored: (contact: ContactRequest, digest: String)) throws -> ContactInsertResult in
            guard stored.digest == requestDigest else { throw ApprovalError.idempotencyConflict }
            return .existing(stored.contact)
        }
        let result: ContactInsertResult = try await write { connection in
            if let stored = try await Self.storedContact(ownerKeyID: contact.ownerKeyID, callID: contact.callID, on: connection, logger: self.logger) {
                return try earlier(stored)
            }
            let inserted = try await connection.query(
                """
                INSERT INTO contact_request
                    (id, owner_key, owner_key_id, run_id, call_id, request_digest, msg, subject, response_options, spec, chain,
                     created_at)
                VALUES (\(contact.id.rawValue), \(contact.ownerKey), \(contact.ownerKeyID), \(contact.runID), \(contact.callID),
                        \(requestDigest), \(contact.message), \(contact.subject), \(options), \(spec), \(chain),
                        \(contact.createdAt.ms))
                ON CONFLICT DO NOTHING
                RETURNING id
                """, logger: self.logger
            ).allElements().count == 1
            guard inserted else {
                guard let stored = try await Self.storedContact(
                    ownerKeyID: contact.ownerKeyID, callID: contact.callID, on: connection, logger: self.logger)
                else { throw StorageError.corrupt("contact request") }
                return try earlier(stored)
            }
            try await Self.enqueue(outbox, at: now, on: connection, logger: self.logger)
            try await PostgresAuditLog.append([audit], at: now, on: connection, logger: self.logger)
            return .created(contact)
        }
        if case .created = result, !outbox.isEmpty { outboxEnqueued.signal() }
        return result
    }

    public func contact(_ id: ContactID) async throws -> ContactRequest? {
        try await read { connection in
            try await Self.contacts(
                connection.query("SELECT \(unescaped: Self.contactColumns) FROM contact_request WHERE id = \(id.rawValue)", logger: self.logger)
            ).first
        }
    }

    public func contact(callID: String, ownerKeyID: Int64?) async throws -> ContactRequest? {
        try await read { connection in
            if let ownerKeyID {
                return try await Self.storedContact(ownerKeyID: ownerKeyID, callID: callID, on: connection, logger: self.logger)?.contact
            }
            return try await Self.contacts(
                connection.query(
                    """
                    SELECT \(unescaped: Self.contactColumns) FROM contact_request WHERE call_id = \(callID) ORDER BY seq DESC LIMIT 1
                    """, logger: self.logger)
            ).first
        }
    }

    public func pendingContacts(ownerKeyID: Int64?, limit: Int) async throws -> [ContactRequest] {
        try await read { connection in
            if let ownerKeyID {
                return try await Self.contacts(
                    connection.query(
                        """
                        SELECT \(unescaped: Self.contactColumns) FROM contact_request
                        WHERE state = 'pending' AND owner_key_id = \(ownerKeyID) ORDER BY seq LIMIT \(Int64(limit))
                        """, logger: self.logger))
            }
            return try await Self.contacts(
                connection.query(
                    """
                    SELECT \(unescaped: Self.contactColumns) FROM contact_request
                    WHERE state = 'pending' ORDER BY seq LIMIT \(Int64(limit))
                    """, logger: self.logger))
        }
    }

    /// Records the answer if the question has none yet; `false` when it had one already.
    ///
    /// A compare-and-set on `state`: replicas answering together queue on the row's lock, and the ones after the first
    /// find it answered when PostgreSQL rechecks the condition on the row they waited for, so exactly one answer, one
    /// audit entry and one set of outbox items is stored.
    public func recordAnswer(_ id: ContactID, _ answer: ContactAnswer, audit: AuditEvent, outbox: [NewOutboxItem]) async throws -> Bool {
        let now = clock.now
        let recorded = try await write { connection in
            let changed = try await connection.query(
                """
                UPDATE contact_request SET state = 'answered', response = \(answer.response),
                    response_option_name = \(answer.optionName), answered_by = \(answer.by),
                    answered_by_name = \(answer.byName), answered_at = \(answer.at.ms)
                WHERE id = \(id.rawValue) AND state = 'pending'
                RETURNING id
                """, logger: self.logger
            ).allElements().count == 1
            guard changed else { return false }
            try await Self.enqueue(outbox, at: now, on: connection, logger: self.logger)
            try await PostgresAuditLog.append([audit], at: now, on: connection, logger: self.logger)
            return true
        }
        if recorded, !outbox.isEmpty { outboxEnqueued.signal() }
        return recorded
    }

    static let contactColumns = """
        id, owner_key, owner_key_id, run_id, call_id, msg, subject, response_options, spec, chain, created_at, response, \
        response_option_name, answered_by, answered_by_name, answered_at, request_digest
        """

    /// The question a key asked under `callID`, with the digest of the request that stored it.
    static func storedContact(
        ownerKeyID: Int64, callID: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> (contact: ContactRequest, digest: String)? {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: contactColumns) FROM contact_request WHERE owner_key_id = \(ownerKeyID) AND call_id = \(callID)
            """, logger: logger)
        guard let row = try await rows.allElements().first else { return nil }
        return (try contact(row), try row.makeRandomAccess()["request_digest"].decode(String.self))
    }

    static func contacts(_ rows: PostgresRowSequence) async throws -> [ContactRequest] {
        var contacts: [ContactRequest] = []
        for try await row in rows { contacts.append(try contact(row)) }
        return contacts
    }

    /// The question of a row that starts with `contactColumns`.
    static func contact(_ row: PostgresRow) throws -> ContactRequest {
        let (
            id, ownerKey, ownerKeyID, runID, callID, message, subject, optionsText, specText, chainText, createdAt, response,
            optionName, answeredBy, answeredByName, answeredAt
        ) = try row.decode(
            (String, String, Int64, String, String, String, String?, String, String, String, Int64, String?, String?, String?,
             String?, Int64?).self)
        let options = try ContactOptionsCoding.decode(optionsText)
        var answer: ContactAnswer?
        if let response, let answeredBy, let answeredAt {
            answer = ContactAnswer(
                response: response, optionName: optionName, by: answeredBy, byName: answeredByName,
                at: Date(millisecondsSince1970: answeredAt))
        }
        let question = ContactQuestion(
            runID: runID, callID: callID, message: message, subject: subject, options: options, spec: try JSONValue.parse(specText))
        return ContactRequest(
            id: ContactID(rawValue: id), ownerKey: ownerKey, ownerKeyID: ownerKeyID, question: question,
            createdAt: Date(millisecondsSince1970: createdAt), chain: try ChainCoding.decode(chainText), answer: answer)
    }
}

extension PostgresDatabase: ContactPosts {
    public func contactPost(_ id: ContactID) async throws -> (channel: String, ts: String)? {
        try await read { connection in
            guard let row = try await connection.query(
                "SELECT slack_channel, slack_ts FROM contact_request WHERE id = \(id.rawValue)", logger: self.logger
            ).allElements().first else { return nil }
            let (channel, ts) = try row.decode((String?, String?).self)
            guard let channel, let ts else { return nil }
            return (channel, ts)
        }
    }

    public func recordContactPost(_ id: ContactID, channel: String, ts: String, audit: AuditEvent) async throws {
        let now = clock.now
        try await write { connection in
            try await connection.query(
                "UPDATE contact_request SET slack_channel = \(channel), slack_ts = \(ts) WHERE id = \(id.rawValue)",
                logger: self.logger)
            try await PostgresAuditLog.append([audit], at: now, on: connection, logger: self.logger)
        }
    }
}
