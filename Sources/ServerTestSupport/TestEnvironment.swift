import ApprovalCore
import Foundation
import GatehouseCLI
import GatehouseServer
import Logging
import Storage
import GatehouseTestSupport

/// A database file in a temporary folder, a test clock, keys of each scope, and the application built on them.
public final class TestEnvironment: Sendable {
    public let directory: TemporaryDirectory
    public let clock: TestClock
    public let database: GatehouseDatabase
    /// The held long-polls of the applications built here.
    public let longPolls: LongPolls
    /// The MCP sessions of the applications built here; keep-alives often, so a client gone away is noticed at once.
    public let mcpSessions = MCPSessions(keepAlive: .milliseconds(100))
    public let requestKey: String
    public let otherRequestKey: String
    public let decideKey: String
    public let adminKey: String

    public var databasePath: String { directory.path("gatehouse.sqlite") }

    public init(clock: TestClock = TestClock()) async throws {
        directory = try TemporaryDirectory()
        self.clock = clock
        longPolls = LongPolls(clock: clock)
        database = try GatehouseDatabase(path: directory.path("gatehouse.sqlite"), clock: clock)
        requestKey = try await database.createKey(name: "agent", scope: .request)
        otherRequestKey = try await database.createKey(name: "other-agent", scope: .request)
        decideKey = try await database.createKey(name: "lead", scope: .decide)
        adminKey = try await database.createKey(name: "root", scope: .admin)
    }

    /// The application over this environment's database and clock.
    /// A signing secret that is deliberately not hex: Slack's secret is used as UTF-8 text.
    public static let slackSigningSecret = "gatehouse-test-signing-secret-zz"

    public var slackSigner: SlackRequestSigner { SlackRequestSigner(secret: Self.slackSigningSecret) }

    /// A configuration with Slack on, pointed at `fake`.
    public func slackConfiguration(_ fake: FakeSlackWebAPI, channel: String = "#approvals") -> GatehouseConfiguration {
        var configuration = GatehouseConfiguration()
        configuration.slackBotToken = fake.token
        configuration.slackAPIURL = fake.baseURL
        configuration.slackSigningSecret = Self.slackSigningSecret
        configuration.slackApprovalsChannel = channel
        return configuration
    }

    /// Counts the times a control socket of an application built here started listening.
    public let controlSocketsReady = ChangeCounter()

    /// Where an application built here listens for the command line, with `withControlSocket`.
    public var controlSocketPath: String { databasePath + "-control" }

    /// A configuration whose control socket is beside this environment's database, as `serve` sets it.
    public func withControlSocket(_ configuration: GatehouseConfiguration = GatehouseConfiguration()) -> GatehouseConfiguration {
        var configuration = configuration
        configuration.controlSocketPath = controlSocketPath
        return configuration
    }

    /// The application over this environment's database and clock. Callbacks go to loopback only, and nowhere else,
    /// unless `callbacks` says otherwise (`nil`: as `configuration` has it).
    public func application(
        configuration: GatehouseConfiguration = GatehouseConfiguration(), database: GatehouseDatabase? = nil,
        poster: any HTTPPoster = URLSessionHTTPPoster(timeout: 5, followRedirects: false),
        callbacks: CallbackTargets? = .loopbackOnly
    ) -> GatehouseApplication {
        var configuration = configuration
        if let callbacks { configuration.callbackTargets = callbacks }
        if configuration.timeouts == ConnectionTimeouts() {
            // The test client opens its one connection before the test's body runs; a body that works over other
            // connections first (MCP's, say) on a loaded machine must not find it closed as idle when it comes back to
            // it. Tests of the timeouts set their own.
            configuration.timeouts.header = 3600
            configuration.timeouts.idle = 3600
        }
        var logger = Logger(label: "gatehouse-test")
        logger.logLevel = .error
        var dependencies = GatehouseDependencies(
            database: database ?? self.database, clock: clock, logger: logger, httpPoster: poster, longPolls: longPolls,
            slackPacing: 0)
        dependencies.checksSlackToken = false  // SlackStartupCheckTests run it
        dependencies.mcpSessions = mcpSessions
        dependencies.controlSocketReady = { [controlSocketsReady] in controlSocketsReady.increment() }
        return buildApplication(configuration: configuration, dependencies: dependencies)
    }

    /// The command line's client of a service on `port`, with `key`: a connection of its own.
    public static func client(_ port: Int?, key: String) -> GatehouseClient {
        GatehouseClient(baseURL: URL(string: "http://localhost:\(port ?? 0)")!, apiKey: key)
    }

    /// The use cases over this environment's database, telling nobody of their commits (as the command line does).
    public var service: ApprovalService { ApprovalService(repository: database, clock: clock, callbackTargets: .loopbackOnly) }

    /// The configuration use cases over this environment's database, with `admins` as `GATEHOUSE_ADMINS`.
    public func configuration(admins: [String] = []) -> ConfigurationService {
        ConfigurationService(store: database, audit: database, configuredAdmins: admins)
    }

    /// How many refusals of `kind` the audit log counts: refusals of unauthenticated callers are written summarised,
    /// an entry per source and reason with its `count`.
    public func refusalCount(_ kind: String) async throws -> Int {
        try await database.auditEntries().filter { $0.kind == kind }.reduce(0) { total, entry in
            if case .number(let count)? = entry.details["count"] { return total + Int(count) }
            return total + 1
        }
    }

    /// Moves the clock past the minute, so that the refusals counted so far are written, and waits until the audit log
    /// counts `expected` refusals of `kind`.
    public func flushRefusals(_ kind: String, expecting expected: Int) async throws {
        clock.advance(by: 60)
        try await withTimeout { try await waitUntil([self.database.commits]) { try await self.refusalCount(kind) >= expected } }
    }

    /// Opens the same file again, as a restarted process would.
    public func reopenDatabase() throws -> GatehouseDatabase {
        try GatehouseDatabase(path: databasePath, clock: clock)
    }

    public func cleanUp() {
        try? database.close()
        directory.remove()
    }
}
