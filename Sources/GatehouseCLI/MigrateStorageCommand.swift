import ApprovalCore
import ArgumentParser
import Foundation
import GatehouseServer
import PostgresStorage
import Storage

/// `gatehouse migrate-storage --from URL_OR_FILE --to URL_OR_FILE` (CONTRACT §11): copies a whole database to another
/// storage engine, audit chain included, and proves the copy by the chain's entry count and head hash on both sides.
struct MigrateStorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-storage",
        abstract: "Copy everything, audit chain included, from one database to another (SQLite file or PostgreSQL URL).",
        discussion: """
            The destination must be empty (a new SQLite file, or a PostgreSQL database with no Gatehouse data); it is \
            written in one transaction, all or nothing. Stop `gatehouse serve` on a SQLite source first: a file a \
            service holds is refused. After the copy, the destination's audit chain is verified and its entry count \
            and head hash are printed beside the source's; they must be equal.

            Example:
              gatehouse migrate-storage --from ./gatehouse.sqlite \\
                --to 'postgres://gatehouse:PASSWORD@db.internal:5432/gatehouse?sslmode=require'
            """
    )

    @Option(name: .customLong("from"), help: "The database to copy: a SQLite file path or a postgres:// URL.")
    var source: String

    @Option(name: .customLong("to"), help: "The empty database to copy into: a SQLite file path or a postgres:// URL.")
    var destination: String

    func run() async throws {
        let status = await Self.run(from: source, to: destination, terminal: .standard)
        if status != 0 { throw ExitCode(status) }
    }

    /// Copies and reports; returns the exit status (0: copied and verified).
    static func run(from source: String, to destination: String, terminal: Terminal) async -> Int32 {
        var opened: [Opened] = []
        var copied = false
        defer {
            for side in opened {
                side.close()
                // A SQLite file made for a copy that failed is removed, so that the next attempt finds no data there.
                if !copied, let created = side.createdFile {
                    for suffix in ["", "-wal", "-shm", "-lock"] { try? FileManager.default.removeItem(atPath: created + suffix) }
                }
            }
        }
        do {
            guard Self.identity(source) != Self.identity(destination) else {
                throw CommandFailure("--from and --to name the same database.")
            }
            let from = try await open(source, role: .source)
            opened.append(from)
            let to = try await open(destination, role: .destination)
            opened.append(to)
            terminal.out("copying \(display(source)) to \(display(destination))")
            let summary = try await StorageCopy(source: from.store, destination: to.store).run()
            for table in summary.tables {
                let mark = table.source == table.destination ? "" : "  MISMATCH: \(table.destination) in the destination"
                terminal.out("  \(table.name): \(table.source) \(table.source == 1 ? "row" : "rows")\(mark)")
            }
            terminal.out("source audit log:      \(summary.sourceAudit.sentence)")
            terminal.out("destination audit log: \(summary.destinationAudit.sentence)")
            guard summary.countsMatch, summary.auditMatches else {
                terminal.err("Error: the copy does not match its source (see above); do not use it.")
                return 1
            }
            terminal.out("copied and verified: every table's rows and the audit chain match.")
            copied = true
            return 0
        } catch {
            terminal.err("Error: \(redacting(describe(error), urls: [source, destination]))")
            return 1
        }
    }

    enum Role { case source, destination }

    /// An open side of the copy, with the service lock of a SQLite file held until it is closed.
    struct Opened {
        let store: StorageCopy.Store
        let lock: ServiceLock?
        /// The SQLite file this copy created, if it did.
        var createdFile: String? = nil

        func close() {
            switch store {
            case .sqlite(let database): try? database.close()
            case .postgres(let database): database.close()
            }
            lock?.release()
        }
    }

    /// Opens `location`. A SQLite file is locked as `serve` locks it: a running service on it is refused (its data
    /// would change under the copy), and no service can start on it until the copy ends.
    static func open(_ location: String, role: Role) async throws -> Opened {
        if PostgresURL.isPostgres(location) {
            do {
                return Opened(store: .postgres(try await PostgresDatabase(url: location)), lock: nil)
            } catch {
                throw CommandFailure("Cannot open \(PostgresURL.redacted(location)): \(describe(error))")
            }
        }
        if role == .source && !FileManager.default.fileExists(atPath: location) {
            throw CommandFailure(DatabaseAccess.noDatabase(location))
        }
        let existed = FileManager.default.fileExists(atPath: location)
        let lock: ServiceLock
        do {
            lock = try ServiceLock.acquire(forDatabaseAt: location, command: "migrate-storage")
        } catch .held(_, let pid, let command) {
            let holder = "gatehouse \(command ?? "serve")\(pid.map { " (process \($0))" } ?? "")"
            throw CommandFailure(
                "\(holder) is using '\(location)'. Stop it before copying this database, so that nothing changes during the copy.")
        } catch {
            throw CommandFailure(error.description)
        }
        do {
            return Opened(store: .sqlite(try GatehouseDatabase(path: location)), lock: lock, createdFile: existed ? nil : location)
        } catch {
            lock.release()
            throw CommandFailure("Cannot open the database '\(location)': \(error)")
        }
    }

    /// How a location is shown: a URL without its password.
    static func display(_ location: String) -> String {
        PostgresURL.isPostgres(location) ? PostgresURL.redacted(location) : "'\(location)'"
    }

    /// What makes two locations the same database: a file's full path, or a URL without its password.
    static func identity(_ location: String) -> String {
        PostgresURL.isPostgres(location)
            ? PostgresURL.redacted(location) : URL(fileURLWithPath: location).standardizedFileURL.resolvingSymlinksInPath().path
    }

    static func describe(_ error: any Error) -> String {
        PostgresDatabase.failureDescription(error)
    }

    /// `text` with every password of `urls` replaced, whatever printed it.
    static func redacting(_ text: String, urls: [String]) -> String {
        var text = text
        for url in urls where PostgresURL.isPostgres(url) {
            text = text.replacingOccurrences(of: url, with: PostgresURL.redacted(url))
            if let password = URLComponents(string: url)?.password, password.count >= 6 {
                text = text.replacingOccurrences(of: password, with: "***")
            }
        }
        return text
    }
}
