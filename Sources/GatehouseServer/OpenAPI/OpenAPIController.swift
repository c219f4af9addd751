import Hummingbird
import NIOCore

/// `GET /openapi.json`: the API's description, served without a key (it holds nothing secret).
struct OpenAPIController {
    private static let body = ByteBuffer(string: OpenAPIDocument.json)

    var endpoints: RouteCollection<GatehouseRequestContext> {
        let routes = RouteCollection(context: GatehouseRequestContext.self)
        routes.get("openapi.json") { _, _ in ApprovalsController.json(Self.body, status: .ok) }
        return routes
    }
}
