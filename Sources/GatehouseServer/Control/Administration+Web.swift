import ApprovalCore
import Hummingbird
import Foundation

extension Administration {
    /// A one-time link token that signs `person` in to the web page (valid 10 minutes, used once), audited as `actor`'s.
    public func createLoginLink(for person: String, scope: WebScope, by actor: Actor) async throws -> String {
        try await store.createLoginLink(for: person, scope: scope, lifetime: WebSettings.linkLifetime, by: actor.id)
    }

    /// Ends the web sessions of `person` (or the one numbered `id`); returns how many.
    public func revokeSessions(person: String?, id: Int64?, by actor: Actor) async throws -> Int {
        try await store.revokeSessions(person: person, id: id, by: actor.id)
    }
}

extension ControlProtocol {
    public static let loginLinks = "web/login-links"
    public static let revokeSessions = "web/sessions/revoke"

    /// `POST /web/login-links`: a link for `person`.
    public struct LoginLinkRequest: Codable, Sendable {
        public var person: String
        public var scope: WebScope
        public var user: String

        public init(person: String, scope: WebScope, user: String) {
            self.person = person
            self.scope = scope
            self.user = user
        }
    }

    public struct LoginLinkCreated: Codable, Sendable {
        public var token: String

        public init(token: String) { self.token = token }
    }

    /// `POST /web/sessions/revoke`: the sessions of `person`, or the one numbered `id`.
    public struct RevokeSessionsRequest: Codable, Sendable {
        public var person: String?
        public var id: Int64?
        public var user: String

        public init(person: String?, id: Int64?, user: String) {
            self.person = person
            self.id = id
            self.user = user
        }
    }

    public struct SessionsRevoked: Codable, Sendable {
        public var revoked: Int

        public init(revoked: Int) { self.revoked = revoked }
    }
}

extension ControlController {
    /// The web page's sign-in links and session revocations.
    func addWebRoutes(to routes: RouteCollection<BasicRequestContext>) {
        routes.post(RouterPath(ControlProtocol.loginLinks)) { request, _ in
            let body = try await Self.decode(ControlProtocol.LoginLinkRequest.self, request)
            let token = try await administration.createLoginLink(for: body.person, scope: body.scope, by: .cli(body.user))
            return try Self.json(ControlProtocol.LoginLinkCreated(token: token), status: .created)
        }
        routes.post(RouterPath(ControlProtocol.revokeSessions)) { request, _ in
            let body = try await Self.decode(ControlProtocol.RevokeSessionsRequest.self, request)
            let revoked = try await administration.revokeSessions(person: body.person, id: body.id, by: .cli(body.user))
            return try Self.json(ControlProtocol.SessionsRevoked(revoked: revoked), status: .ok)
        }
    }
}
