import ApprovalCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SlackAPI
import SlackBridge
import Storage
import Synchronization

/// What the application is built from; tests pass an in-memory or temporary database, a test clock,
/// and a local Slack stand-in, production the real ones.
public struct GatehouseDependencies: Sendable {
    public var database: GatehouseDatabase
    public var clock: any WallClock
    public var logger: Logger
    public var metrics: GatehouseMetrics
    public var httpPoster: any HTTPPoster
    public var waiters: ApprovalWaiters
    /// The Slack Web API; by default a `URLSessionSlackClient` on the configured base URL.
    public var slackClient: (any SlackWebAPI)?
    /// Minimum seconds between two posts to the same channel (Slack allows about one a second).
    public var slackPacing: TimeInterval

    public init(
        database: GatehouseDatabase, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "gatehouse"),
        metrics: GatehouseMetrics = GatehouseMetrics(), httpPoster: any HTTPPoster = URLSessionHTTPPoster(),
        waiters: ApprovalWaiters = ApprovalWaiters(), slackClient: (any SlackWebAPI)? = nil, slackPacing: TimeInterval = 1
    ) {
        self.slackClient = slackClient
        self.slackPacing = slackPacing
        self.database = database
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.httpPoster = httpPoster
        self.waiters = waiters
    }
}

public typealias GatehouseApplication = Application<RouterResponder<GatehouseRequestContext>>

/// Builds the whole service: routes, middleware and the background services (escalation and expiry, outbox).
public func buildApplication(configuration: GatehouseConfiguration, dependencies: GatehouseDependencies) -> GatehouseApplication {
    let logger = dependencies.logger
    let database = dependencies.database
    let observer = DeferredObserver()
    let service = ApprovalService(repository: database, clock: dependencies.clock, observer: observer)
    let escalation = EscalationService(service: service, database: database, logger: logger)
    observer.set(ServerObserver(waiters: dependencies.waiters, metrics: dependencies.metrics, escalation: escalation))

    var handlers: [any OutboxHandler] = [
        CallbackDelivery(database: database, poster: dependencies.httpPoster, clock: dependencies.clock, secret: configuration.webhookSecret)
    ]
    var planners: [any OutboxPlanner] = [CallbackOutboxPlanner()]
    var interactions: SlackInteractions?
    var links: any ApprovalLinkProvider = NoLinks()
    if let token = configuration.slackBotToken {
        let slack = dependencies.slackClient
            ?? URLSessionSlackClient(
                token: token, baseURL: configuration.slackAPIURL, pacing: dependencies.slackPacing, now: { [clock = dependencies.clock] in clock.now })
        let groups = GroupDirectory(slack: slack, clock: dependencies.clock)
        planners.append(SlackOutboxPlanner())
        // One reporter for deliveries and answers alike, so each permanent error's hint is logged once.
        let reporter = SlackErrorReporter(metrics: dependencies.metrics, logger: logger)
        handlers.append(SlackDelivery(
            slack: slack, database: database, channel: configuration.slackApprovalsChannel, clock: dependencies.clock,
            groups: groups, onError: reporter.report))
        interactions = SlackInteractions(
            service: service, slack: slack, database: database, logger: logger, groups: groups, onError: reporter.report)
        links = SlackLinks(database: database)
        logger.info("Slack delivery is on", metadata: ["channel": .string(configuration.slackApprovalsChannel)])
    } else {
        logger.notice("Slack delivery is off: no SLACK_BOT_TOKEN. Requests are stored and audited; decide them with `gatehouse decide` or the API.")
    }
    if configuration.slackSigningSecret == nil {
        if configuration.slackEnabled {
            logger.warning(
                "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: requests are posted to Slack, but its buttons and the slash command get 503 until the signing secret is set.")
        } else {
            logger.notice("No SLACK_SIGNING_SECRET: /slack/* answers 503.")
        }
    }
    if configuration.webhookSecret == nil {
        logger.notice("Callbacks are unsigned: set GATEHOUSE_WEBHOOK_SECRET to sign callback_url deliveries.")
    }
    database.planners = planners
    let outbox = OutboxService(database: database, clock: dependencies.clock, handlers: handlers, logger: logger)
    let clock = dependencies.clock
    let verifier = configuration.slackSigningSecret.map { secret in
        SlackRequestVerifier(signingSecret: secret, now: { clock.now })
    }

    let router = Router(context: GatehouseRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: dependencies.metrics))
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(HealthController(database: database, metrics: dependencies.metrics).endpoints)
    router.group("v1/approvals")
        .add(middleware: APIKeyMiddleware(database: database))
        .addRoutes(
            ApprovalsController(service: service, database: database, waiters: dependencies.waiters, links: links).endpoints
        )
    router.group("slack")
        .add(middleware: SlackSignatureMiddleware(verifier: verifier, database: database))
        .addRoutes(SlackController(interactions: interactions, commands: SlackCommands(database: database, clock: clock, configuredAdmins: configuration.admins)).endpoints)

    let serverName = "gatehouse"
    dependencies.waiters.configure(links: links, serverName: serverName)
    return Application(
        router: router,
        // Held long-polls are answered from their connections' event loops when a decision wakes them.
        server: .http1(configuration: .init(additionalChannelHandlers: [EarlyResponseHandler()])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: serverName),
        services: [escalation, outbox],
        logger: logger
    )
}

/// `/healthz`, `/readyz`, `/metrics`.
struct HealthController {
    let database: GatehouseDatabase
    let metrics: GatehouseMetrics

    var endpoints: RouteCollection<GatehouseRequestContext> {
        let routes = RouteCollection(context: GatehouseRequestContext.self)
        routes.get("healthz") { _, _ in ApprovalsController.json(.object(["status": .string("ok")]), status: .ok) }
        routes.get("readyz") { _, _ in
            _ = try await database.nextDeadline()
            return ApprovalsController.json(.object(["status": .string("ready")]), status: .ok)
        }
        routes.get("metrics") { _, _ in
            try await metrics.refresh(from: database)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        return routes
    }
}

/// The Slack message's permalink, once it is posted.
struct SlackLinks: ApprovalLinkProvider {
    let database: GatehouseDatabase

    func link(for id: ApprovalID) async throws -> String? {
        try await database.slackMessages(for: id).first { $0.kind == .channel }?.permalink
    }
}

/// Counts Slack errors in `/metrics` and logs each permanent error's hint for the admin once.
final class SlackErrorReporter: Sendable {
    let metrics: GatehouseMetrics
    let logger: Logger
    private let hinted = Mutex<Set<String>>([])

    init(metrics: GatehouseMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func report(method: String, error: SlackAPIError) {
        let code: String
        switch error {
        case .api(let slackCode): code = slackCode
        case .rateLimited: code = "ratelimited"
        case .server(let status): code = "http_\(status)"
        case .network: code = "network"
        case .decoding: code = "bad_answer"
        }
        metrics.counter(
            "gatehouse_slack_api_errors_total", labels: [("method", method), ("error", code), ("permanent", String(error.isPermanent))],
            help: "Failed Slack Web API calls by method and error."
        ).increment()
        guard error.isPermanent else { return }
        let first = hinted.withLock { $0.insert(code).inserted }
        if first {
            // A person Slack will not DM is skipped and the rest goes on: worth a word, not an alarm.
            logger.log(
                level: error.refusesRecipient ? .warning : .error, "Slack refuses \(method): \(code)",
                metadata: ["hint": .string(error.adminHint ?? "Check the Slack app's configuration.")])
        }
    }
}
