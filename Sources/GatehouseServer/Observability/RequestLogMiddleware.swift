import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line and one metrics sample per request: request id, route, status, latency, and when known the
/// key's name, the approval's id and the error code. Probes and scrapes (`/healthz`, `/readyz`, `/metrics`) log at
/// debug level; a long-poll's wait goes to its own histogram, not the request latency.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext

    let metrics: GatehouseMetrics

    static let probeRoutes: Set<String> = ["/healthz", "/readyz", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        let requestID = request.headers[.requestID].flatMap { $0.count <= 128 ? $0 : nil } ?? context.id
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.requestID = requestID
        var status = 500
        var errorCode: String?
        var parked = false
        defer {
            let duration = ContinuousClock.now - start
            let route = context.endpointPath ?? "unmatched"
            metrics.recordRequest(
                route: route, method: request.method.rawValue, status: status, duration: duration,
                longPoll: Self.isLongPoll(request, route: route), parked: parked)
            let ms = ((Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000) * 100)
                .rounded() / 100
            var metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
                "latency_ms": .stringConvertible(ms),
            ]
            if let key = context.notes.key { metadata["key"] = .string(key) }
            if let approval = context.notes.approval ?? context.parameters.get("id") { metadata["approval_id"] = .string(approval) }
            if let errorCode { metadata["error"] = .string(errorCode) }
            // The poll waits at its connection from here; its answer goes out when a decision or its deadline comes.
            if parked { metadata["long_poll"] = "parked" }
            context.logger.log(level: Self.probeRoutes.contains(route) ? .debug : .info, "request", metadata: metadata)
        }
        do {
            var response = try await next(request, context)
            status = response.status.code
            parked = response.headers[EarlyResponseHandler.parkedField] != nil
            response.headers[.requestID] = requestID
            return response
        } catch let error as any HTTPResponseError {
            // Rendered here rather than by the router, so refusals carry the request id too.
            var response = try error.response(from: request, context: context)
            status = response.status.code
            errorCode = (error as? APIError)?.code
            response.headers[.requestID] = requestID
            return response
        }
    }

    /// `GET /v1/approvals/{id}?wait=N` with N > 0: held until a decision or N seconds.
    static func isLongPoll(_ request: Request, route: String) -> Bool {
        guard request.method == .get, route == "/v1/approvals/{id}", let wait = request.uri.queryParameters["wait"] else {
            return false
        }
        return (Double(String(wait)) ?? 0) > 0
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let idempotencyKey = Self("Idempotency-Key")!
    static let apiKey = Self("X-Api-Key")!
    public static let gatehouseSignature = Self("X-Gatehouse-Signature")!
    public static let gatehouseTimestamp = Self("X-Gatehouse-Timestamp")!
}
