import ApprovalCore
import GRDB

extension GatehouseDatabase: WriteHealthProbe {
    /// `.writing` while writes succeed. After one failed for lack of space, each call tries a small write that needs
    /// new pages (16 KiB, removed in the same transaction), so the answer turns back once space is free again.
    public func writeHealth() async -> WriteHealth {
        guard groupCommit.failures.since != nil else { return .writing }
        _ = try? await write { db in
            try db.execute(sql: "INSERT INTO storage_probe (filler) VALUES (zeroblob(16384)); DELETE FROM storage_probe")
        }
        guard let since = groupCommit.failures.since else { return .writing }
        return .full(since: since, freeBytes: groupCommit.failures.freeBytes())
    }
}
