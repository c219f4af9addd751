import ApprovalCore
import DomainTestSupport
import Foundation
import Testing

@testable import Storage

@Suite("Audit entries since a time, across a step of the clock")
struct AuditSinceTests {
    @Test("since a time is the tail of the chain from the first entry at or after it: entries after a backward step are kept")
    func tailAfterBackwardStep() async throws {
        try await withDatabases { db, clock in
            var ids: [ApprovalID] = []
            for (n, step) in [0.0, 100, -3600, 10].enumerated() {
                clock.advance(by: step)
                let approval = StorageTests.sampleApproval(n, at: clock.now)
                ids.append(approval.id)
                _ = try await db.insert(approval.submitted(), idempotency: nil)
            }
            let all = try await db.auditEntries()
            let cut = all[1].at  // the second entry's time; the two after it carry earlier times
            let tail = try await db.auditEntries(since: cut)
            #expect(tail.map(\.seq) == Array(all.map(\.seq).dropFirst()))
            #expect(tail.map(\.approvalID) == ids.dropFirst().map(\.rawValue))
            #expect(try await db.auditEntries(since: all[1].at.addingTimeInterval(1)).isEmpty)
            #expect(try await db.auditEntries(since: cut, approvalID: ids[2]).map(\.approvalID) == [ids[2].rawValue])
        }
    }
}
