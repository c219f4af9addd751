import ApprovalCore
import Foundation
import Hummingbird
import NIOCore
import Storage

/// The control socket's routes: the command line's changes to keys and chains, made by the running service so that
/// one process writes the database. Reached only through a Unix socket beside the database, which only the service's
/// own account can open; the caller names itself (`cli:$USER`) for the audit log, as it would writing the file.
struct ControlController {
    let administration: Administration

    var endpoints: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.post(RouterPath(ControlProtocol.keys)) { request, context in
            let body = try await Self.decode(ControlProtocol.KeyRequest.self, request)
            let secret = try await Self.refusing {
                try await administration.createKey(
                    name: body.name, scope: body.scope ?? .request, boundTo: body.boundTo, breakGlass: body.breakGlass ?? false,
                    by: .cli(body.user))
            }
            return try Self.json(ControlProtocol.KeyCreated(key: secret), status: .created)
        }
        routes.post(RouterPath(ControlProtocol.revokeKey)) { request, context in
            let body = try await Self.decode(ControlProtocol.KeyRequest.self, request)
            try await Self.refusing { try await administration.revokeKey(name: body.name, by: .cli(body.user)) }
            return Response(status: .noContent)
        }
        routes.post(RouterPath(ControlProtocol.chains)) { request, context in
            let body = try await Self.decode(ControlProtocol.ChainsRequest.self, request)
            let applied = try await Self.refusing {
                try await administration.applyChains(body.chains, pruning: body.prune, dryRun: body.dryRun, by: .cli(body.user))
            }
            return try Self.json(applied, status: .ok)
        }
        routes.post(RouterPath(ControlProtocol.policies)) { request, context in
            let body = try await Self.decode(ControlProtocol.PoliciesRequest.self, request)
            let applied = try await Self.refusing {
                try await administration.applyPolicies(body.policies, dryRun: body.dryRun, by: .cli(body.user))
            }
            return try Self.json(applied, status: .ok)
        }
        addWebRoutes(to: routes)
        return routes
    }

    /// The store's and the domain's refusals as the contract's errors, with the same sentences the command line prints
    /// when it writes the file itself.
    static func refusing<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as StorageError {
            throw APIError(.conflict, code: "refused", message: error.description)
        } catch let error as ChainError {
            throw APIError(.unprocessableContent, code: "invalid_chain", message: error.description)
        } catch let error as ChainApplyError {
            throw APIError(.unprocessableContent, code: "invalid_chain", message: error.description)
        } catch let error as PolicyProblems {
            throw APIError(.unprocessableContent, code: "invalid_policies", message: error.description)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 16 << 20)
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, code: "malformed_json", message: "The control request could not be read: \(error).")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
