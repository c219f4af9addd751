@testable import ApprovalCore
import Foundation
import GRDB
import DomainTestSupport
import Testing

@testable import Storage

@Suite("Storage")
struct StorageTests {
    static func sampleApproval(_ n: Int = 0, at now: Date, expiresIn: Int = 3600, callback: String? = nil) -> Approval {
        ApprovalRequest(
            action: "Job \(n)", payload: .object(["n": .number(Double(n))]), requester: "agent:test", expiresIn: expiresIn,
            callbackURL: callback
        ).approval(id: .random(), ownerKey: "agent", at: now)
    }

    @Test("a new database is created and migrated from empty, and reopening does not migrate again")
    func migrationFromEmpty() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("fresh.sqlite")
        let db = try GatehouseDatabase(path: path)
        #expect(try db.appliedMigrations() == ["v1-approvals-audit-outbox-keys", "v2-slack-messages", "v3-escalation-chains-admins", "v4-audit-log-without-hash-index", "v5-dm-headers-and-reminders", "v6-slack-message-digests", "v7-key-identity", "v8-slack-signatures", "v9-storage-probe", "v10-policies-quorum-break-glass", "v11-web-sessions", "v12-key-last-used", "v13-contact-requests"])
        let tables = try await db.writer.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        for table in ["api_key", "approval", "audit_log", "idempotency_key", "outbox", "slack_message", "vote", "web_login_link", "web_session"] { #expect(tables.contains(table)) }
        let journal = try await db.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        // Checked on the writer connection, the one whose commits must reach the disk.
        let sync = try await db.writer.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        #expect(sync == 2)  // FULL
        // Statement journals in memory: no temporary file made and deleted inside every batch of commits.
        let tempStore = try await db.writer.write { try Int.fetchOne($0, sql: "PRAGMA temp_store") }
        #expect(tempStore == 2)  // MEMORY
        try db.close()
        let again = try GatehouseDatabase(path: path)
        #expect(try again.appliedMigrations() == ["v1-approvals-audit-outbox-keys", "v2-slack-messages", "v3-escalation-chains-admins", "v4-audit-log-without-hash-index", "v5-dm-headers-and-reminders", "v6-slack-message-digests", "v7-key-identity", "v8-slack-signatures", "v9-storage-probe", "v10-policies-quorum-break-glass", "v11-web-sessions", "v12-key-last-used", "v13-contact-requests"])
        try again.close()
    }

    @Test("approvals round-trip in memory and on a file, decisions included")
    func roundTrip() async throws {
        try await withDatabases { db, clock in
            let approval = Self.sampleApproval(at: clock.now, callback: "https://example.com/hook")
            #expect(try await db.insert(approval.submitted(), idempotency: nil) == .created(approval.submitted()))
            #expect(try await db.approval(approval.id) == approval)
            let decided = try approval.deciding(DecisionCommand(.modify(.object(["n": .number(2)])), by: .slackUser("U1", name: "alice"), reason: "smaller"), at: clock.now)
            #expect(try await db.commit(decided))
            #expect(try await db.approval(approval.id) == decided.after)
            let votes = try await db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM vote WHERE approval_id = ?", arguments: [approval.id.rawValue]) }
            #expect(votes == 1)
            #expect(try await db.outboxBacklog()["callback"] == 1)
        }
    }

