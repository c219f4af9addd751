import ApprovalCore
import Hummingbird
import NIOCore
import Signing

/// `/healthz`, `/readyz`, `/metrics`.
struct HealthController {
    let store: any GatehouseStore
    let metrics: GatehouseMetrics
    let clock: any WallClock
    let longPolls: LongPolls
    /// When set, `/metrics` wants `Authorization: Bearer TOKEN`.
    let metricsToken: String?

    var endpoints: RouteCollection<GatehouseRequestContext> {
        let routes = RouteCollection(context: GatehouseRequestContext.self)
        routes.get("healthz") { _, _ in ApprovalsController.json(.object(["status": .string("ok")]), status: .ok) }
        routes.get("readyz") { _, context in
            do {
                _ = try await store.nextDeadline()
            } catch {
                context.logger.warning("not ready: the database cannot be read", metadata: ["error": "\(error)"])
                return ApprovalsController.json(.object(["status": .string("storage_unavailable")]), status: .serviceUnavailable)
            }
            switch await store.writeHealth() {
            case .writing:
                return ApprovalsController.json(.object(["status": .string("ready")]), status: .ok)
            case .full(let since, let freeBytes):
                context.logger.warning(
                    "not ready: writes fail, the disk is full",
                    metadata: ["since": .string(RFC3339.string(from: since)), "free_bytes": "\(freeBytes.map(String.init) ?? "unknown")"])
                var body: [String: JSONValue] = ["status": .string("storage_full"), "since": .string(RFC3339.string(from: since))]
                if let freeBytes { body["free_bytes"] = .number(Double(freeBytes)) }
                return ApprovalsController.json(.object(body), status: .serviceUnavailable)
            case .failing(let since, let code):
                context.logger.warning(
                    "not ready: writes fail", metadata: ["since": .string(RFC3339.string(from: since)), "code": .string(code)])
                return ApprovalsController.json(
                    .object(["status": .string("storage_unavailable"), "since": .string(RFC3339.string(from: since)), "code": .string(code)]),
                    status: .serviceUnavailable)
            }
        }
        routes.get("metrics") { request, _ in
            if let metricsToken {
                let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
                guard let given, ConstantTime.equals(given, metricsToken) else {
                    throw APIError.unauthorized("/metrics wants 'Authorization: Bearer' with the metrics_token setting.")
                }
            }
            try await metrics.refresh(from: store, now: clock.now)
            metrics.refresh(waitingLongPolls: longPolls.count)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        return routes
    }
}
