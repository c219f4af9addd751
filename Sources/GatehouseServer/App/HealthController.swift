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
        routes.get("readyz") { _, _ in
            _ = try await store.nextDeadline()
            return ApprovalsController.json(.object(["status": .string("ready")]), status: .ok)
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
