import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird

/// Finds the signed-in person of a web page request from its session cookie; without a live session the answer is the
/// page that says how to sign in, and nothing behind it runs.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext
    let sessions: any WebSessionStore
    let web: WebSettings

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let secret = request.cookies[WebSettings.cookieName]?.value, !secret.isEmpty,
            let session = try await sessions.session(secret, idleTimeout: WebSettings.idleTimeout)
        else {
            return WebPages.message(
                status: .unauthorized, title: "Sign in", heading: "Sign in to Gatehouse",
                text: "Type /gatehouse login in Slack for a one-time link, or ask someone with access to the server to run "
                    + "gatehouse login-link --as YOUR-NAME. Sessions end after 12 hours without use.",
                extraHeaders: [.setCookie: web.clearedCookie])
        }
        var context = context
        context.verified = .web(session)
        context.logger[metadataKey: "person"] = .string(session.person)
        return try await next(request, context)
    }
}

/// The context of signed-in web routes: the session, always there.
struct WebRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let session: WebSession

    init(context: GatehouseRequestContext) throws {
        guard case .web(let session)? = context.verified else {
            throw APIError(.unauthorized, code: "unauthorized", message: "Sign in first.")
        }
        self.coreContext = context.coreContext
        self.session = session
    }

    var maxUploadSize: Int { APIError.maxBodySize }
}

/// What the web page needs to know of the configuration: whether it is reached over https (for the cookie's `Secure`).
struct WebSettings: Sendable {
    static let cookieName = "gatehouse_session"
    /// Sessions end after 12 hours without a request (CONTRACT.md §8).
    static let idleTimeout: TimeInterval = 12 * 3600
    /// A one-time link is good for 10 minutes.
    static let linkLifetime: TimeInterval = 10 * 60

    var secure: Bool

    init(publicURL: URL?) {
        secure = publicURL?.scheme?.lowercased() == "https"
    }

    func cookie(_ secret: String) -> String {
        "\(Self.cookieName)=\(secret); Path=/ui; HttpOnly; SameSite=Lax\(secure ? "; Secure" : "")"
    }

    var clearedCookie: String {
        "\(Self.cookieName)=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Lax\(secure ? "; Secure" : "")"
    }
}

/// The security headers of every page and file under `/ui`: nothing from other hosts, no inline script or style, no
/// framing, no referrer leaving the service.
struct WebSecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headers: HTTPFields {
        [
            HTTPField.Name("Content-Security-Policy")!:
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
                + "frame-ancestors 'none'; base-uri 'none'",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("Referrer-Policy")!: "same-origin",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            .cacheControl: "no-store",
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = WebPages.failure(error, logger: context.logger)
        }
        for field in Self.headers where response.headers[field.name] == nil {
            response.headers.append(field)
        }
        return response
    }
}

extension WebSettings {
    /// `/gatehouse login` in Slack: a link `PUBLIC_URL/ui/login/TOKEN` for the Slack user who typed it; none without
    /// a public URL.
    static func loginLinks(store: any WebSessionStore, publicURL: URL?) -> (@Sendable (String) async throws -> String)? {
        guard let publicURL else { return nil }
        let base = publicURL.absoluteString.hasSuffix("/") ? String(publicURL.absoluteString.dropLast()) : publicURL.absoluteString
        return { user in
            let token = try await store.createLoginLink(for: user, scope: .decide, lifetime: linkLifetime, by: user)
            return base + "/ui/login/" + token
        }
    }
}
