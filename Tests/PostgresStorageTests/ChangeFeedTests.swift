import ApprovalCore
import Foundation
import PostgresStorage
import PostgresTestSupport
import Synchronization
import Testing
import DomainTestSupport

/// The feed replicas hear each other's commits through: read from the audit log, woken by notifications.
@Suite("PostgreSQL: the change feed between replicas", .enabled(if: PostgresServer.available))
struct ChangeFeedTests {
    /// Appends an audit entry the way another process would, with SQL, optionally announcing it.
    static func append(_ seq: Int, approval: String, kind: String, notify: Bool, url: String) throws {
        let database = String(url.split(separator: "/").last!.split(separator: "?").first!)
        let hash = String(repeating: String(seq % 10), count: 64)
        try PostgresServer.shared().psql(
            "INSERT INTO audit_log (seq, at, kind, approval_id, actor, details, prev_hash, hash) VALUES "
                + "(\(seq), 1, '\(kind)', '\(approval)', 'test', '{}', '\(String(repeating: "0", count: 64))', '\(hash)')"
                + (notify ? "; NOTIFY gatehouse_approval" : ""),
            database: database)
    }

    /// Follows the feed of `database` until `count` changes arrived, returning them.
    static func follow(_ database: PostgresDatabase, every interval: Duration, count: Int, after start: () throws -> Void)
        async throws -> [SharedChange]
    {
        let received = Mutex<[SharedChange]>([])
        let done = Wakeup()
        let listening = Wakeup()
        let following = Task {
            try await database.followChanges(every: interval, listening: { listening.signal() }) { batch in
                let total = received.withLock { $0 += batch; return $0.count }
                if total >= count { done.signal() }
            }
        }
        defer { following.cancel() }
        // The feed starts from the head at the time it starts, and hears notifications once it listens.
        try await withTimeout(.seconds(10)) { await listening.wait() }
        try start()
        try await withTimeout(.seconds(10)) { await done.wait() }
        return received.withLock { $0 }
    }

    @Test("a notified change is heard at once, long before the periodic look")
    func notified() async throws {
        let url = try PostgresServer.freshDatabaseURL()
        let database = try await PostgresDatabase(url: url)
        defer { database.close() }
        try Self.append(1, approval: "apr_old", kind: "created", notify: false, url: url)
        let started = ContinuousClock.now
        let changes = try await Self.follow(database, every: .seconds(3600), count: 1) {
            try Self.append(2, approval: "apr_a", kind: "decided", notify: true, url: url)
        }
        #expect(changes == [SharedChange(approvalID: ApprovalID(rawValue: "apr_a"), kind: "decided")])
        #expect(changes[0].decides)
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("a change whose notification was lost is heard at the next periodic look")
    func lostNotification() async throws {
        let url = try PostgresServer.freshDatabaseURL()
        let database = try await PostgresDatabase(url: url)
        defer { database.close() }
        let changes = try await Self.follow(database, every: .milliseconds(200), count: 2) {
            try Self.append(1, approval: "apr_b", kind: "created", notify: false, url: url)
            try Self.append(2, approval: "apr_b", kind: "expired", notify: false, url: url)
        }
        #expect(changes.map(\.kind) == ["created", "expired"])
        #expect(changes.map(\.decides) == [false, true])
    }
}
