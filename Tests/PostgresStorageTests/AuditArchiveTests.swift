import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresNIO
import PostgresTestSupport
import Testing

@testable import PostgresStorage

/// The audit log read back, and its verification, on both engines.
@Suite("Audit archive on both engines")
struct AuditArchiveTests {
    typealias S = ApprovalStorageSupport

    /// Statements that remove the audit log's protection, as someone with the database's keys could.
    static func unprotect(_ engine: Engine) -> [String] {
        switch engine {
        case .sqlite: ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
        case .postgres: ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"]
        }
    }

    @Test("after many commits the chain verifies with every entry, in order, and reads back whole, by approval and from a time",
          arguments: Engine.all)
    func chainAfterManyCommits(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        #expect(try await db.auditHead() == nil)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .intact(entries: 0))
        var approvals: [Approval] = []
        for n in 0..<30 {
            clock.advance(by: 1)
            let approval = S.sample(n, at: clock.now)
            try await S.insert(approval, into: db)
            approvals.append(approval)
            if n.isMultiple(of: 2) {
                #expect(try await S.commit(try approval.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now), to: db))
            }
        }
        try await db.append(AuditEvent(.keyCreated, actor: "cli:test", details: ["name": .string("ci")]))
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .intact(entries: 46))
        let entries = try await db.auditEntries(since: nil, approvalID: nil)
        #expect(entries.map(\.seq) == Array(1...46))
        #expect(entries.first?.prevHash == String(repeating: "0", count: 64))
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.hash == $1.prevHash })
        #expect(entries.last?.kind == "key_created")
        #expect(entries.last?.details == .object(["name": .string("ci")]))
        let head = try #require(try await db.auditHead())
        #expect(head.seq == 46 && head.hash == entries.last?.hash)
        #expect(try await db.verifyAuditLog(expectedHead: entries[10].hash) == .intact(entries: 46))
        #expect(try await db.auditEntries(since: nil, approvalID: approvals[4].id).map(\.kind) == ["created", "decided"])
        #expect(try await db.auditEntries(since: nil, approvalID: approvals[5].id).map(\.kind) == ["created"])
        let created = try #require(entries.first)
        #expect(created.approvalID == approvals[0].id.rawValue)
        #expect(created.actor == "key:agent")
        #expect(created.at == approvals[0].createdAt)
    }

    @Test("since a time is the tail of the chain from the first entry at or after it: entries after a backward step are kept",
          arguments: Engine.all)
    func sinceAcrossBackwardStep(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        var ids: [ApprovalID] = []
        for (n, step) in [0.0, 100, -3600, 10].enumerated() {
            clock.advance(by: step)
            let approval = S.sample(n, at: clock.now)
            ids.append(approval.id)
            try await S.insert(approval, into: db)
        }
        let all = try await db.auditEntries(since: nil, approvalID: nil)
        let cut = all[1].at
        let tail = try await db.auditEntries(since: cut, approvalID: nil)
        #expect(tail.map(\.seq) == Array(all.map(\.seq).dropFirst()))
        #expect(tail.map(\.approvalID) == ids.dropFirst().map(\.rawValue))
        #expect(try await db.auditEntries(since: all[1].at.addingTimeInterval(1), approvalID: nil).isEmpty)
        #expect(try await db.auditEntries(since: cut, approvalID: ids[2]).map(\.approvalID) == [ids[2].rawValue])
    }

    @Test("entries cut from the end are found: a head seen earlier gone, a decided approval without its decision, one without its creation",
          arguments: Engine.all)
    func truncatedTail(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        for n in 0..<3 { try await S.insert(S.sample(n, at: clock.now), into: db) }
        let last = S.sample(9, at: clock.now)
        try await S.insert(last, into: db)
        #expect(try await S.commit(try last.deciding(DecisionCommand(.approve, by: .slackUser("U1")), at: clock.now), to: db))
        try await db.append(AuditEvent(.keyCreated, actor: "cli:test", details: ["name": .string("ci")]))
        let head = try #require(try await db.auditHead())
        #expect(head.seq == 6)
        #expect(try await db.verifyAuditLog(expectedHead: head.hash) == .intact(entries: 6))

        try await S.execute(Self.unprotect(engine) + ["DELETE FROM audit_log WHERE seq = 6"], on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .intact(entries: 5))
        #expect(try await db.verifyAuditLog(expectedHead: head.hash) == .broken(
            seq: 6,
            reason: "no entry has the hash \(head.hash): if it was printed by an earlier verify of this log, entries were removed from its end"))

        try await S.execute(["DELETE FROM audit_log WHERE seq = 5"], on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .broken(
            seq: 5, reason: "approval \(last.id.rawValue) (approved) is missing its entries: entries were removed from the end of the log"))

        try await S.execute(["DELETE FROM audit_log WHERE seq = 4"], on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .broken(
            seq: 4, reason: "approval \(last.id.rawValue) (approved) is missing its entries: entries were removed from the end of the log"))
    }

    @Test("an entry changed or removed behind the store's back is named by its number", arguments: Engine.all)
    func tamperNamed(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        for n in 0..<5 { try await S.insert(S.sample(n, at: clock.now), into: db) }
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .intact(entries: 5))
        try await S.execute(Self.unprotect(engine) + [#"UPDATE audit_log SET details = '{"action":"else"}' WHERE seq = 3"#], on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .broken(
            seq: 3, reason: "its content does not match its hash (it was changed after it was written)"))
        try await S.execute(["UPDATE audit_log SET hash = '\(String(repeating: "a", count: 64))' WHERE seq = 3"], on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .broken(seq: 3, reason: "its content does not match its hash (it was changed after it was written)"))
        try await S.execute(["DELETE FROM audit_log WHERE seq = 3"], on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .broken(seq: 4, reason: "entry 3 is missing (the next one is 4)"))
        try await S.execute(["DELETE FROM audit_log WHERE seq = 1"], on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .broken(seq: 2, reason: "entry 1 is missing (the next one is 2)"))
    }

    @Test("a previous-hash that does not match the entry before is named", arguments: Engine.all)
    func brokenLink(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any ApprovalStorePorts).self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        for n in 0..<3 { try await S.insert(S.sample(n, at: clock.now), into: db) }
        try await S.execute(Self.unprotect(engine) + ["UPDATE audit_log SET prev_hash = '\(String(repeating: "b", count: 64))' WHERE seq = 2"],
                            on: opened.raw)
        #expect(try await db.verifyAuditLog(expectedHead: nil) == .broken(seq: 2, reason: "its previous-hash does not match entry 1"))
    }
}

