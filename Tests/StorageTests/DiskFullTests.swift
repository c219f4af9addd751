import ApprovalCore
import DomainTestSupport
import Foundation
import GRDB
import Testing

@testable import Storage

@Suite("Storage: a full disk, the WAL's size, the checkpoint at stop")
struct DiskFullTests {
    /// Lets the file grow by no page: every write that needs a new page then fails with SQLITE_FULL, as on a full disk.
    static func fillUp(_ db: GatehouseDatabase) throws {
        try db.writer.barrierWriteWithoutTransaction { db in
            try db.execute(sql: "VACUUM")  // no free page left inside the file either
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count")!
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
    }

    /// Room again.
    static func makeRoom(_ db: GatehouseDatabase) throws {
        try db.writer.barrierWriteWithoutTransaction { try $0.execute(sql: "PRAGMA max_page_count = 1073741823") }
    }

    static func bigApproval(at now: Date) -> Approval {
        ApprovalRequest(
            action: "Upload", payload: .object(["blob": .string(String(repeating: "x", count: 200_000))]),
            requester: "agent:test", expiresIn: 3600
        ).approval(id: .random(), ownerKey: "agent", at: now)
    }

    @Test("a write with no room fails as StorageFull (SQLITE_FULL, the free space) and stores nothing; reads go on; health turns full, then back once there is room")
    func fullDisk() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let db = try GatehouseDatabase(path: dir.path("db.sqlite"), clock: clock)
        defer { try? db.close() }
        let first = StorageTests.sampleApproval(1, at: clock.now)
        _ = try await db.insert(first.submitted(), idempotency: nil)
        let auditBefore = try await db.auditEntries().count
        #expect(await db.writeHealth() == .writing)

        try Self.fillUp(db)
        let failedAt = clock.now
        let refused = Self.bigApproval(at: clock.now)
        let error = try await #require(throws: StorageFull.self) { try await db.insert(refused.submitted(), idempotency: nil) }
        #expect(error.code == "SQLITE_FULL")
        #expect(error.location == dir.url.path)
        #expect((error.freeBytes ?? 0) > 0)
        #expect(error.description.contains("SQLITE_FULL"))
        #expect(try await db.approval(refused.id) == nil)
        #expect(try await db.auditEntries().count == auditBefore)
        #expect(try await db.approval(first.id) == first)

        clock.advance(by: 5)
        // The probe needs new pages too, so it fails as well: still full, since the first failure.
        guard case .full(let since, let free) = await db.writeHealth() else {
            Issue.record("health should be full")
            return
        }
        #expect(since == failedAt)
        #expect((free ?? 0) > 0)

        try Self.makeRoom(db)
        #expect(await db.writeHealth() == .writing)
        #expect(try await db.insert(refused.submitted(), idempotency: nil) == .created(refused.submitted()))
    }

    @Test("a run of failed writes ends with the next commit")
    func runOfFailuresEnds() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let db = try GatehouseDatabase(path: dir.path("db.sqlite"), clock: clock)
        defer { try? db.close() }
        try Self.fillUp(db)
        _ = await #expect(throws: StorageFull.self) { try await db.insert(Self.bigApproval(at: clock.now).submitted(), idempotency: nil) }
        #expect(db.groupCommit.failures.since != nil)
        try Self.makeRoom(db)
        _ = try await db.insert(StorageTests.sampleApproval(2, at: clock.now).submitted(), idempotency: nil)
        #expect(db.groupCommit.failures.since == nil)
    }

    @Test("the WAL is folded into the file before it reaches about 8 MB, however much is written, mostly off the commit path")
    func walBounded() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("db.sqlite")
        let db = try GatehouseDatabase(path: path)
        defer { try? db.close() }
        var largest = 0
        for _ in 0..<320 {  // 20 MB in transactions of 64 KiB
            try await db.writer.write { try $0.execute(sql: "INSERT INTO storage_probe (filler) VALUES (zeroblob(65536))") }
            let size = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as! NSNumber
            largest = max(largest, size.intValue)
        }
        // 2,000 frames of a 4 KiB page and its 24-byte header, plus the transaction that crossed the line.
        #expect(largest > 4 << 20)
        #expect(largest <= (GatehouseDatabase.walCheckpointPages + 20) * (4096 + 24) + 32)
        // The checkpoints ran from the connection kept for them, off the commit path.
        try db.close()
        #expect(try #require(db.checkpointer).runs.load(ordering: .relaxed) > 0)
    }

    @Test("a checkpoint at stop that readers keep from finishing is reported, the file still closes, and nothing is lost")
    func checkpointAtStop() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("db.sqlite")
        let clock = TestClock()
        let db = try GatehouseDatabase(path: path, clock: clock)
        let approval = StorageTests.sampleApproval(1, at: clock.now)
        _ = try await db.insert(approval.submitted(), idempotency: nil)
        // A reader beside the service, in the middle of reading from the WAL.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the read transaction stays open across accesses
        let reader = try DatabaseQueue(path: path, configuration: configuration)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM approval")
        }
        let error = try #require(throws: StorageError.self) { try db.close(checkpointWait: .milliseconds(20)) }
        guard case .checkpointFailed(let why) = error else {
            Issue.record("expected checkpointFailed, got \(error)")
            return
        }
        #expect(why.contains("readers"))
        #expect(throws: (any Error).self) { _ = try db.appliedMigrations() }  // closed all the same
        try reader.inDatabase { try $0.execute(sql: "COMMIT") }
        try reader.close()
        let again = try GatehouseDatabase(path: path, clock: clock)
        #expect(try await again.approval(approval.id) == approval)
        try again.close()
    }
}
