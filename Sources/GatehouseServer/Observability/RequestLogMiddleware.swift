import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line and one metrics sample per request: request id, route, status, latency.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext

    let metrics: GatehouseMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        let requestID = request.headers[.requestID].flatMap { $0.count <= 128 ? $0 : nil } ?? context.id
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.requestID = requestID
        var status = 500
        defer {
            let duration = ContinuousClock.now - start
            let route = context.endpointPath ?? "unmatched"
            metrics.recordRequest(route: route, method: request.method.rawValue, status: status, duration: duration)
            let ms = ((Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000) * 100)
                .rounded() / 100
            context.logger.info(
                "request",
                metadata: [
                    "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
                    "latency_ms": .stringConvertible(ms),
                ])
        }
        do {
            var response = try await next(request, context)
            status = response.status.code
            response.headers[.requestID] = requestID
            return response
        } catch let error as any HTTPResponseError {
            // Rendered here rather than by the router, so refusals carry the request id too.
            var response = try error.response(from: request, context: context)
            status = response.status.code
            response.headers[.requestID] = requestID
            return response
        }
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let idempotencyKey = Self("Idempotency-Key")!
    static let apiKey = Self("X-Api-Key")!
    public static let gatehouseSignature = Self("X-Gatehouse-Signature")!
    public static let gatehouseTimestamp = Self("X-Gatehouse-Timestamp")!
}
