import ApprovalCore
import Hummingbird
import NIOCore

/// The request context of every route: the caller's API key once the auth middleware has checked it.
public struct GatehouseRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `APIKeyMiddleware`; routes behind it read it through `caller()`.
    public var apiKey: APIKey?
    /// Set by `SlackSignatureMiddleware`: the raw body, whose signature has been checked.
    public var verifiedSlackBody: [UInt8]?
    /// Set by `RequestLogMiddleware`: the id in the log line and the `X-Request-Id` answer header.
    public var requestID: String?
    /// The connection the request came in on, for answers written from its event loop (long-polls).
    let channel: any Channel

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.apiKey = nil
        self.verifiedSlackBody = nil
        self.requestID = nil
        self.channel = source.channel
    }

    /// Bodies over 1 MiB are refused with 413 (CONTRACT.md §3).
    public var maxUploadSize: Int { APIError.maxBodySize }

    /// The authenticated key; a route reached without one is a wiring mistake and answers 401.
    public func caller() throws -> APIKey {
        guard let apiKey else { throw APIError.unauthorized("An API key is required.") }
        return apiKey
    }
}
