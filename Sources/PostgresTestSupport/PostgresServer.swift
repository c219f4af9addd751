import Foundation
import Synchronization

/// A private PostgreSQL cluster for tests: made with `initdb` in a temporary directory, listening on 127.0.0.1 on a
/// port of its own, started once per test process and stopped when the process exits. Each test takes a fresh
/// database of its own (`freshDatabaseURL()`), so tests run side by side.
///
/// The binaries are Debian's (`postgresql`): `GATEHOUSE_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`. As
/// root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root). Without them, `available` is
/// false and the PostgreSQL tests are skipped; `.ci/run` installs them, so there they always run.
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: String
    let binaries: String
    let runAs: String?

    /// The binaries' directory, or `nil` when PostgreSQL is not installed here.
    public static let binaries: String? = {
        if let explicit = ProcessInfo.processInfo.environment["GATEHOUSE_PG_BIN"], !explicit.isEmpty { return explicit }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().reversed()
            .map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }()

    /// Whether a cluster can be started here.
    public static var available: Bool { binaries != nil }

    private static let started = Mutex<Result<PostgresServer, any Error>?>(nil)

    /// The cluster of this test process, started on first use.
    public static func shared() throws -> PostgresServer {
        try started.withLock { state in
            if let state { return try state.get() }
            let result = Result { try PostgresServer.start() }
            state = result
            if case .success(let server) = result {
                atexit { PostgresServer.stopShared() }
                _ = server
            }
            return try result.get()
        }
    }

    private static func stopShared() {
        guard case .success(let server)? = started.withLock({ $0 }) else { return }
        server.stop()
    }

    /// A new, empty database on the shared cluster, as a `postgres://` URL.
    public static func freshDatabaseURL() throws -> String {
        let server = try shared()
        let name = "gh_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try server.psql("CREATE DATABASE \(name)")
        return server.url(database: String(name))
    }

    public func url(database: String) -> String {
        "postgres://gatehouse@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Starts a new cluster. Durable as any (fsync is off: a test's cluster does not outlive a crash of the machine).
    public static func start() throws -> PostgresServer {
        guard let binaries else { throw Failure("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)") }
        let runAs = geteuid() == 0 ? "postgres" : nil
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let runAs { try run("/bin/chown", [runAs, directory]) }
        let server = PostgresServer(port: try freePort(), directory: directory, binaries: binaries, runAs: runAs)
        try server.command("initdb", ["-D", "\(directory)/data", "-U", "gatehouse", "--auth=trust", "-E", "UTF8", "--no-sync"])
        let options = "-p \(server.port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
            + " -c shared_buffers=32MB"
        try server.command("pg_ctl", ["-D", "\(directory)/data", "-o", options, "-l", "\(directory)/log", "-w", "-t", "60", "start"])
        try server.watch(pid: getpid())
        return server
    }

    init(port: Int, directory: String, binaries: String, runAs: String?) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.runAs = runAs
    }

    /// Stops the cluster when process `pid` ends, however it ends (a test run killed by a timeout has no `atexit`).
    func watch(pid: Int32) throws {
        let stop = (runAs.map { "/usr/sbin/runuser -u \($0) -- " } ?? "") + "\(binaries)/pg_ctl -D \(directory)/data -m immediate -w stop"
        let script = "while kill -0 \(pid) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf \(directory)"
        try Self.run("/usr/bin/setsid", ["/bin/sh", "-c", script], wait: false)
    }

    /// Stops the cluster at once and removes its directory.
    public func stop() {
        try? command("pg_ctl", ["-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs one SQL statement on the `postgres` database.
    public func psql(_ sql: String, database: String = "postgres") throws {
        try command("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "gatehouse",
                             "-d", database, "-c", sql])
    }

    func command(_ name: String, _ arguments: [String]) throws {
        if let runAs {
            try Self.run("/usr/sbin/runuser", ["-u", runAs, "--", "\(binaries)/\(name)"] + arguments)
        } else {
            try Self.run("\(binaries)/\(name)", arguments)
        }
    }

    /// Runs a program to its end, its output in a file (`pg_ctl start` leaves the server holding the descriptors it
    /// was given, so a pipe would never reach its end). posix_spawn and waitpid rather than Foundation's `Process`,
    /// whose wait on Linux can miss the exit of a child that leaves a grandchild running.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], wait: Bool = true) throws -> pid_t {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-pg-output-\(UUID().uuidString)").path
        defer { if wait { try? FileManager.default.removeItem(atPath: outputPath) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, wait ? outputPath : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure("could not run \(executable): error \(spawned)") }
        guard wait else { return pid }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let text = FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw Failure("\(executable) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return pid
    }

    /// A port free on 127.0.0.1 now (the kernel's choice for port 0).
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
