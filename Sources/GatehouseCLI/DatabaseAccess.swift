import ApprovalCore
import Foundation
import GatehouseServer
import PostgresStorage
import Storage

/// What a command that changes the database asks for; the running service does it (`ControlClient`), or, when none
/// runs, the command line itself (`Administration` on the file, the service's lock held meanwhile).
protocol AdministrationPort: Sendable {
    func createKey(name: String, scope: APIKeyScope, boundTo: String?, breakGlass: Bool, by actor: Actor) async throws -> String
    func revokeKey(name: String, by actor: Actor) async throws
    func applyChains(_ chains: [EscalationChain], pruning: Bool, dryRun: Bool, by actor: Actor) async throws -> Administration.ChainsApplied
    func applyPolicies(_ set: PolicySet, dryRun: Bool, by actor: Actor) async throws -> Administration.PoliciesApplied
    func createLoginLink(for person: String, scope: WebScope, by actor: Actor) async throws -> String
    func revokeSessions(person: String?, id: Int64?, by actor: Actor) async throws -> Int
}

extension Administration: AdministrationPort {}

/// How the command line reaches the database: one process writes it, the service when it runs.
enum DatabaseAccess {
    /// The path of the service's control socket for the database at `path`.
    static func controlSocket(forDatabaseAt path: String) -> String { path + "-control" }

    /// Runs `body` with the way to change the database at `options`: through the running service when one holds the
    /// database, else on the file itself with the service's lock held, so no service starts meanwhile. `command`
    /// (`keys create`) is what a service starting meanwhile is told holds the file. With `mustExist`, a missing
    /// database is refused; otherwise the direct path creates it.
    static func changing<T>(
        _ options: DatabaseOptions, command: String, mustExist: Bool = true, missingHint: String = "",
        _ body: (any AdministrationPort) async throws -> T
    ) async throws -> T {
        if options.isPostgres {
            // Any number of processes share a PostgreSQL database: the command makes the change itself.
            let store = try await openPostgres(options)
            defer { try? store.close() }
            return try await body(Administration(store: store))
        }
        let path = options.resolvedPath
        if mustExist && options.fileMissing { throw CommandFailure(noDatabase(path, hint: missingHint)) }
        let lock: ServiceLock
        do {
            lock = try ServiceLock.acquire(forDatabaseAt: path, command: command)
        } catch .held(_, let pid, nil) {
            // A service runs on it: it makes the change.
            let client = ControlClient(socketPath: controlSocket(forDatabaseAt: path))
            do {
                return try await body(client)
            } catch let failure as ControlClient.Failure where failure.status == 0 {
                throw CommandFailure(
                    "gatehouse serve\(pid.map { " (process \($0))" } ?? "") is using '\(path)', and changes go through it, "
                        + "but \(failure.message). Is it running as another account? Run this as the service's account.")
            }
        } catch {
            throw CommandFailure(error.description)
        }
        defer { lock.release() }
        let database: GatehouseDatabase
        do {
            database = try GatehouseDatabase(path: path)
        } catch {
            throw CommandFailure("Cannot open the database '\(path)': \(error)")
        }
        defer { try? database.close() }
        return try await body(Administration(store: database))
    }

    /// The database at `options`, opened for reading only: beside a running service, without writing anything (on
    /// PostgreSQL, a connection like any replica's, which it reads through).
    static func reading(_ options: DatabaseOptions) async throws -> any GatehouseStore {
        if options.isPostgres { return try await openPostgres(options) }
        let path = options.resolvedPath
        // Reading from the wrong folder would otherwise report "nothing there".
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure(noDatabase(path)) }
        do {
            return try GatehouseDatabase.openForReading(path: path)
        } catch let error as StorageError {
            throw CommandFailure(error.description)
        } catch {
            throw CommandFailure("Cannot open the database '\(path)': \(error)")
        }
    }

    /// The PostgreSQL database `options` names, connected and migrated.
    static func openPostgres(_ options: DatabaseOptions) async throws -> any GatehouseStore {
        do {
            return try await PostgresDatabase(url: options.resolvedPath)
        } catch {
            throw CommandFailure("Cannot open the database '\(options.display)': \(PostgresURL.redacted("\(error)"))")
        }
    }

    /// The one sentence (and, as a `CommandFailure`, the one exit status) of every command that finds no database.
    static func noDatabase(_ path: String, hint: String = "") -> String {
        "No database at '\(path)'. Run this where `gatehouse serve` keeps its data, or pass --db (or GATEHOUSE_DB)\(hint)."
    }
}
