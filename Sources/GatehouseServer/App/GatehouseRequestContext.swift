import ApprovalCore
import Hummingbird
import NIOCore
import Synchronization

/// The request context of every route: its id and connection, and what an authentication middleware verified about
/// the caller. Routes never read `verified` themselves: each guarded group converts it into a child context that
/// cannot exist without it (`APIRequestContext`, `SlackRequestContext`).
public struct GatehouseRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `RequestLogMiddleware`: the id in the log line and the `X-Request-Id` answer header.
    public var requestID: String?
    /// Set by the authentication middleware of a route group.
    var verified: VerifiedCaller?
    /// The connection the request came in on, for answers written from its event loop (long-polls).
    let channel: any Channel
    /// What the request's log line says beyond its route and status, filled in by the layers that learn it.
    let notes = RequestNotes()

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.requestID = nil
        self.verified = nil
        self.channel = source.channel
    }

    /// Bodies over 1 MiB are refused with 413 (CONTRACT.md §3).
    public var maxUploadSize: Int { APIError.maxBodySize }
}

/// Who a middleware found the caller to be.
enum VerifiedCaller: Sendable {
    /// `Authorization: Bearer` or `X-Api-Key` named this active key.
    case apiKey(APIKey)
    /// The body, whose Slack signature has been checked.
    case slack(body: [UInt8])
    /// The web page's session cookie named this live session.
    case web(WebSession)
}

/// The context of `/v1` routes: the authenticated key, always there.
struct APIRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let key: APIKey
    let requestID: String?
    let channel: any Channel
    let notes: RequestNotes

    init(context: GatehouseRequestContext) throws {
        guard case .apiKey(let key)? = context.verified else { throw APIError.unauthorized("An API key is required.") }
        self.coreContext = context.coreContext
        self.key = key
        self.requestID = context.requestID
        self.channel = context.channel
        self.notes = context.notes
    }

    var maxUploadSize: Int { APIError.maxBodySize }

    /// The key as the use cases see it.
    var caller: Actor { .key(key) }
}

/// The context of `/slack` routes: the raw body, its signature checked.
struct SlackRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let body: [UInt8]

    init(context: GatehouseRequestContext) throws {
        guard case .slack(let body)? = context.verified else {
            throw APIError(.unauthorized, code: "bad_signature", message: "The Slack signature is missing, wrong or stale.")
        }
        self.coreContext = context.coreContext
        self.body = body
    }

    var maxUploadSize: Int { APIError.maxBodySize }
}

/// What a request's log line says beyond route, status and latency: the key that called and the approval it was about,
/// set by the layers that learn them (a reference, because each layer has its own copy of the context).
final class RequestNotes: Sendable {
    private let state = Mutex<(key: String?, approval: String?)>((nil, nil))

    var key: String? {
        get { state.withLock { $0.key } }
        set { state.withLock { $0.key = newValue } }
    }

    var approval: String? {
        get { state.withLock { $0.approval } }
        set { state.withLock { $0.approval = newValue } }
    }
}
