import ApprovalCore
import Hummingbird
import NIOCore

/// `/healthz`, `/readyz`, `/metrics`.
struct HealthController {
    let store: any GatehouseStore
    let metrics: GatehouseMetrics

    var endpoints: RouteCollection<GatehouseRequestContext> {
        let routes = RouteCollection(context: GatehouseRequestContext.self)
        routes.get("healthz") { _, _ in ApprovalsController.json(.object(["status": .string("ok")]), status: .ok) }
        routes.get("readyz") { _, context in
            _ = try await store.nextDeadline()
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
            }
        }
        routes.get("metrics") { _, _ in
            try await metrics.refresh(from: store)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        return routes
    }
}
