import ApprovalCore
import DomainTestSupport
import Foundation
@testable import GatehouseCLI
import GatehouseServer
@_spi(StorageCopy) import PostgresStorage
import PostgresTestSupport
import SlackRecords
@_spi(StorageCopy) import Storage
import Testing

@Suite("gatehouse migrate-storage", .enabled(if: PostgresServer.available))
struct MigrateStorageTests {
    /// A SQLite database with something in every part of the schema that the service writes: keys (one revoked),
    /// approvals (one decided, with its vote and callback), chains, admins, a Slack message and signature, outbox
    /// items (one claimed), and a signed-in web session.
    static func populatedDatabase(at path: String) async throws {
        let clock = TestClock()
        let database = try GatehouseDatabase(path: path, clock: clock)
        defer { try? database.close() }
        _ = try await database.createKey(name: "ci", scope: .request, by: "cli:alice")
        _ = try await database.createKey(name: "old", scope: .decide, by: "cli:alice")
        try await database.revokeKey(name: "old", by: "cli:bob")
        _ = try await database.changeChains(by: "U0") { existing in
            ChainChange.plan(
                applying: [EscalationChain(name: "deploy", levels: [.init(approvers: [.user("U1")], sla: 600)])], to: existing,
                pruning: false)
        }
        _ = try await database.addAdmins(["U1", "U2"], by: "U0")
        var approvals: [Approval] = []
        for n in 0..<3 {
            let approval = ApprovalRequest(
                action: "Deploy \(n)", payload: .object(["n": .number(Double(n)), "text": .string("é ✓ \"quoted\"")]),
                gate: n == 0 ? "deploy" : "default", requester: "agent:test", callbackURL: "https://example.com/hook"
            ).approval(id: .random(), ownerKey: "ci", at: clock.now)
            _ = try await database.insert(idempotency: nil) { _ in PlannedChange(approval.submitted()) }
            approvals.append(approval)
            clock.advance(by: 1.5)
        }
        let decided = try approvals[1].deciding(DecisionCommand(.approve, by: .slackUser("U1", name: "alice"), reason: "ok"), at: clock.now)
        #expect(try await database.commit(PlannedChange(decided, outbox: [NewOutboxItem(kind: "callback", approvalID: approvals[1].id, payload: .object(["x": .number(1)]))])))
        try await database.recordSlackMessage(
            SlackMessageRecord(approvalID: approvals[0].id, kind: .channel, channel: "C1", ts: "1700000000.000100", postedAt: clock.now),
            audit: AuditEvent(.posted, approvalID: approvals[0].id, actor: "system", details: ["channel": .string("C1")]))
        _ = try await database.recordSlackSignature("v0=abc", expiresAt: clock.now.addingTimeInterval(300), now: clock.now)
        try await database.enqueueOutboxItems([NewOutboxItem(kind: "slack_post", approvalID: approvals[2].id, payload: .object([:]))])
        #expect(try await !database.claimDueOutboxItems(now: clock.now).isEmpty)
        let link = try await database.createLoginLink(for: "U1", scope: .decide, lifetime: 600, by: "U0")
        _ = try await database.redeemLoginLink(link)
    }

