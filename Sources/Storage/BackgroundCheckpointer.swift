import Dispatch
import Foundation
import GRDB
import Synchronization

#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

/// Folds the WAL into the database file from a connection of its own, so that the commits queued behind the writer
/// do not wait for it.
///
/// SQLite's automatic checkpoint runs on the committing connection, right after a commit: every ~8 MB of WAL, the
/// commits behind it waited while the pages were copied and the database file synced. Here a hook on the writer
/// (`sqlite3_wal_hook`, called after each commit with the WAL's length) asks this connection to checkpoint once the
/// WAL holds `backgroundPages`, and it does so on its own thread, in `PASSIVE` mode, which never blocks the writer.
/// The bound on the WAL's size stays where it was: should the WAL still reach `inlinePages` (writes outrunning the
/// background checkpoints, which cannot finish while frames keep coming), the writer checkpoints itself, as before,
/// with most of the copying already done. Measured in BENCHMARKS.md (durable creates).
final class BackgroundCheckpointer: Sendable {
    let backgroundPages: Int32
    let inlinePages: Int32
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "gatehouse.checkpoint", qos: .utility)
    /// A checkpoint is queued or running: further requests until it ends are covered by it.
    private let scheduled = Atomic<Bool>(false)
    /// How many background checkpoints ran, for tests.
    let runs = Atomic<Int>(0)

    init(path: String, backgroundPages: Int32, inlinePages: Int32) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.backgroundPages = backgroundPages
        self.inlinePages = inlinePages
    }

    /// Installs the hook on the writer's connection (in place of SQLite's automatic checkpoint). `self` must outlive
    /// that connection.
    func install(on db: Database) throws {
        try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        sqlite3_wal_hook(db.sqliteConnection, { context, connection, _, pages in
            let checkpointer = Unmanaged<BackgroundCheckpointer>.fromOpaque(context!).takeUnretainedValue()
            if pages >= checkpointer.inlinePages {
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if pages >= checkpointer.backgroundPages {
                checkpointer.request()
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Schedules a checkpoint unless one is queued or running.
    private func request() {
        guard scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        queue.async {
            // A failure (a reader holding the WAL, a full disk) leaves the WAL as it is: the next commit asks again,
            // and the writer's own checkpoint still bounds the WAL.
            try? self.connection.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            self.runs.add(1, ordering: .relaxed)
            self.scheduled.store(false, ordering: .releasing)
        }
    }

    /// Waits for a checkpoint under way, then closes the connection.
    func close() throws {
        queue.sync {}
        try connection.close()
    }
}
