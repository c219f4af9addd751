import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird

/// An error at the HTTP edge, rendered as the contract's `{"error": {"code", "message"}}`.
public struct APIError: HTTPResponseError, Sendable {
    public static let maxBodySize = 1 << 20

    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The contract's error object.
    var body: ByteBuffer {
        ByteBuffer(string: CanonicalJSON.serialize(.object(["error": .object(["code": .string(code), "message": .string(message)])])))
    }

    /// A failure of the server's own, whose details are in its log.
    static var internalError: APIError {
        APIError(.internalServerError, code: "internal_error", message: "The request failed on the server; see its log.")
    }

    static func unauthorized(_ message: String) -> APIError {
        var error = APIError(.unauthorized, code: "unauthorized", message: message)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }

    static func malformed(_ message: String) -> APIError { APIError(.badRequest, code: "malformed_json", message: message) }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_field", message: message)
    }

    /// Too many failed attempts from one source: try again in `retryAfter` seconds.
    static func rateLimited(retryAfter seconds: Int) -> APIError {
        var error = APIError(
            .tooManyRequests, code: "rate_limited",
            message: "Too many failed attempts from this address; try again in \(seconds) s.")
        error.headers[.retryAfter] = String(seconds)
        return error
    }

    /// A write the disk had no room for: nothing was stored; the client may try again later.
    static var storageFull: APIError {
        var error = APIError(
            .serviceUnavailable, code: "storage_full",
            message: "The service's disk is full: nothing was stored. Try again once its operator has freed space.")
        error.headers[.retryAfter] = "30"
        return error
    }

    /// A path that is answered, but not for this method; `Allow` lists the methods it is.
    static func methodNotAllowed(_ allowed: [String]) -> APIError {
        var error = APIError(
            .methodNotAllowed, code: "method_not_allowed",
            message: "This path answers \(allowed.joined(separator: " and ")) only.")
        error.headers[.allow] = allowed.joined(separator: ", ")
        return error
    }

    static let notFound = APIError(.notFound, code: "not_found", message: "No approval with that id.")

    static let tooLarge = APIError(
        .contentTooLarge, code: "body_too_large", message: "The request body is larger than 1 MiB."
    )

    /// The domain's refusals, mapped to status and code.
    init(_ error: ApprovalError) {
        switch error {
        case .notFound:
            self = .notFound
        case .alreadyDecided(let decision):
            let when = RFC3339.string(from: decision.at)
            // Deciders as the audit log writes them (`U…`, `key:NAME`), with the name given when there is one.
            let who = decision.by + (decision.byName.map { " (\($0))" } ?? "")
            let message = switch decision.outcome {
            case .expired: "It expired at \(when) without a decision."
            case .cancelled: "It was cancelled by the requester at \(when)."
            case .modified: "It was already approved with changes by \(who) at \(when)."
            case .approved, .rejected: "It was already \(decision.outcome.rawValue) by \(who) at \(when)."
            }
            self.init(.conflict, code: error.code, message: message)
        case .selfApproval:
            self.init(.forbidden, code: error.code, message: "The requester cannot decide their own request.")
        case .notApprover(let level, let levels, _):
            self.init(.forbidden, code: error.code, message: "Not an approver of levels 1–\(level) of \(levels) of this request's chain.")
        case .expired:
            self.init(.conflict, code: error.code, message: "The approval has expired.")
        case .notRequester:
            self.init(.forbidden, code: error.code, message: "Only the key that filed the request may do that.")
        case .forbidden(let message):
            self.init(.forbidden, code: error.code, message: message)
        case .notApproved(let status):
            self.init(.conflict, code: error.code, message: "The approval is \(status.rawValue), not approved.")
        case .payloadMismatch(let expected, let actual):
            self.init(
                .conflict, code: error.code,
                message: "The payload's digest \(actual) differs from the approved digest \(expected).")
        case .alreadyConsumed(let at):
            self.init(.conflict, code: error.code, message: "The approval was already used at \(RFC3339.string(from: at)).")
        case .idempotencyConflict:
            self.init(
                .conflict, code: error.code,
                message: "This Idempotency-Key was used before with a different body.")
        case .invalidField(let field, let message):
            self = .invalid(field, message)
        case .alreadyVoted(let vote):
            self.init(
                .conflict, code: error.code,
                message: "\(vote.by) already voted (\(vote.verdict.rawValue)) at \(RFC3339.string(from: vote.at)); each person votes once.")
        case .notBreakGlass(let message):
            self.init(.forbidden, code: error.code, message: message)
        }
    }

    /// The refusals of an answer to a contact request.
    init(_ error: ContactError) {
        switch error {
        case .alreadyAnswered(let answer):
            let who = answer.by + (answer.byName.map { " (\($0))" } ?? "")
            self.init(.conflict, code: error.code, message: "It was already answered by \(who) at \(RFC3339.string(from: answer.at)).")
        case .notAnswerer:
            self.init(.forbidden, code: error.code, message: "Only the approvers of the default gate may answer.")
        }
    }
}
