import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresTestSupport
import Signing
import Testing

@testable import PostgresStorage
@testable import Storage

/// What a test reads behind a store's back, on either engine: the audit log, and single text columns.
enum StoredRows {
    struct Entry: Equatable {
        let kind: String
        let actor: String
        let details: JSONValue
    }

    /// The audit log in order.
    static func audit(_ raw: Opened<some Any>.Raw) async throws -> [Entry] {
        switch raw {
        case .sqlite(let database):
            return try await database.auditEntries().map { Entry(kind: $0.kind, actor: $0.actor, details: $0.details) }
        case .postgres(let database):
            return try await database.read { connection in
                var entries: [Entry] = []
                for try await (kind, actor, details) in try await connection.query(
                    "SELECT kind, actor, details FROM audit_log ORDER BY seq", logger: database.logger
                ).decode((String, String, String).self) {
                    entries.append(Entry(kind: kind, actor: actor, details: try JSONValue.parse(details)))
                }
                return entries
            }
        }
    }

    /// The first column of `sql` (a query both engines understand), as text.
    static func strings(_ raw: Opened<some Any>.Raw, _ sql: String) async throws -> [String] {
        switch raw {
        case .sqlite(let database):
            return try await database.writer.read { db in try String.fetchAll(db, sql: sql) }
        case .postgres(let database):
            return try await database.read { connection in
                try await connection.query("\(unescaped: sql)", logger: database.logger).decode(String.self)
                    .allElements()
            }
        }
    }

    /// Runs `sql` (a statement both engines understand) behind the store's back.
    static func execute(_ raw: Opened<some Any>.Raw, _ sql: String) async throws {
        switch raw {
        case .sqlite(let database):
            try await database.writer.write { db in try db.execute(sql: sql) }
        case .postgres(let database):
            try await database.read { connection in
                _ = try await connection.query("\(unescaped: sql)", logger: database.logger)
            }
        }
    }
}

