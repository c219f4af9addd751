import ApprovalCore
import Foundation
import PostgresNIO
import SlackRecords

extension PostgresDatabase: SlackMessageStore {
    /// Remembers a posted message (with an audit entry), so later changes update it and it is never posted twice. The
    /// schema's uniques (one channel message per approval, one row per `channel`/`ts`) hold across replicas.
    public func recordSlackMessage(_ message: SlackMessageRecord, audit: AuditEvent?) async throws {
        let now = clock.now
        try await write { connection in
            try await connection.query(
                """
                INSERT INTO slack_message
                    (approval_id, kind, channel, ts, recipient, permalink, posted_at, outbox_item, header, follows_state,
                     shown_sha256)
                VALUES (\(message.approvalID.rawValue), \(message.kind.rawValue), \(message.channel), \(message.ts),
                        \(message.recipient), \(message.permalink), \(message.postedAt.ms), \(message.outboxItem),
                        \(message.header), \(Int64(message.followsState ? 1 : 0)), \(message.shownSHA256))
                """, logger: self.logger)
            if let audit { try await PostgresAuditLog.append([audit], at: now, on: connection, logger: self.logger) }
        }
    }

    /// Every message posted about an approval, oldest first.
    public func slackMessages(for id: ApprovalID) async throws -> [SlackMessageRecord] {
        try await read { connection in
            var messages: [SlackMessageRecord] = []
            for try await (kind, channel, ts, recipient, permalink, postedAt, outboxItem, header, followsState, shown)
                in try await connection.query(
                    """
                    SELECT kind, channel, ts, recipient, permalink, posted_at, outbox_item, header, follows_state, shown_sha256
                    FROM slack_message WHERE approval_id = \(id.rawValue) ORDER BY id
                    """, logger: self.logger
                ).decode((String, String, String, String?, String?, Int64, Int64?, String?, Int64, String?).self)
            {
                messages.append(
                    SlackMessageRecord(
                        approvalID: id, kind: SlackMessageRecord.Kind(rawValue: kind) ?? .channel, channel: channel, ts: ts,
                        recipient: recipient, permalink: permalink, postedAt: Date(millisecondsSince1970: postedAt),
                        outboxItem: outboxItem, header: header, followsState: followsState != 0, shownSHA256: shown))
            }
            return messages
        }
    }

    /// The permalinks of the channel messages of `ids` posted and linked so far, in one query (the ids as one array).
    public func slackPermalinks(for ids: [ApprovalID]) async throws -> [ApprovalID: String] {
        guard !ids.isEmpty else { return [:] }
        return try await read { connection in
            var links: [ApprovalID: String] = [:]
            for try await (approvalID, permalink) in try await connection.query(
                """
                SELECT approval_id, permalink FROM slack_message
                WHERE kind = 'channel' AND permalink IS NOT NULL AND approval_id = ANY(\(ids.map(\.rawValue)))
                """, logger: self.logger
            ).decode((String, String).self) {
                links[ApprovalID(rawValue: approvalID)] = permalink
            }
            return links
        }
    }

    /// Learns more about a recorded message: its permalink (fetched after the post), or what it shows after an update
    /// (see `SlackMessageRecord.shownSHA256`). What is not given stays as it was.
    public func updateSlackMessage(channel: String, ts: String, permalink: String? = nil, shownSHA256: String? = nil) async throws {
        try await write { connection in
            _ = try await connection.query(
                """
                UPDATE slack_message SET permalink = COALESCE(\(permalink), permalink),
                    shown_sha256 = COALESCE(\(shownSHA256), shown_sha256)
                WHERE channel = \(channel) AND ts = \(ts)
                """, logger: self.logger)
        }
    }
}

/// The replay cache is shared by every replica: a signature one replica recorded is a replay on all of them.
extension PostgresDatabase: SlackSignatureStore {
    public func acceptedSlackSignatures(at now: Date) async throws -> [String: Date] {
        try await read { connection in
            var accepted: [String: Date] = [:]
            for try await (signature, expiresAt) in try await connection.query(
                "SELECT signature, expires_at FROM slack_signature WHERE expires_at >= \(now.ms)", logger: self.logger
            ).decode((String, Int64).self) {
                accepted[signature] = Date(millisecondsSince1970: expiresAt)
            }
            return accepted
        }
    }

    /// Keeps `signature` until `expiresAt`; `false` when it was kept already, by this replica or another.
    ///
    /// The insert is `ON CONFLICT DO NOTHING` on the signature's primary key: a replica inserting a signature another
    /// is inserting at the same moment waits for that transaction and then inserts nothing, so exactly one of them
    /// records it. The expired signatures are forgotten first, as on SQLite; rows another replica is deleting at that
    /// moment are skipped (`SKIP LOCKED`), so replicas pruning together neither wait on nor deadlock with each other.
    public func recordSlackSignature(_ signature: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await write { connection in
            try await connection.query(
                """
                DELETE FROM slack_signature WHERE signature IN (
                    SELECT signature FROM slack_signature WHERE expires_at < \(now.ms) FOR UPDATE SKIP LOCKED)
                """, logger: self.logger)
            return try await connection.query(
                """
                INSERT INTO slack_signature (signature, expires_at) VALUES (\(signature), \(expiresAt.ms))
                ON CONFLICT DO NOTHING RETURNING signature
                """, logger: self.logger
            ).allElements().count == 1
        }
    }
}
