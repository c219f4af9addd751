import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// `/mcp`: the MCP tools over Streamable HTTP, for the key that authenticated (the same key lookup and scopes as the
/// API, in front of it). `initialize` opens a session (`Mcp-Session-Id`) that belongs to that key: another key naming
/// it gets 404, as for an unknown one. Each request is answered on its POST as server-sent events (its progress
/// notifications, then its result); there is no standalone GET stream (405), and DELETE ends the session.
struct MCPController {
    typealias Context = APIRequestContext

    let service: ApprovalService
    let longPolls: LongPolls
    let links: any ApprovalLinkProvider
    let sessions: MCPSessions
    /// `request_permission`'s wait when the call does not say (`mcp_permission_wait`).
    let permissionWait: Int
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        routes.get(use: get)
        routes.delete(use: delete)
        return routes
    }

    static let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: APIError.maxBodySize)
        } catch {
            throw APIError.tooLarge
        }
        let data = Data(body.readableBytesView)
        guard let message = try? JSONValue.parse(data), message.objectValue != nil else {
            return Self.rpcError(.badRequest, code: -32700, "The body is not one JSON-RPC message (a JSON object).")
        }
        let method = message["method"]?.stringValue
        let session: MCPSessions.Session
        if let sessionID = request.headers[Self.sessionHeader] {
            guard let found = sessions.session(sessionID, for: context.key, at: service.clock.now) else {
                return Self.rpcError(.notFound, code: -32001, "No such session: it ended, or it is not this key's. Send initialize again.", id: message["id"])
            }
            guard method != "initialize" else {
                return Self.rpcError(.badRequest, code: -32600, "This session is initialized already.", id: message["id"])
            }
            session = found
        } else {
            guard method == "initialize", message["id"] != nil else {
                return Self.rpcError(
                    .badRequest, code: -32600, "Send initialize first; every later request carries its Mcp-Session-Id.", id: message["id"])
            }
            let tools = ApprovalTools(
                gateway: ServiceApprovalGateway(service: service, longPolls: longPolls, links: links, key: context.key),
                permissionWait: permissionWait, logger: logger)
            session = try await sessions.open(for: context.key, tools: tools, at: service.clock.now, logger: logger)
        }
        var headers: HTTPFields = [Self.sessionHeader: session.id]
        guard let id = message["id"], method != nil else {
            await session.transport.deliver(data)
            return Response(status: .accepted, headers: headers)
        }
        let progressToken = message["params"]?["_meta"]?["progressToken"]
        let (stream, post) = await session.transport.request(data, id: id, progressToken: progressToken)
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        // nginx passes each event on as it comes instead of buffering the stream.
        headers[Self.accelBuffering] = "no"
        let transport = session.transport
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [longPolls] writer in
                // On shutdown every held wait is released at once, so no answer delays the stop.
                try await withGracefulShutdownHandler {
                    do {
                        for try await event in stream { try await writer.write(ByteBuffer(bytes: event)) }
                    } catch {
                        // The client went away (a keep-alive could not be written): it has given up on the call.
                        await transport.abandon(id, post: post)
                        throw error
                    }
                    try await writer.finish(nil)
                } onGracefulShutdown: {
                    longPolls.releaseAll()
                }
            })
    }

    /// No standalone stream: every answer and notification travels on its request's POST.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        throw APIError.methodNotAllowed(["POST", "DELETE"])
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        guard let sessionID = request.headers[Self.sessionHeader], await sessions.close(sessionID, for: context.key) else {
            throw APIError(.notFound, code: "not_found", message: "No such session.")
        }
        return Response(status: .ok)
    }

    /// A JSON-RPC error as the whole answer, for a message that never reached a session.
    static func rpcError(_ status: HTTPResponse.Status, code: Int, _ message: String, id: JSONValue? = nil) -> Response {
        let body: JSONValue = .object([
            "jsonrpc": .string("2.0"), "id": id ?? .null,
            "error": .object(["code": .number(Double(code)), "message": .string(message)]),
        ])
        return ApprovalsController.json(body, status: status)
    }
}