@Suite("Key store, on both engines")
struct KeyStoreTests {
    @Test("keys are stored as digests, authenticate until revoked, and a revoked name can be reused", arguments: Engine.all)
    func keys(engine: Engine) async throws {
        let opened = try await engine.open((any KeyStore).self)
        defer { opened.close() }
        let keys = opened.store
        let secret = try await keys.createKey(name: "deploy-bot", scope: .decide, boundTo: nil, breakGlass: false, by: "cli")
        #expect(secret.hasPrefix("gh_"))
        #expect(try await keys.authenticate(secret)?.scope == .decide)
        #expect(try await keys.authenticate(secret + "x") == nil)
        let stored = try await StoredRows.strings(opened.raw, "SELECT key_sha256 FROM api_key")
        #expect(stored == [SHA256Hex.of(secret)])
        let taken = await #expect(throws: StorageError.self) {
            try await keys.createKey(name: "deploy-bot", scope: .request, boundTo: nil, breakGlass: false, by: "cli")
        }
        #expect(taken.map { if case .keyNameTaken("deploy-bot") = $0 { true } else { false } } == true)
        let invalid = await #expect(throws: StorageError.self) {
            try await keys.createKey(name: "bad name!", scope: .request, boundTo: nil, breakGlass: false, by: "cli")
        }
        #expect(invalid.map { if case .invalidKeyName("bad name!") = $0 { true } else { false } } == true)
        try await keys.revokeKey(name: "deploy-bot", by: "cli")
        #expect(try await keys.authenticate(secret) == nil)
        let unknown = await #expect(throws: StorageError.self) { try await keys.revokeKey(name: "deploy-bot", by: "cli") }
        #expect(unknown.map { if case .unknownKey("deploy-bot") = $0 { true } else { false } } == true)
        let replacement = try await keys.createKey(name: "deploy-bot", scope: .request, boundTo: nil, breakGlass: false, by: "cli")
        #expect(try await keys.authenticate(replacement)?.scope == .request)
        _ = try await keys.createKey(name: "ops", scope: .admin, boundTo: "alice", breakGlass: true, by: "cli:alice")
        try await keys.revokeKey(name: "ops", by: "cli:bob")

        let audit = try await StoredRows.audit(opened.raw)
        #expect(audit.map(\.kind) == ["key_created", "key_revoked", "key_created", "key_created", "key_revoked"])
        #expect(audit.map(\.actor) == ["cli", "cli", "cli", "cli:alice", "cli:bob"])
        #expect(audit[0].details == .object(["name": .string("deploy-bot"), "scope": .string("decide"), "key_id": .number(1)]))
        #expect(
            audit[3].details
                == .object([
                    "name": .string("ops"), "scope": .string("admin"), "key_id": .number(3), "for": .string("alice"),
                    "break_glass": .bool(true),
                ]))
        #expect(audit[1].details == .object(["name": .string("deploy-bot")]))
        #expect(!audit.map { CanonicalJSON.serialize($0.details) }.joined().contains("gh_"))
    }

    @Test("keys are listed active first, then by name and id, with their use; an earlier use never replaces a later one", arguments: Engine.all)
    func listAndUse(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any KeyStore).self, clock: clock)
        defer { opened.close() }
        let keys = opened.store
        for name in ["b", "a", "Z", "c"] {
            _ = try await keys.createKey(name: name, scope: .request, boundTo: nil, breakGlass: false, by: "cli")
        }
        clock.advance(by: 10)
        try await keys.revokeKey(name: "a", by: "cli")
        _ = try await keys.createKey(name: "a", scope: .decide, boundTo: "U1", breakGlass: false, by: "cli")
        let listed = try await keys.listKeys()
        #expect(listed.map(\.name) == ["Z", "a", "b", "c", "a"])
        #expect(listed.map(\.id) == [3, 5, 1, 4, 2])
        #expect(listed.last?.revokedAt == clock.now.truncatedToMilliseconds)
        #expect(listed[1].boundTo == "U1")
        #expect(listed.allSatisfy { $0.lastUsedAt == nil })

        let later = clock.now.addingTimeInterval(60).truncatedToMilliseconds
        try await keys.recordKeyUse([1: later, 3: clock.now])
        try await keys.recordKeyUse([1: clock.now])
        let used = try await keys.listKeys()
        #expect(used.first { $0.id == 1 }?.lastUsedAt == later)
        #expect(used.first { $0.id == 3 }?.lastUsedAt == clock.now.truncatedToMilliseconds)
    }

    @Test("a key revoked on one replica is refused at once by another", .enabled(if: PostgresServer.available))
    func revokedAcrossReplicas() async throws {
        let (first, second) = try await postgresReplicas()
        defer {
            first.close()
            second.close()
        }
        let secret = try await first.createKey(name: "ci", scope: .request, boundTo: nil, breakGlass: false, by: "cli")
        #expect(try await second.authenticate(secret)?.name == "ci")
        #expect(try await second.authenticate(secret)?.name == "ci")
        try await first.revokeKey(name: "ci", by: "cli")
        #expect(try await second.authenticate(secret) == nil)
    }

    @Test("two replicas creating the same name at once: one key is made, the other is told the name is taken", .enabled(if: PostgresServer.available))
    func sameNameAcrossReplicas() async throws {
        let (a, b) = try await postgresReplicas()
        let replicas = [a, b]
        defer { replicas.forEach { $0.close() } }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for round in 0..<8 {
                let replica = replicas[round % 2]
                group.addTask {
                    do {
                        _ = try await replica.createKey(name: "shared", scope: .request, boundTo: nil, breakGlass: false, by: "cli")
                        return true
                    } catch StorageError.keyNameTaken("shared") {
                        return false
                    } catch {
                        Issue.record("unexpected \(error)")
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(try await replicas[1].listKeys().count == 1)
    }
}

/// The SHA-256 of a text, as the stores keep it.
enum SHA256Hex {
    static func of(_ text: String) -> String { Signing.SHA256.hexDigest(of: text) }
}
