import ApprovalCore
import Foundation
import Logging
import SlackAPI

/// What the application is built from; tests pass a temporary database, a test clock and a local Slack stand-in,
/// production the real ones.
public struct GatehouseDependencies: Sendable {
    public var database: any GatehouseStore
    public var clock: any WallClock
    public var logger: Logger
    public var metrics: GatehouseMetrics
    /// Sends callbacks; it must not follow redirects.
    public var httpPoster: any HTTPPoster
    /// Resolves a callback's host to the addresses checked before it is delivered.
    public var resolver: any HostResolver
    /// The held long-polls; tests keep a reference to see how many are waiting.
    public var longPolls: LongPolls
    /// The open sessions of `/mcp`.
    public var mcpSessions = MCPSessions()
    /// The Slack Web API; by default a `URLSessionSlackClient` on the configured base URL.
    public var slackClient: (any SlackWebAPI)?
    /// Minimum seconds between two posts to the same channel (Slack allows about one a second).
    public var slackPacing: TimeInterval
    /// Whether the Slack token is checked at start (`SlackStartupCheck`); tests of other things leave it off so the
    /// stand-in records only the calls they make.
    public var checksSlackToken = true
    /// Called once the control socket (`GatehouseConfiguration.controlSocketPath`) accepts connections.
    public var controlSocketReady: @Sendable () -> Void = {}
    /// Called once the HTTP server accepts connections, with the port it listens on (useful with port 0).
    public var serverRunning: @Sendable (Int?) -> Void = { _ in }
    /// Called once every route is registered, with each as `METHOD /path/{parameter}`.
    public var routesRegistered: @Sendable ([String]) -> Void = { _ in }

    public init(
        database: any GatehouseStore, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "gatehouse"),
        metrics: GatehouseMetrics = GatehouseMetrics(),
        httpPoster: any HTTPPoster = URLSessionHTTPPoster(followRedirects: false), resolver: any HostResolver = SystemResolver(),
        longPolls: LongPolls? = nil, slackClient: (any SlackWebAPI)? = nil, slackPacing: TimeInterval = 1
    ) {
        self.database = database
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.httpPoster = httpPoster
        self.resolver = resolver
        self.longPolls = longPolls ?? LongPolls(clock: clock)
        self.slackClient = slackClient
        self.slackPacing = slackPacing
    }
}
