import ApprovalCore
import Hummingbird
import NIOHTTP1

/// Turns every error escaping a route into the contract's error shape and status.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as ApprovalError {
            throw APIError(error)
        } catch let error as ContactError {
            throw APIError(error)
        } catch let error as HTTPError {
            switch error.status {
            case .contentTooLarge: throw APIError.tooLarge
            case .notFound:
                // The router reports a known path under another method as not found too.
                if let allowed = DocumentedRoutes.api.methods(forPath: request.uri.path)
                    ?? DocumentedRoutes.compatible.methods(forPath: request.uri.path)
                {
                    throw APIError.methodNotAllowed(allowed)
                }
                throw APIError(.notFound, code: "not_found", message: "No such route.")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, code: "method_not_allowed", message: "That method is not allowed here.")
            default: throw APIError(error.status, code: "http_error", message: error.body ?? error.status.reasonPhrase)
            }
        } catch let error as StorageFull {
            context.logger.error("write failed: disk full", metadata: StorageFull.metadata(error))
            throw APIError.storageFull
        } catch let error as HTTPParserError {
            // The client's framing is broken (a bad chunk size, a body shorter than its length): its fault, not ours.
            context.logger.warning("request framing broken", metadata: ["parser_error": "\(error)"])
            var refusal = APIError(
                .badRequest, code: "malformed_request", message: "The request's HTTP framing is broken (\(error)); nothing was done.")
            refusal.headers[.connection] = "close"
            throw refusal
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw APIError.internalError
        }
    }
}
