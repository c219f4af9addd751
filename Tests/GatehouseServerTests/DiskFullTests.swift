import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import Testing

@testable import Storage

@Suite("A full disk, seen from the API")
struct DiskFullAPITests {
    /// Lets the database file grow by no page: writes that need one fail with SQLITE_FULL, as on a full disk.
    static func limitPages(_ db: GatehouseDatabase, grow: Bool) throws {
        try db.writer.barrierWriteWithoutTransaction { db in
            if grow {
                try db.execute(sql: "PRAGMA max_page_count = 1073741823")
            } else {
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA max_page_count = \(try Int.fetchOne(db, sql: "PRAGMA page_count")!)")
            }
        }
    }

    @Test("writes answer 503 storage_full with Retry-After and store nothing; the log names SQLITE_FULL and the free space; /readyz is 503 until there is room; reads go on")
    func fullDisk() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lines = RequestLogTests.Lines()
        let app = RequestLogTests.application(env, lines: lines)
        let big = #"{"blob":"\#(String(repeating: "x", count: 200_000))"}"#
        try await app.test(.live) { client in
            let first = try await client.createApproval(key: env.requestKey)
            #expect(first.status == .created)
            #expect(try await client.call(.get, "/readyz").status == .ok)
            try Self.limitPages(env.database, grow: false)
            let countBefore = try await env.database.auditEntries().count

            let refused = try await client.createApproval(key: env.requestKey, payload: big)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused["error"]?["code"] == .string("storage_full"))
            #expect(refused.headers[.retryAfter] == "30")
            #expect(try await env.database.auditEntries().count == countBefore)

            let ready = try await client.call(.get, "/readyz")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready["status"] == .string("storage_full"))
            #expect(ready["since"]?.stringValue != nil)
            #expect((ready["free_bytes"]?.numberValue ?? 0) > 0)
            #expect(try await client.call(.get, "/healthz").status == .ok)
            #expect(try await client.call(.get, "/v1/approvals/\(first.id.rawValue)", key: env.requestKey).status == .ok)

            try Self.limitPages(env.database, grow: true)
            #expect(try await client.call(.get, "/readyz").status == .ok)
            #expect(try await client.createApproval(key: env.requestKey, payload: big).status == .created)
        }
        let failure = try #require(try lines.objects().first { $0["msg"] == .string("write failed: disk full") })
        #expect(failure["sqlite"] == .string("SQLITE_FULL"))
        #expect(failure["free_bytes"] != nil)
        #expect(failure["level"] == .string("error"))
    }
}
