import ApprovalCore

/// The methods each path of the API's description answers, read from `OpenAPIDocument` (which a test keeps in step
/// with the router): for a path the router knows under another method, the error middleware answers 405 with `Allow`
/// rather than 404, since Hummingbird's router reports every miss as not found.
struct DocumentedRoutes: Sendable {
    static let api = DocumentedRoutes(document: OpenAPIDocument.json)

    private struct Route: Sendable {
        /// As the document writes it: `/v1/approvals/{id}`.
        var path: String
        /// The path's segments; `nil` where the path has a `{parameter}`.
        var segments: [String?]
        var methods: [String]
    }

    private let routes: [Route]
    /// Every method a path item may describe, in the order `Allow` lists them.
    private static let allMethods = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]

    init(document: String) {
        let paths = (try? JSONValue.parse(document))?["paths"]?.objectValue ?? [:]
        self.init(paths: paths.map { path, item in (path, Self.allMethods.filter { item[$0.lowercased()] != nil }) })
    }

    /// Routes the document leaves out (the HumanLayer- and Cosignet-compatible APIs), as `(path, methods)`.
    init(paths: [(path: String, methods: [String])]) {
        routes = paths.map { path, methods in
            Route(path: path, segments: path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }, methods: methods)
        }
    }

    /// The HumanLayer- and Cosignet-compatible APIs' paths, outside the OpenAPI description.
    static let compatible = DocumentedRoutes(paths: HumanLayerController.paths + CosignetController.paths)

    /// Every operation described, as `METHOD /path/{parameter}` (the form `Router.routes` describes routes in).
    var operations: Set<String> {
        Set(routes.flatMap { route in route.methods.map { "\($0) \(route.path)" } })
    }

    /// The methods `path` is answered for, in the order of `Allow`; `nil` when no route has this path.
    func methods(forPath path: String) -> [String]? {
        let segments = path.split(separator: "/")
        let matching = routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { expected, actual in expected.map { $0 == actual } ?? true }
        }
        guard !matching.isEmpty else { return nil }
        return Self.allMethods.filter { method in
            matching.contains { $0.methods.contains(method) }
        }
    }
}