    @Test("a commit based on a stale read is refused, so a second decision cannot overwrite the first")
    func staleCommitRefused() async throws {
        try await withDatabases { db, clock in
            let approval = Self.sampleApproval(at: clock.now)
            _ = try await db.insert(approval.submitted(), idempotency: nil)
            let first = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
            let second = try approval.deciding(DecisionCommand(.reject, by: .slackUser("U2")), at: clock.now)
            #expect(try await db.commit(first))
            #expect(try await !db.commit(second))
            #expect(try await db.approval(approval.id)?.status == .approved)
            let service = ApprovalService(repository: db, clock: clock, observer: NoApprovalObserver())
            await #expect(throws: ApprovalError.alreadyDecided(first.after.decision!)) {
                try await service.decide(approval.id, DecisionCommand(.reject, by: .slackUser("U2")))
            }
        }
    }

    @Test("a commit is refused when any changing column moved since the read: level, deadline, expiry or consumption")
    func staleCommitRefusedOnEachChangingColumn() async throws {
        try await withDatabases { db, clock in
            let approval = Self.sampleApproval(at: clock.now)
            _ = try await db.insert(approval.submitted(), idempotency: nil)
            // Someone else moved the request on (here: to level 2, with a new deadline) behind this reader's back.
            var moved = approval
            moved.escalationLevel = 2
            moved.levelStartedAt = approval.createdAt.addingTimeInterval(60)
            moved.nextDeadline = approval.expiresAt
            #expect(try await db.commit(ApprovalTransition(before: approval, after: moved, effects: [])))
            let stale = try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
            #expect(try await !db.commit(stale))
            #expect(try await db.approval(approval.id)?.status == .pending)

            // A decision on the current state goes through; a second consumption from the same read does not.
            let current = try #require(try await db.approval(approval.id))
            let approved = try current.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)
            #expect(try await db.commit(approved))
            let first = try approved.after.verifying(approval.payload, consume: true, by: .key(named: "agent"), at: clock.now)
            let second = try approved.after.verifying(approval.payload, consume: true, by: .key(named: "other"), at: clock.now)
            #expect(try await db.commit(first))
            #expect(try await !db.commit(second))
            #expect(try await db.auditEntries(approvalID: approval.id).filter { $0.kind == "consumed" }.count == 1)
        }
    }

    @Test("the schema refuses changes to a decided approval, deletions, and bad statuses")
    func schemaInvariants() async throws {
        try await withDatabases { db, clock in
            let approval = Self.sampleApproval(at: clock.now)
            _ = try await db.insert(approval.submitted(), idempotency: nil)
            #expect(try await db.commit(try approval.deciding(DecisionCommand(.reject, by: .slackUser("U1")), at: clock.now)))
            let id = approval.id.rawValue
            for sql in [
                "UPDATE approval SET status = 'approved' WHERE id = ?",
                "UPDATE approval SET payload = '{\"n\":9}' WHERE id = ?",
                "DELETE FROM approval WHERE id = ?",
            ] {
                await #expect(throws: DatabaseError.self) { try await db.writer.write { try $0.execute(sql: sql, arguments: [id]) } }
            }
            await #expect(throws: DatabaseError.self) {
                try await db.writer.write {
                    try $0.execute(sql: "UPDATE approval SET status = 'maybe', decision = NULL WHERE id = ?", arguments: [id])
                }
            }
            #expect(try await db.approval(approval.id)?.status == .rejected)
        }
    }

    @Test("an idempotency key replays the same approval for the same body and conflicts for another")
    func idempotencyInStorage() async throws {
        try await withDatabases { db, clock in
            let key = IdempotencyKey(scope: "agent", key: "k1", requestDigest: "d1")
            let first = Self.sampleApproval(1, at: clock.now)
            let created = try await db.insert(first.submitted(), idempotency: key)
            #expect(created == .created(first.submitted()))
            let retry = Self.sampleApproval(1, at: clock.now)
            let replayed = try await db.insert(retry.submitted(), idempotency: key)
            #expect(replayed == .existing(first))
            let other = IdempotencyKey(scope: "agent", key: "k1", requestDigest: "d2")
            let conflicting = Self.sampleApproval(2, at: clock.now)
            await #expect(throws: ApprovalError.idempotencyConflict) {
                _ = try await db.insert(conflicting.submitted(), idempotency: other)
            }
            let counts = try await db.countsByStatus()
            #expect(counts[.pending] == 1)
        }
    }

    @Test("the audit chain verifies, and an entry edited or deleted behind the service's back is named")
    func auditTamperDetected() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let db = try GatehouseDatabase(path: dir.path("audit.sqlite"), clock: clock)
        for n in 0..<5 {
            _ = try await db.insert(Self.sampleApproval(n, at: clock.now).submitted(), idempotency: nil)
        }
        #expect(try await db.verifyAuditLog() == .intact(entries: 5))
        await #expect(throws: DatabaseError.self) {
            try await db.writer.write { try $0.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3") }
        }
        await #expect(throws: DatabaseError.self) {
            try await db.writer.write { try $0.execute(sql: "DELETE FROM audit_log WHERE seq = 5") }
        }
        #expect(try await db.verifyAuditLog() == .intact(entries: 5))

        try await db.writer.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_update")
            try db.execute(sql: "UPDATE audit_log SET details = '{\"action\":\"something else\"}' WHERE seq = 3")
        }
        guard case .broken(let seq, _) = try await db.verifyAuditLog() else { Issue.record("not detected"); return }
        #expect(seq == 3)
        try db.close()

        let other = try GatehouseDatabase(path: dir.path("audit2.sqlite"), clock: clock)
        for n in 0..<4 { _ = try await other.insert(Self.sampleApproval(n, at: clock.now).submitted(), idempotency: nil) }
        try await other.writer.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_delete")
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = 2")
        }
        guard case .broken(let missing, let reason) = try await other.verifyAuditLog() else { Issue.record("not detected"); return }
        #expect(missing == 3)
        #expect(reason.contains("entry 2 is missing"))
        try other.close()
    }

    @Test("entries cut from the end of the log are found: an approval left without its entries, or a head seen earlier gone")
    func truncatedTailDetected() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let db = try GatehouseDatabase(path: dir.path("tail.sqlite"), clock: clock)
        defer { try? db.close() }
        for n in 0..<3 { _ = try await db.insert(Self.sampleApproval(n, at: clock.now).submitted(), idempotency: nil) }
        let last = Self.sampleApproval(9, at: clock.now)
        _ = try await db.insert(last.submitted(), idempotency: nil)
        #expect(try await db.commit(try last.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now)))
        try await db.append(AuditEvent(.keyCreated, actor: "cli:test", details: ["name": .string("ci")]))
        #expect(try await db.verifyAuditLog() == .intact(entries: 6))
        let head = try #require(try await db.auditHead())
        #expect(head.seq == 6)
        #expect(try await db.verifyAuditLog(expectedHead: head.hash) == .intact(entries: 6))

        try await db.writer.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_delete")
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = 6")
        }
        // Only a key event went: no link is broken and every approval has its entries, but the head is gone.
        #expect(try await db.verifyAuditLog() == .intact(entries: 5))
        guard case .broken(let seq, let reason) = try await db.verifyAuditLog(expectedHead: head.hash) else {
            Issue.record("the missing head was not noticed")
            return
        }
        #expect(seq == 6)
        #expect(reason.contains("no entry has the hash \(head.hash)"))
        #expect(reason.contains("entries were removed from its end"))

        try await db.writer.write { try $0.execute(sql: "DELETE FROM audit_log WHERE seq = 5") }
        guard case .broken(let decidedSeq, let decidedReason) = try await db.verifyAuditLog() else {
            Issue.record("the decided approval without its decision entry was not noticed")
            return
        }
        #expect(decidedSeq == 5)
        #expect(decidedReason.contains("approval \(last.id.rawValue) (approved) is missing its entries"))

        try await db.writer.write { try $0.execute(sql: "DELETE FROM audit_log WHERE seq = 4") }
        guard case .broken(_, let createdReason) = try await db.verifyAuditLog() else {
            Issue.record("the approval without its created entry was not noticed")
            return
        }
        #expect(createdReason.contains(last.id.rawValue))
    }

    @Test("concurrent writers share commits and every one of them is stored, with an unbroken audit chain")
    func groupCommit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let db = try GatehouseDatabase(path: dir.path("group.sqlite"), clock: clock)
        let approvals = (0..<300).map { Self.sampleApproval($0, at: clock.now) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for approval in approvals {
                group.addTask { _ = try await db.insert(approval.submitted(), idempotency: nil) }
            }
            // One writer in the crowd fails; only its own work is rolled back.
            group.addTask {
                await #expect(throws: ApprovalError.idempotencyConflict) {
                    _ = try await db.insert(Self.sampleApproval(999, at: clock.now).submitted(), idempotency: IdempotencyKey(scope: "a", key: "k", requestDigest: "1"))
                    _ = try await db.insert(Self.sampleApproval(998, at: clock.now).submitted(), idempotency: IdempotencyKey(scope: "a", key: "k", requestDigest: "2"))
                }
            }
            try await group.waitForAll()
        }
        try db.close()
        let reopened = try GatehouseDatabase(path: dir.path("group.sqlite"), clock: clock)
        #expect(try await reopened.countsByStatus()[.pending] == 301)
        for approval in approvals.prefix(20) { #expect(try await reopened.approval(approval.id) == approval) }
        #expect(try await reopened.verifyAuditLog() == .intact(entries: 301))
        try reopened.close()
    }

    @Test("outbox items are claimed when due, retried later, kept in order per ordering key, and released after a crash")
    func outbox() async throws {
        try await withDatabases { db, clock in
            try await db.enqueueOutboxItems([
                NewOutboxItem(kind: "k", approvalID: nil, orderingKey: "m1", payload: .object(["n": .number(1)])),
                NewOutboxItem(kind: "k", approvalID: nil, orderingKey: "m1", payload: .object(["n": .number(2)])),
                NewOutboxItem(kind: "k", approvalID: nil, orderingKey: nil, payload: .object(["n": .number(3)]), notBefore: clock.now.addingTimeInterval(60)),
            ])
            let first = try await db.claimDueOutboxItems(now: clock.now)
            #expect(first.map { $0.payload["n"] } == [.number(1)])
            #expect(first[0].attempts == 1)
            #expect(try await db.claimDueOutboxItems(now: clock.now).isEmpty)  // 2 waits behind 1; 3 is not due

            try await db.rescheduleOutboxItem(first[0].id, error: "HTTP 500", retryAt: clock.now.addingTimeInterval(10))
            #expect(try await db.nextOutboxAttempt() == clock.now.addingTimeInterval(10))
            clock.advance(by: 10)
            let retried = try await db.claimDueOutboxItems(now: clock.now)
            #expect(retried.map(\.id) == [first[0].id])
            #expect(retried[0].attempts == 2)
            #expect(retried[0].lastError == "HTTP 500")

            // The process dies holding the claim; the next start releases it.
            try await db.releaseOutboxClaims(now: clock.now)
            let again = try await db.claimDueOutboxItems(now: clock.now)
            #expect(again.map(\.id) == [first[0].id])
            try await db.completeOutboxItem(again[0].id, at: clock.now)
            let second = try await db.claimDueOutboxItems(now: clock.now)
            #expect(second.map { $0.payload["n"] } == [.number(2)])
            try await db.failOutboxItem(second[0].id, error: "permanent", at: clock.now)
            clock.advance(by: 60)
            let third = try await db.claimDueOutboxItems(now: clock.now)
            #expect(third.map { $0.payload["n"] } == [.number(3)])
            #expect(try await db.outboxBacklog()["k"] == 1)
        }
    }

    @Test("keys are stored as digests, authenticate until revoked, and a revoked name can be reused")
    func keys() async throws {
        try await withDatabases { db, _ in
            let secret = try await db.createKey(name: "deploy-bot", scope: .decide)
            #expect(secret.hasPrefix("gh_"))
            #expect(try await db.authenticate(secret)?.scope == .decide)
            #expect(try await db.authenticate(secret + "x") == nil)
            let stored = try await db.writer.read { try String.fetchAll($0, sql: "SELECT key_sha256 FROM api_key") }
            #expect(!stored.contains(secret))
            await #expect(throws: StorageError.self) { try await db.createKey(name: "deploy-bot", scope: .request) }
            await #expect(throws: StorageError.self) { try await db.createKey(name: "bad name!", scope: .request) }
            try await db.revokeKey(name: "deploy-bot")
            #expect(try await db.authenticate(secret) == nil)
            await #expect(throws: StorageError.self) { try await db.revokeKey(name: "deploy-bot") }
            let replacement = try await db.createKey(name: "deploy-bot", scope: .request)
            #expect(try await db.authenticate(replacement)?.scope == .request)
            let audit = try await db.auditEntries()
            #expect(audit.map(\.kind) == ["key_created", "key_revoked", "key_created"])
            #expect(audit.map(\.actor) == ["cli", "cli", "cli"])
            _ = try await db.createKey(name: "ops", scope: .admin, by: "cli:alice")
            try await db.revokeKey(name: "ops", by: "cli:bob")
            #expect(try await db.auditEntries().suffix(2).map(\.actor) == ["cli:alice", "cli:bob"])
            #expect(!audit.map { CanonicalJSON.serialize($0.details) }.joined().contains("gh_"))
        }
    }
}

