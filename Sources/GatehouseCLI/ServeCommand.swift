import ApprovalCore
import ArgumentParser
import Foundation
import GatehouseServer
import Hummingbird
import Logging
import NIOCore
import PostgresStorage
import Storage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the service: the intake API, Slack endpoints, expiry and delivery.",
        discussion: """
            Works with no configuration: listens on 127.0.0.1:8080 and stores everything in ./gatehouse.sqlite. \
            Precedence: flag > environment variable > config file > default. Bad configuration stops it with one \
            line naming the setting, and exit code 78.

            Example:
              export SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=…
              gatehouse serve --port 8080 --db /var/lib/gatehouse/g.sqlite
            """
    )

    @Option(help: "Address to listen on (GATEHOUSE_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (GATEHOUSE_PORT; default 8080).") var port: String?
    @Option(help: "The SQLite database file, or a postgres:// URL for several replicas (GATEHOUSE_DB; default ./gatehouse.sqlite).")
    var db: String?
    @Option(help: "A config file (GATEHOUSE_CONFIG); see config/gatehouse.example.conf.") var config: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (GATEHOUSE_LOG_LEVEL).")
    var logLevel: String?

    func run() async throws {
        var flags: [String: String] = [:]
        if let host { flags["host"] = host }
        if let port { flags["port"] = port }
        if let db { flags["db"] = db }
        if let logLevel { flags["log_level"] = logLevel }
        var configuration: GatehouseConfiguration
        do {
            configuration = try GatehouseConfiguration.load(flags: flags, configFile: config)
        } catch {
            Terminal.standard.err("gatehouse: \(error.description)")
            throw ExitCode(ConfigurationError.exitCode)
        }
        let onPostgres = PostgresURL.isPostgres(configuration.databasePath)
        // On SQLite the command line's changes go through the service while it runs (see `DatabaseAccess`); on
        // PostgreSQL every process, replicas and commands alike, uses the database itself.
        if !onPostgres { configuration.controlSocketPath = DatabaseAccess.controlSocket(forDatabaseAt: configuration.databasePath) }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        var logger = Logger(label: "gatehouse")
        logger.logLevel = level
        let shownDatabase = PostgresURL.redacted(configuration.databasePath)

        // Deadlines are wall-clock times: a step of the system clock fires what it made due within 2 s, and is logged.
        let clock = SystemWallClock(onJump: { [logger] seconds in
            logger.warning(
                "the wall clock jumped", metadata: ["by_seconds": .stringConvertible(Int(seconds.rounded())),
                "effect": .string(seconds > 0 ? "deadlines now past fire at once" : "deadlines wait for the clock to catch up")])
        })
        // One process writes a SQLite file; any number of replicas share a PostgreSQL database.
        var lock: ServiceLock?
        if !onPostgres {
            do {
                lock = try ServiceLock.acquire(forDatabaseAt: configuration.databasePath)
            } catch {
                Terminal.standard.err("gatehouse: \(error.description)")
                throw ExitCode(1)
            }
        }
        defer { lock?.release() }
        let database: any GatehouseStore
        do {
            if onPostgres {
                database = try await PostgresDatabase(url: configuration.databasePath, clock: clock, logger: logger)
            } else {
                database = try GatehouseDatabase(path: configuration.databasePath, clock: clock)
            }
        } catch {
            Terminal.standard.err(
                "gatehouse: configuration error: db: cannot open '\(shownDatabase)': \(PostgresURL.redacted("\(error)"))")
            throw ExitCode(ConfigurationError.exitCode)
        }
        let app = buildApplication(
            configuration: configuration,
            dependencies: GatehouseDependencies(
                database: database, clock: clock, logger: logger, slackPacing: configuration.slackPacing))
        logger.info(
            "gatehouse starting",
            metadata: ["address": "\(configuration.host):\(configuration.port)", "db": .string(shownDatabase)])
        do {
            try await app.runService()
        } catch {
            try? database.close()
            Terminal.standard.err("gatehouse: \(Self.listenFailure(error, host: configuration.host, port: configuration.port))")
            throw ExitCode(1)
        }
        do {
            try database.close()
        } catch {
            // Nothing is lost: the WAL stays beside the file and is applied when it is next opened.
            logger.error("checkpoint at stop failed", metadata: ["error": "\(error)", "db": .string(shownDatabase)])
        }
        logger.info("gatehouse stopped")
    }

    /// Why the service could not listen, with the setting to change.
    static func listenFailure(_ error: any Error, host: String, port: Int) -> String {
        if let error = error as? IOError {
            switch error.errnoCode {
            case EADDRINUSE:
                return "port \(port) on \(host) is already in use (another gatehouse serve, or another program). "
                    + "Pass --port or set GATEHOUSE_PORT."
            case EADDRNOTAVAIL:
                return "\(host) is not an address of this machine. Pass --host (127.0.0.1, or 0.0.0.0 for every "
                    + "interface) or set GATEHOUSE_HOST."
            case EACCES:
                return "not allowed to listen on port \(port) (ports below 1024 need privileges). Pass --port or set GATEHOUSE_PORT."
            default:
                return "cannot listen on \(host):\(port): \(error.description)."
            }
        }
        if error is SocketAddressError || error is SocketAddressError.UnknownHost {
            return "cannot find the address '\(host)'. Pass --host (127.0.0.1, or 0.0.0.0 for every interface) or set GATEHOUSE_HOST."
        }
        return "cannot serve on \(host):\(port): \(error)."
    }
}
