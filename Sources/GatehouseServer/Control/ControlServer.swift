import Hummingbird
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The control socket: a second listener of the service, on a Unix socket beside the database file, for the command
/// line (see `ControlController`). The file is created for the service's account only (mode 0600) and removed when the
/// service stops.
struct ControlServer: Service {
    let path: String
    let application: Application<RouterResponder<BasicRequestContext>>

    init(path: String, store: any GatehouseStore, logger: Logger, ready: @escaping @Sendable () -> Void) {
        self.path = path
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ControlErrorMiddleware())
        router.addRoutes(ControlController(administration: Administration(store: store)).endpoints)
        var logger = logger
        logger[metadataKey: "listener"] = "control"
        application = Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: path), serverName: LongPolls.serverName),
            onServerRunning: { [logger] _ in
                // Only this account may talk to the service through it, as only it may write the database file.
                _ = chmod(path, 0o600)
                logger.info("command line changes go through the control socket", metadata: ["path": .string(path)])
                ready()
            },
            logger: logger)
    }

    func run() async throws {
        // Left by a service that was killed: the service lock, taken before this runs, proves it is stale.
        unlink(path)
        defer { unlink(path) }
        try await application.run()
    }
}
