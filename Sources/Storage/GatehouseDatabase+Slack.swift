import ApprovalCore
import Foundation
import GRDB
import SlackRecords

extension GatehouseDatabase: SlackMessageStore {
    /// Remembers a posted message (with an audit entry), so later changes update it and it is never posted twice.
    public func recordSlackMessage(_ message: SlackMessageRecord, audit: AuditEvent?) async throws {
        let now = clock.now
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO slack_message
                        (approval_id, kind, channel, ts, recipient, permalink, posted_at, outbox_item, header, follows_state,
                         shown_sha256)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [message.approvalID.rawValue, message.kind.rawValue, message.channel, message.ts, message.recipient,
                            message.permalink, message.postedAt.millisecondsSince1970, message.outboxItem, message.header,
                            message.followsState, message.shownSHA256]
            )
            if let audit { try AuditLog.append(audit, at: now, in: db) }
        }
    }

    /// Every message posted about an approval, oldest first.
    public func slackMessages(for id: ApprovalID) async throws -> [SlackMessageRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM slack_message WHERE approval_id = ? ORDER BY id", arguments: [id.rawValue]).map { row in
                SlackMessageRecord(
                    approvalID: id, kind: SlackMessageRecord.Kind(rawValue: row["kind"]) ?? .channel, channel: row["channel"],
                    ts: row["ts"], recipient: row["recipient"], permalink: row["permalink"],
                    postedAt: Date(millisecondsSince1970: row["posted_at"]), outboxItem: row["outbox_item"], header: row["header"],
                    followsState: row["follows_state"], shownSHA256: row["shown_sha256"])
            }
        }
    }

    public func slackPermalinks(for ids: [ApprovalID]) async throws -> [ApprovalID: String] {
        guard !ids.isEmpty else { return [:] }
        return try await writer.read { db in
            var links: [ApprovalID: String] = [:]
            // In chunks, well under SQLite's limit on bound parameters.
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT approval_id, permalink FROM slack_message
                        WHERE kind = 'channel' AND permalink IS NOT NULL AND approval_id IN (\(marks))
                        """,
                    arguments: StatementArguments(chunk.map(\.rawValue)))
                for row in rows { links[ApprovalID(rawValue: row["approval_id"])] = row["permalink"] }
            }
            return links
        }
    }

    /// Learns more about a recorded message: its permalink (fetched after the post), or what it shows after an update
    /// (see `SlackMessageRecord.shownSHA256`). What is not given stays as it was.
    public func updateSlackMessage(channel: String, ts: String, permalink: String? = nil, shownSHA256: String? = nil) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE slack_message SET permalink = COALESCE(?, permalink), shown_sha256 = COALESCE(?, shown_sha256)
                    WHERE channel = ? AND ts = ?
                    """,
                arguments: [permalink, shownSHA256, channel, ts])
        }
    }
}

extension GatehouseDatabase: SlackSignatureStore {
    public func acceptedSlackSignatures(at now: Date) async throws -> [String: Date] {
        try await writer.read { db in
            var accepted: [String: Date] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT signature, expires_at FROM slack_signature WHERE expires_at >= ?", arguments: [now.millisecondsSince1970])
            {
                accepted[row["signature"]] = Date(millisecondsSince1970: row["expires_at"])
            }
            return accepted
        }
    }

    public func recordSlackSignature(_ signature: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await write { db in
            try db.cachedStatement(sql: "DELETE FROM slack_signature WHERE expires_at < ?").execute(arguments: [now.millisecondsSince1970])
            try db.cachedStatement(sql: "INSERT INTO slack_signature (signature, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
                .execute(arguments: [signature, expiresAt.millisecondsSince1970])
            return db.changesCount == 1
        }
    }
}