/// PostgreSQL's own guard of the audit log: its triggers refuse to change it, whoever connects.
@Suite("Audit log protection on PostgreSQL", .enabled(if: PostgresServer.available))
struct PostgresAuditProtectionTests {
    @Test("UPDATE, DELETE and TRUNCATE of the audit log are refused, and the chain still verifies")
    func appendOnly() async throws {
        let clock = TestClock()
        let database = try await PostgresStorage.PostgresDatabase(url: try PostgresServer.freshDatabaseURL(), clock: clock)
        defer { database.close() }
        for n in 0..<3 { try await ApprovalStorageSupport.insert(ApprovalStorageSupport.sample(n, at: clock.now), into: database) }
        for statement in ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 3",
                          "TRUNCATE audit_log", "DELETE FROM audit_log"] {
            do {
                try await database.write { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: database.logger)
                }
                Issue.record("\(statement) was allowed")
            } catch let error as PSQLError {
                #expect(error.serverInfo?[.message] == "the audit log is append-only", "\(statement)")
            }
        }
        #expect(try await database.verifyAuditLog(expectedHead: nil) == .intact(entries: 3))
        #expect(try await database.auditEntries(since: nil, approvalID: nil).map(\.actor) == ["key:agent", "key:agent", "key:agent"])
    }
}
