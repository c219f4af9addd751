import ApprovalCore
import Hummingbird

/// Renders errors on the control socket in the contract's shape, like the HTTP API's.
struct ControlErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as StorageFull {
            context.logger.error("write failed: disk full", metadata: StorageFull.metadata(error))
            return try APIError(.serviceUnavailable, code: "storage_full", message: "\(error): nothing was stored.")
                .response(from: request, context: context)
        } catch {
            return try APIError(.internalServerError, code: "internal_error", message: "\(error)").response(from: request, context: context)
        }
    }
}
