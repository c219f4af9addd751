import ApprovalCore
import ArgumentParser
import BuildInfo
import Foundation
import PostgresStorage

/// `gatehouse`: the service and its command-line tools.
public struct GatehouseCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "A self-hosted approval gate: a person approves one exact operation before an agent or pipeline runs it.",
        discussion: """
            Start the service with `gatehouse serve`, create an API key with `gatehouse keys create NAME`, then file \
            requests with `gatehouse request` or `gatehouse exec`, and decide them in Slack or with \
            `gatehouse decide`.

            Example:
              gatehouse serve &
              until curl -fs localhost:8080/readyz >/dev/null; do sleep 0.2; done
              export GATEHOUSE_API_KEY=$(gatehouse keys create ci | tail -1)
              gatehouse exec --action "Deploy api" --payload '{"commit":"4f2a9c1"}' \\
                -- echo deployed
            """,
        version: "gatehouse \(BuildInfo.description)",
        subcommands: [
            ServeCommand.self, KeysCommand.self, RequestCommand.self, ExecCommand.self, ListCommand.self, ShowCommand.self,
            DecideCommand.self, CancelCommand.self, AuditCommand.self, ChainsCommand.self, PoliciesCommand.self,
            LoginLinkCommand.self, SessionsCommand.self, MCPCommand.self, MigrateStorageCommand.self,
        ]
    )

    public init() {}
}

/// `--db`, shared by the commands that open the database.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("db"),
        help: "The SQLite database file, or a postgres:// URL (else GATEHOUSE_DB, else ./gatehouse.sqlite).")
    var path: String?

    var resolvedPath: String {
        if let path { return path }
        if let env = ProcessInfo.processInfo.environment["GATEHOUSE_DB"], !env.isEmpty { return env }
        return "./gatehouse.sqlite"
    }

    /// Whether it names a PostgreSQL database rather than a SQLite file.
    var isPostgres: Bool { PostgresURL.isPostgres(resolvedPath) }

    /// How messages name it: a URL's password hidden.
    var display: String { PostgresURL.redacted(resolvedPath) }

    /// Whether it names a SQLite file that is not there (a PostgreSQL database is never "missing" here: connecting
    /// to it says whether it exists).
    var fileMissing: Bool { !isPostgres && !FileManager.default.fileExists(atPath: resolvedPath) }
}

/// `--url` and `--key`, shared by the commands that talk to a running service.
struct ServiceOptions: ParsableArguments {
    @Option(help: "The service's base URL (else GATEHOUSE_URL, else http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "The API key (else GATEHOUSE_API_KEY).")
    var key: String?

    /// Checked while parsing, so a mistake is reported with the usage of the command it was made on.
    func validate() throws {
        _ = try resolved()
    }

    func client() throws -> GatehouseClient {
        let (baseURL, key) = try resolved()
        return GatehouseClient(baseURL: baseURL, apiKey: key)
    }

    /// The URL and key from the options, else the environment, else the default URL.
    private func resolved() throws -> (baseURL: URL, key: String) {
        let environment = ProcessInfo.processInfo.environment
        let base = url ?? environment["GATEHOUSE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080"
        guard let baseURL = URL(string: base), baseURL.scheme == "http" || baseURL.scheme == "https" else {
            throw ValidationError("--url '\(base)' is not an http(s) URL.")
        }
        guard let key = key ?? environment["GATEHOUSE_API_KEY"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw ValidationError("No API key: pass --key or set GATEHOUSE_API_KEY (create one with `gatehouse keys create NAME`).")
        }
        return (baseURL, key)
    }
}

/// A command that was given valid arguments but could not do its work (no database there, a storage refusal):
/// printed as `Error: …` without a usage text, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// Writes to standard output and standard error; tests capture it instead.
public struct Terminal: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        self.out = out
        self.err = err
    }

    public static let standard = Terminal(
        out: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) },
        err: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    )
}

/// Who runs a command that writes the database, for the audit log: `cli:$USER`, else `cli:$LOGNAME`, else the
/// process's account, else `cli:unknown`.
enum CLIActor {
    static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> Actor {
        .cli(currentName(environment: environment))
    }

    /// The account name alone.
    static func currentName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for variable in ["USER", "LOGNAME"] {
            if let name = environment[variable], !name.isEmpty { return name }
        }
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name, name.pointee != 0 else { return "unknown" }
        return String(cString: name)
    }
}
