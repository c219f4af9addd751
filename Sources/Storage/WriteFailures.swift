import ApprovalCore
import Foundation
import GRDB
import Synchronization

/// Notices writes that fail because the database cannot grow, and names them as ``StorageFull``: SQLite's
/// `SQLITE_FULL` (the disk is full, or the database reached its size limit) with the free space beside it.
final class WriteFailures: Sendable {
    /// The folder of the database file; nil for a database in memory.
    let folder: String?
    let clock: any WallClock
    /// When the current run of failed writes began; nil while writes succeed.
    private let failingSince = Mutex<Date?>(nil)

    init(databasePath: String?, clock: any WallClock) {
        folder = databasePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        self.clock = clock
    }

    var since: Date? { failingSince.withLock { $0 } }

    /// `error` as the caller should see it: a `StorageFull` (and a run of failures begun) when the disk is full.
    func classify(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError, error.resultCode == .SQLITE_FULL else { return error }
        let now = clock.now
        failingSince.withLock { since in
            if since == nil { since = now }
        }
        return StorageFull(code: "SQLITE_FULL", location: folder ?? ":memory:", freeBytes: freeBytes())
    }

    /// A write committed: the run of failures, if any, is over.
    func committed() {
        failingSince.withLock { since in
            if since != nil { since = nil }
        }
    }

    /// Bytes free to this process on the database's file system.
    func freeBytes() -> Int64? {
        guard let folder, let attributes = try? FileManager.default.attributesOfFileSystem(forPath: folder) else { return nil }
        return (attributes[.systemFreeSize] as? NSNumber)?.int64Value
    }
}
