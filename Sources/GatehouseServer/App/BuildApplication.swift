import ApprovalCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SlackAPI
import SlackBridge

public typealias GatehouseApplication = Application<LongPollResponder>

/// Builds the whole service: the use cases over the store, the routes, and the background services (escalation and
/// expiry, the outbox, the long-poll sweeper). Everything is passed at construction; nothing is set afterwards.
public func buildApplication(configuration: GatehouseConfiguration, dependencies: GatehouseDependencies) -> GatehouseApplication {
    let logger = dependencies.logger
    let store = dependencies.database
    let clock = dependencies.clock
    let metrics = dependencies.metrics
    let slack: (any SlackWebAPI)? = configuration.slackBotToken.map { token in
        dependencies.slackClient
            ?? URLSessionSlackClient(
                token: token, baseURL: configuration.slackAPIURL, pacing: dependencies.slackPacing, now: { clock.now },
                onCall: metrics.recordSlackCall)
    }
    let links: (any ApprovalLinkProvider)? = slack == nil ? nil : SlackLinks(messages: store)

    let deadlines = DeadlineAlarm()
    let service = ApprovalService(
        repository: store, clock: clock,
        planners: [CallbackOutboxPlanner()] + (slack == nil ? [] : [SlackOutboxPlanner()]),
        observer: ServerObserver(longPolls: dependencies.longPolls, links: links, metrics: metrics, deadlines: deadlines),
        callbackTargets: configuration.callbackTargets, policyStore: store, breakGlassStore: store)
    let configurationService = ConfigurationService(store: store, audit: store, configuredAdmins: configuration.admins, policies: store)
    // Admins hear of break-glass uses by DM, and its post is updated when one is reviewed; both through Slack.
    let review = BreakGlassReview(
        store: store, configuration: configurationService, clock: clock,
        notices: { admins, text in slack == nil || admins.isEmpty ? [] : [SlackOutboxKind.adminNotice(text, to: admins)] },
        postUpdate: { id in slack == nil ? [] : [SlackOutboxKind.breakGlassPost(id)] })

    // Questions agents ask people: answered by whoever may decide approvals of the default gate; posted to Slack.
    let contacts = ContactService(
        store: store, clock: clock, answerers: { try await store.chain(named: "default") ?? .default },
        planner: { contact in slack == nil ? [] : [SlackOutboxKind.contactMessage(contact.id)] })

    var handlers: [any OutboxHandler] = [
        CallbackDelivery(
            approvals: store, poster: dependencies.httpPoster, clock: clock, secret: configuration.webhookSecret,
            targets: configuration.callbackTargets, resolver: dependencies.resolver)
    ]
    var interactions: SlackInteractions?
    // One directory of user-group members (and its cache) for deliveries, clicks and the slash command.
    let groups = slack.map { GroupDirectory(slack: $0, clock: clock) }
    if let slack, let groups {
        // One reporter for deliveries and answers alike, so each permanent error's hint is logged once.
        let reporter = SlackErrorReporter(metrics: metrics, logger: logger)
        handlers.append(
            SlackDelivery(
                slack: slack, approvals: store, messages: store, channel: configuration.slackApprovalsChannel, clock: clock,
                groups: groups, onError: reporter.report, breakGlass: store,
                admins: { try await configurationService.admins().everyone },
                breakGlassLimit: { try await store.policies().breakGlass?.maxPer30Days }, contacts: store))
        interactions = SlackInteractions(
            service: service, slack: slack, audit: store, outbox: store, logger: logger, groups: groups, onError: reporter.report,
            review: review, contacts: contacts)
    }
    logStartupNotes(configuration, logger: logger)
    let refusals = RefusalLedger(audit: store, clock: clock, limitPerMinute: configuration.failedAuthLimit)
    let sources = ClientSources(trustForwardedFor: configuration.trustForwardedFor)
    let keyUsage = KeyUsage(keys: store, clock: clock)

    let router = Router(context: GatehouseRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(HealthController(
        store: store, metrics: metrics, clock: clock, longPolls: dependencies.longPolls, metricsToken: configuration.metricsToken).endpoints)
    router.addRoutes(OpenAPIController().endpoints)
    router.group("v1/approvals")
        .add(middleware: APIKeyMiddleware(keys: store, refusals: refusals, sources: sources, usage: keyUsage))
        .group(context: APIRequestContext.self)
        .addRoutes(ApprovalsController(
            service: service, longPolls: dependencies.longPolls, links: links ?? NoLinks(), audit: store,
            currentAnswers: CurrentApprovalAnswers(service: service, links: links ?? NoLinks(), logger: logger)).endpoints)
    router.group("v1/policy")
        .add(middleware: APIKeyMiddleware(keys: store, refusals: refusals, sources: sources, usage: keyUsage))
        .group(context: APIRequestContext.self)
        .addRoutes(PolicyController(service: service).endpoints)
    // MCP over Streamable HTTP: the same key lookup and use cases as /v1, kept out of the OpenAPI document.
    router.group("mcp")
        .add(middleware: APIKeyMiddleware(keys: store, refusals: refusals, sources: sources, usage: keyUsage))
        .group(context: APIRequestContext.self)
        .addRoutes(
            MCPController(
                service: service, longPolls: dependencies.longPolls, links: links ?? NoLinks(), sessions: dependencies.mcpSessions,
                permissionWait: configuration.mcpPermissionWait, logger: logger
            ).endpoints)
    router.group("humanlayer/v1")
        .add(middleware: APIKeyMiddleware(keys: store, refusals: refusals, sources: sources, usage: keyUsage))
        .group(context: APIRequestContext.self)
        .addRoutes(HumanLayerController(approvals: service, contacts: contacts, calls: store).endpoints)
    router.group("api/confirmations")
        .add(middleware: APIKeyMiddleware(keys: store, refusals: refusals, sources: sources, usage: keyUsage))
        .group(context: APIRequestContext.self)
        .addRoutes(
            CosignetController(
                service: service, longPolls: dependencies.longPolls, policies: store,
                pageBase: configuration.publicURL.map { $0.absoluteString.hasSuffix("/") ? String($0.absoluteString.dropLast()) : $0.absoluteString }
                    ?? "http://\(configuration.host):\(configuration.port)"
            ).endpoints)
    router.group("slack")
        .add(middleware: SlackSignatureMiddleware(
            verifier: configuration.slackSigningSecret.map { SlackRequestVerifier(signingSecret: $0, now: { clock.now }) },
            replays: SlackReplayGuard(store: store, shared: store is any SharedChangeFeed), refusals: refusals, sources: sources, clock: clock))
        .group(context: SlackRequestContext.self)
        .addRoutes(
            SlackController(
                interactions: interactions,
                commands: SlackCommands(
                    configuration: configurationService, approvals: service, messages: store,
                    groups: groups, breakGlassUses: store,
                    loginLink: WebSettings.loginLinks(store: store, publicURL: configuration.publicURL))
            ).endpoints)
    WebController(
        service: service, sessions: store, audit: store, links: links ?? NoLinks(), groups: groups, commits: store.commits,
        settings: WebSettings(publicURL: configuration.publicURL), configuration: configurationService, review: review,
        breakGlassUses: store, refusals: refusals, sources: sources
    ).addRoutes(to: router)

    dependencies.routesRegistered(router.routes.map(\.description))

    var services: [any Service] = [
        EscalationService(service: service, alarm: deadlines, logger: logger),
        OutboxService(database: store, clock: clock, handlers: handlers, logger: logger),
        dependencies.longPolls,
        dependencies.mcpSessions,
        refusals,
        keyUsage,
        BreakGlassReminderService(review: review, policies: store, clock: clock, logger: logger),
    ]
    if let feed = store as? any SharedChangeFeed {
        services.append(
            SharedChangesService(
                feed: feed, repository: store, longPolls: dependencies.longPolls, deadlines: deadlines, links: links, clock: clock,
                logger: logger))
    }
    if dependencies.checksSlackToken, let check = slack as? any SlackTokenCheck {
        services.append(SlackStartupCheck(slack: check, channel: configuration.slackApprovalsChannel, clock: clock, logger: logger))
    }
    if let path = configuration.controlSocketPath {
        services.append(ControlServer(path: path, store: store, logger: logger, ready: dependencies.controlSocketReady))
    }
    let watch = ConnectionWatch(metrics: metrics, logger: logger)
    let timeouts = configuration.timeouts
    let longPolls = dependencies.longPolls
    longPolls.recordWaits(in: metrics)
    return Application(
        responder: LongPollResponder(router: router.buildResponder()),
        // Held long-polls are answered from their connections' event loops when a decision wakes them; slow or idle
        // connections are closed.
        server: .http1(
            configuration: .init(additionalChannelHandlers: [
                longPolls.channelHandler(), ConnectionTimeoutsHandler(timeouts: timeouts, timedOut: watch.timedOut),
            ])),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: LongPolls.serverName,
            availableConnectionsDelegate: ConnectionLimit(maximum: configuration.maxConnections ?? ConnectionLimit.fitting(), watch: watch)),
        services: services,
        onServerRunning: { [serverRunning = dependencies.serverRunning] channel in serverRunning(channel.localAddress?.port) },
        logger: logger
    )
}

/// What the log says once at start about what is off or unsigned.
private func logStartupNotes(_ configuration: GatehouseConfiguration, logger: Logger) {
    if configuration.slackEnabled {
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
}