    static func counts(_ store: StorageCopy.Store) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in try await StorageCopy.tables(of: store) { counts[table] = try await StorageCopy.count(of: table, in: store) }
        return counts
    }

    static func audit(_ store: StorageCopy.Store) async throws -> AuditChainCheck {
        try await StorageCopy.reading(store) { reader in
            var check = AuditChainCheck()
            let columns = try await StorageCopy.columns(of: "audit_log", in: store)
            try await reader.pages(of: "audit_log", columns: columns) { check.add($0, columns: columns) }
            return check
        }
    }

    @Test("SQLite to PostgreSQL: every row copied as it is, the audit chain verifies with the same head, claims released, ids go on")
    func sqliteToPostgres() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("gatehouse.sqlite")
        try await Self.populatedDatabase(at: path)
        let url = try PostgresServer.freshDatabaseURL()

        let terminal = CapturedTerminal()
        #expect(await MigrateStorageCommand.run(from: path, to: url, terminal: terminal.terminal) == 0)
        #expect(terminal.err == [])

        let source = try GatehouseDatabase(path: path)
        defer { try? source.close() }
        let destination = try await PostgresDatabase(url: url)
        defer { destination.close() }
        let sourceCounts = try await Self.counts(.sqlite(source))
        #expect(sourceCounts.count == 15)
        for table in ["api_key", "approval", "vote", "audit_log", "outbox", "slack_message", "chain", "admin", "slack_signature", "web_login_link", "web_session"] {
            #expect((sourceCounts[table] ?? 0) > 0, "nothing in \(table) to copy")
        }
        #expect(try await Self.counts(.postgres(destination)) == sourceCounts)
        let head = try #require(try await source.auditHead())
        let copied = try await Self.audit(.postgres(destination))
        #expect(copied.broken == nil)
        #expect(copied.head?.seq == head.seq && copied.head?.hash == head.hash)
        #expect(terminal.out.contains { $0.contains("source audit log:") && $0.contains(head.hash) })
        #expect(terminal.out.contains { $0.contains("destination audit log:") && $0.contains(head.hash) })

        // Every value as it was, table by table.
        for table in try await StorageCopy.tables(of: .sqlite(source)) {
            let columns = try await StorageCopy.columns(of: table, in: .sqlite(source)).filter { table != "outbox" || $0 != "claimed" }
            let read = { (store: StorageCopy.Store) in
                try await StorageCopy.reading(store) { reader in
                    var rows: [[StorageCopy.Value]] = []
                    try await reader.pages(of: table, columns: columns) { rows += $0 }
                    return rows.sorted { "\($0)" < "\($1)" }
                }
            }
            #expect(try await read(.sqlite(source)) == read(.postgres(destination)), "\(table) differs")
        }
        let claims = try await destination.readingSnapshot { reader in
            var rows: [[StorageCopy.Value]] = []
            try await reader.rows(of: "outbox", columns: ["claimed", "claimed_by", "claimed_until"]) { rows += $0 }
            return rows
        }
        #expect(claims.allSatisfy { $0 == [.integer(0), .null, .null] })

        // New rows get new ids, and extend the copied chain.
        _ = try await destination.createKey(name: "after", scope: .request, boundTo: nil, breakGlass: false, by: "cli")
        #expect(try await destination.listKeys().map(\.id).sorted() == [1, 2, 3])
        let extended = try await Self.audit(.postgres(destination))
        #expect(extended.broken == nil && extended.count == copied.count + 1)
    }

    @Test("a destination that holds data is refused, and no password is ever printed")
    func nonEmptyDestination() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("gatehouse.sqlite")
        try await Self.populatedDatabase(at: path)
        let plain = try PostgresServer.freshDatabaseURL()
        let url = plain.replacingOccurrences(of: "postgres://gatehouse@", with: "postgres://gatehouse:pw-s3cret-xyz@")
        #expect(await MigrateStorageCommand.run(from: path, to: url, terminal: CapturedTerminal().terminal) == 0)
        let destination = try await PostgresDatabase(url: plain)
        let before = try await Self.counts(.postgres(destination))

        let again = CapturedTerminal()
        #expect(await MigrateStorageCommand.run(from: path, to: url, terminal: again.terminal) == 1)
        let error = again.err.joined(separator: "\n")
        #expect(error.contains("holds data already"))
        #expect(error.contains("audit entries"))
        #expect(!(again.out + again.err).joined().contains("pw-s3cret-xyz"))
        #expect(again.out.joined().contains("gatehouse:***@"))
        #expect(try await Self.counts(.postgres(destination)) == before)
        destination.close()
    }

    @Test("a SQLite file a running service holds is refused, and nothing is copied")
    func heldSource() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("gatehouse.sqlite")
        try await Self.populatedDatabase(at: path)
        let lock = try ServiceLock.acquire(forDatabaseAt: path)
        defer { lock.release() }
        let url = try PostgresServer.freshDatabaseURL()
        let terminal = CapturedTerminal()
        #expect(await MigrateStorageCommand.run(from: path, to: url, terminal: terminal.terminal) == 1)
        #expect(terminal.err.joined().contains("gatehouse serve"))
        let destination = try await PostgresDatabase(url: url)
        #expect(try await Self.counts(.postgres(destination)).values.allSatisfy { $0 == 0 })
        destination.close()
    }

    @Test("PostgreSQL to PostgreSQL and back to SQLite: the same rows and the same audit head each time")
    func roundTrip() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("gatehouse.sqlite")
        try await Self.populatedDatabase(at: path)
        let first = try PostgresServer.freshDatabaseURL()
        let second = try PostgresServer.freshDatabaseURL()
        let back = directory.path("back.sqlite")
        for (from, to) in [(path, first), (first, second), (second, back)] {
            let terminal = CapturedTerminal()
            #expect(await MigrateStorageCommand.run(from: from, to: to, terminal: terminal.terminal) == 0, "\(terminal.err)")
        }
        let source = try GatehouseDatabase(path: path)
        defer { try? source.close() }
        let copy = try GatehouseDatabase(path: back)
        defer { try? copy.close() }
        let expected = try await Self.counts(.sqlite(source))
        #expect(try await Self.counts(.sqlite(copy)) == expected)
        #expect(try await copy.verifyAuditLog() == source.verifyAuditLog())
        #expect(try await copy.auditHead()?.hash == source.auditHead()?.hash)
        #expect(try await copy.claimDueOutboxItems(now: Date().addingTimeInterval(86_400)).count == 2)
    }
}

@Suite("gatehouse migrate-storage, its command line")
struct MigrateStorageCommandLineTests {
    @Test("it is a subcommand that takes --from and --to, with --help and an example")
    func commandLine() throws {
        let parsed = try GatehouseCommand.parseAsRoot(["migrate-storage", "--from", "a.sqlite", "--to", "postgres://u@h/db"])
        let command = try #require(parsed as? MigrateStorageCommand)
        #expect(command.source == "a.sqlite" && command.destination == "postgres://u@h/db")
        #expect(throws: (any Error).self) { try GatehouseCommand.parseAsRoot(["migrate-storage", "--from", "a.sqlite"]) }
        let help = MigrateStorageCommand.helpMessage()
        #expect(help.contains("Example:") && help.contains("gatehouse migrate-storage --from"))
    }

    @Test("the same database on both sides, or a missing source file, is refused without creating anything")
    func refusals() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("gatehouse.sqlite")
        let same = CapturedTerminal()
        #expect(await MigrateStorageCommand.run(from: path, to: directory.path("./gatehouse.sqlite"), terminal: same.terminal) == 1)
        #expect(same.err.joined().contains("same database"))
        let missing = CapturedTerminal()
        #expect(await MigrateStorageCommand.run(from: path, to: directory.path("copy.sqlite"), terminal: missing.terminal) == 1)
        #expect(missing.err.joined().contains("No database at"))
        #expect(!FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: directory.path("copy.sqlite")))
    }
}