@Suite("Migration to key identities")
struct KeyIdentityMigrationTests {
    @Test("v7 gives each request filed before it the key of its name that was active when it was filed, and keeps idempotency per key")
    func backfill() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("v6.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(queue, upTo: "v6-slack-message-digests")
            try await queue.write { db in
                // `ops` made at 1,000, revoked at 5,000, made again at 6,000.
                for (id, created, revoked) in [(1, 1_000, 5_000 as Int64?), (2, 6_000, nil)] {
                    try db.execute(
                        sql: "INSERT INTO api_key (id, name, scope, key_sha256, created_at, revoked_at) VALUES (?, 'ops', 'request', ?, ?, ?)",
                        arguments: [id, String(repeating: String(id), count: 64), created, revoked])
                }
                for (id, created) in [("apr_old", 2_000), ("apr_new", 7_000)] {
                    try db.execute(
                        sql: """
                            INSERT INTO approval (id, status, action, payload, payload_sha256, risk, gate, created_at, expires_at,
                                owner_key, level_started_at, next_deadline)
                            VALUES (?, 'pending', 'x', '{}', ?, 'low', 'default', ?, ?, 'ops', ?, ?)
                            """,
                        arguments: [id, String(repeating: "a", count: 64), created, created + 100_000, created, created + 100_000])
                }
                try db.execute(
                    sql: "INSERT INTO idempotency_key (scope, key, request_digest, approval_id, created_at) VALUES ('ops', 'k1', 'd', 'apr_old', 2000)")
            }
            try queue.close()
        }
        let db = try GatehouseDatabase(path: path)
        defer { try? db.close() }
        #expect(try await db.approval(ApprovalID(rawValue: "apr_old"))?.ownerKeyID == 1)
        #expect(try await db.approval(ApprovalID(rawValue: "apr_new"))?.ownerKeyID == 2)
        let scopes = try await db.writer.read { try String.fetchAll($0, sql: "SELECT scope FROM idempotency_key") }
        #expect(scopes == ["key#1"])
    }
}
