import ApprovalCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Storage

/// What the application is built from; tests pass an in-memory or temporary database, a test clock,
/// and a local Slack stand-in, production the real ones.
public struct GatehouseDependencies: Sendable {
    public var database: GatehouseDatabase
    public var clock: any WallClock
    public var logger: Logger
    public var metrics: GatehouseMetrics
    public var httpPoster: any HTTPPoster
    public var waiters: ApprovalWaiters

    public init(
        database: GatehouseDatabase, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "gatehouse"),
        metrics: GatehouseMetrics = GatehouseMetrics(), httpPoster: any HTTPPoster = URLSessionHTTPPoster(),
        waiters: ApprovalWaiters = ApprovalWaiters()
    ) {
        self.database = database
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.httpPoster = httpPoster
        self.waiters = waiters
    }
}

public typealias GatehouseApplication = Application<RouterResponder<GatehouseRequestContext>>

/// Builds the whole service: routes, middleware and the background services (expiry, outbox).
public func buildApplication(configuration: GatehouseConfiguration, dependencies: GatehouseDependencies) -> GatehouseApplication {
    let logger = dependencies.logger
    let database = dependencies.database
    let observer = DeferredObserver()
    let service = ApprovalService(repository: database, clock: dependencies.clock, observer: observer)
    let expiry = ExpiryService(service: service, database: database, logger: logger)
    observer.set(ServerObserver(waiters: dependencies.waiters, metrics: dependencies.metrics, expiry: expiry, others: []))

    if !configuration.slackEnabled {
        logger.notice("Slack delivery is off: no SLACK_BOT_TOKEN. Requests are stored and audited; decide them with `gatehouse decide` or the API.")
    }
    if configuration.webhookSecret == nil {
        logger.notice("Callbacks are unsigned: set GATEHOUSE_WEBHOOK_SECRET to sign callback_url deliveries.")
    }
    let handlers: [any OutboxHandler] = [
        CallbackDelivery(database: database, poster: dependencies.httpPoster, clock: dependencies.clock, secret: configuration.webhookSecret)
    ]
    let outbox = OutboxService(database: database, clock: dependencies.clock, handlers: handlers, logger: logger)

    let router = Router(context: GatehouseRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: dependencies.metrics))
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(HealthController(database: database, metrics: dependencies.metrics).endpoints)
    router.group("v1/approvals")
        .add(middleware: APIKeyMiddleware(database: database))
        .addRoutes(
            ApprovalsController(service: service, database: database, waiters: dependencies.waiters, links: NoLinks()).endpoints
        )

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "gatehouse"),
        services: [expiry, outbox],
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
