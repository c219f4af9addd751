import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Makes sure one `gatehouse serve` owns one database file.
///
/// Two services on the same file would both run the scheduler and the outbox: every escalation and every Slack
/// post would happen twice. The lock is an exclusive `flock` on `<database>-lock`, a file of its own: a lock on the
/// database file itself would have to be taken through a second descriptor, and closing that one would drop the
/// locks SQLite holds on the file. The lock file holds the owner's process id, for the message; the kernel releases
/// the lock when the process ends, however it ends.
public final class ServiceLock: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Another process holds the lock: its process id, when it wrote one, and what it is when it is not a
        /// service (`keys create`: the command line writing while no service runs).
        case held(path: String, pid: Int32?, command: String? = nil)
        case unusable(path: String, reason: String)

        public var description: String {
            switch self {
            case .held(let path, let pid, let command?):
                "gatehouse \(command)\(pid.map { " (process \($0))" } ?? "") is changing this database (it holds \(path)); "
                    + "it takes a moment. Try again when it has finished."
            case .held(let path, let pid, nil):
                "another gatehouse serve\(pid.map { " (process \($0))" } ?? "") is already using this database "
                    + "(it holds \(path)); one service owns one database file. Stop it, or pass another --db."
            case .unusable(let path, let reason):
                "cannot lock \(path): \(reason)"
            }
        }
    }

    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock of the database at `databasePath`, or fails at once if another process has it. `command` names
    /// a command-line writer (`keys create`) holding it while no service runs; `nil` is the service.
    public static func acquire(forDatabaseAt databasePath: String, command: String? = nil) throws(Failure) -> ServiceLock {
        let path = databasePath + "-lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .unusable(path: path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let (pid, holder) = readHolder(descriptor)
            close(descriptor)
            if reason == EWOULDBLOCK { throw .held(path: path, pid: pid, command: holder) }
            throw .unusable(path: path, reason: String(cString: strerror(reason)))
        }
        let text = Array("\(getpid())\n\(command.map { $0 + "\n" } ?? "")".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
        return ServiceLock(path: path, descriptor: descriptor)
    }

    /// Lets the next service start (also done by the kernel when the process ends).
    public func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The holder's process id and, for a command-line writer, its command: the lock file's first two lines.
    private static func readHolder(_ descriptor: Int32) -> (pid: Int32?, command: String?) {
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return (nil, nil) }
        let lines = String(decoding: buffer.prefix(count), as: UTF8.self).split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return (lines.first.flatMap { Int32($0) }, lines.count > 1 && !lines[1].isEmpty ? lines[1] : nil)
    }
}
