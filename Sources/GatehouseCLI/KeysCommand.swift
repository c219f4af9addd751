import ApprovalCore
import ArgumentParser
import Foundation
import Storage

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        discussion: "Example:\n  gatehouse keys create deploy-bot --scope request",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and print it on the last line, once; only its SHA-256 is stored.",
            discussion: """
                Scopes: request (default) files requests and sees its own; decide also reads all and decides; \
                admin may do everything. --for binds a decide (or admin) key to one person: its decisions are theirs, \
                and a decision that names someone else with `as` is refused.

                Example:
                  gatehouse keys create deploy-bot --scope request
                  gatehouse keys create alice-terminal --scope decide --for alice
                  gatehouse keys create oncall-pager --scope decide --for U0ONCALL1 --break-glass

                --break-glass lets a decide key approve a pending request at once in an emergency \
                (POST /v1/approvals/{id}/break-glass); each use is posted loudly and must be reviewed by an admin.
                """
        )

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "A name for the key: letters, digits, '-', '_' or '.'.") var name: String
        @Option(help: "request, decide or admin.") var scope: String = "request"
        @Option(name: .customLong("for"), help: "The one person a decide key decides for: a name or a Slack user ID (U…).")
        var boundTo: String?
        @Flag(name: .customLong("break-glass"), help: "The key may break the glass: approve at once in an emergency, loudly and audited.")
        var breakGlass = false
        @Flag(help: "Create the database when there is none yet (a new installation, before the first `gatehouse serve`).")
        var create = false

        func validate() throws {
            guard let parsed = APIKeyScope(rawValue: scope) else { throw ValidationError("--scope must be request, decide or admin.") }
            if breakGlass && !parsed.canDecide { throw ValidationError("--break-glass is for a key that decides: add --scope decide.") }
            if let boundTo {
                guard parsed.canDecide else { throw ValidationError("--for binds a key that decides: add --scope decide.") }
                guard !boundTo.trimmingCharacters(in: .whitespaces).isEmpty, boundTo.count <= 200 else {
                    throw ValidationError("--for must name one person: 1–200 characters.")
                }
            }
        }

        func run() async throws {
            try await run(as: CLIActor.current(), terminal: .standard)
        }

        /// Creates the key as `actor`: through the running service, or on the file when none runs.
        func run(as actor: Actor, terminal: Terminal) async throws {
            guard let scope = APIKeyScope(rawValue: scope) else { throw CommandFailure("--scope must be request, decide or admin.") }
            let secret = try await DatabaseAccess.changing(
                database, command: "keys create", mustExist: !create, missingHint: "; add --create to make a new one"
            ) { administration in
                try await refusalsAsFailures { try await administration.createKey(name: name, scope: scope, boundTo: boundTo, breakGlass: breakGlass, by: actor) }
            }
            let person = (boundTo.map { ", deciding for \($0)," } ?? "") + (breakGlass ? " able to break the glass," : "")
            terminal.err(
                "Created key '\(name)' with scope \(scope.rawValue)\(person) in \(database.display). It is shown once; store it now:")
            terminal.out(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List keys: name, scope, created, last used, and whether revoked.",
            discussion: "Example:\n  gatehouse keys list --db /var/lib/gatehouse/g.sqlite"
        )

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let db = try await DatabaseAccess.reading(database)
            defer { try? db.close() }
            let keys = try await db.listKeys()
            if keys.isEmpty {
                Terminal.standard.err("No keys yet: create one with `gatehouse keys create NAME`.")
                return
            }
            Terminal.standard.out(pad("NAME", 24) + pad("SCOPE", 9) + pad("FOR", 14) + pad("CREATED", 22) + pad("LAST USED", 22) + "STATUS")
            for key in keys {
                let status = key.revokedAt.map { "revoked \(RFC3339.string(from: $0))" } ?? "active"
                Terminal.standard.out(
                    pad(key.name, 24) + pad(key.scope.rawValue, 9) + pad(key.boundTo ?? "-", 14) + pad(RFC3339.string(from: key.createdAt), 22)
                        + pad(key.lastUsedAt.map(RFC3339.string(from:)) ?? "never", 22) + status)
            }
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key: calls with it get 401 from now on.",
            discussion: "Example:\n  gatehouse keys revoke deploy-bot"
        )

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The key's name.") var name: String

        func run() async throws {
            try await run(as: CLIActor.current(), terminal: .standard)
        }

        func run(as actor: Actor, terminal: Terminal) async throws {
            try await DatabaseAccess.changing(database, command: "keys revoke") { administration in
                try await refusalsAsFailures { try await administration.revokeKey(name: name, by: actor) }
            }
            terminal.err("Revoked key '\(name)'.")
        }
    }
}

/// Runs `work`; a refusal by the store (a name taken, an unknown key), made here or by the running service, becomes
/// the command's failure, printed as its sentence.
func refusalsAsFailures<T>(_ work: () async throws -> T) async throws -> T {
    do {
        return try await work()
    } catch let error as StorageError {
        throw CommandFailure(error.description)
    } catch let error as ControlClient.Failure {
        throw CommandFailure(error.message)
    }
}
