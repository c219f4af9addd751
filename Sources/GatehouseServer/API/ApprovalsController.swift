import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The intake API of CONTRACT.md §3: create, read (with long-poll), list, cancel, decide, verify. Each route reads
/// its body into a typed request, calls one use case as the authenticated key, and renders the answer; who may do
/// what is the use cases' rule.
struct ApprovalsController {
    typealias Context = APIRequestContext

    let service: ApprovalService
    let longPolls: LongPolls
    let links: any ApprovalLinkProvider
    let audit: any AuditArchive
    /// How a parked poll released by its deadline or a stop is answered.
    let currentAnswers: CurrentApprovalAnswers

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: create)
        routes.get(use: list)
        routes.get(":id", use: show)
        routes.post(":id/cancel", use: cancel)
        routes.post(":id/decision", use: decide)
        routes.post(":id/verify", use: verify)
        routes.post(":id/break-glass", use: breakGlass)
        routes.get(":id/audit", use: auditTrail)
        return routes
    }

    /// `GET /v1/approvals/{id}/audit`: the request's audit entries, oldest first, for whoever may see the request.
    @Sendable func auditTrail(_ request: Request, context: Context) async throws -> Response {
        let approval = try await service.approval(try approvalID(context), as: context.caller)
        let entries = try await audit.auditEntries(since: nil, approvalID: approval.id)
        return Self.json(.object(["entries": .array(entries.map(\.json))]), status: .ok)
    }

    /// `POST /v1/approvals`.
    struct CreateBody: Decodable {
        var action: String
        var payload: JSONValue
        var reasoning: String?
        var consequences: String?
        var onReject: String?
        var risk: Risk?
        var gate: String?
        var requester: String?
        var expiresIn: Int?
        var callbackURL: String?

        enum CodingKeys: String, CodingKey {
            case action, payload, reasoning, consequences, risk, gate, requester
            case onReject = "on_reject"
            case expiresIn = "expires_in"
            case callbackURL = "callback_url"
        }

        var request: ApprovalRequest {
            ApprovalRequest(
                action: action, payload: payload, reasoning: reasoning, consequences: consequences, onReject: onReject,
                risk: risk ?? .medium, gate: gate ?? "default", requester: requester, expiresIn: expiresIn,
                callbackURL: callbackURL)
        }
    }

    /// `POST /v1/approvals/{id}/decision`.
    struct DecisionBody: Decodable {
        enum Outcome: String, ContractChoice {
            case approve, reject, modify
            static var choices: String { #""approve", "reject" or "modify""# }
        }

        var outcome: Outcome
        /// Who decides: required for a key created for nobody; a key created for one person decides for them.
        var actingAs: String?
        var reason: String?
        /// With `modify`: the payload approved in place of the requested one.
        var payload: JSONValue?

        enum CodingKeys: String, CodingKey {
            case outcome, reason, payload
            case actingAs = "as"
        }

        /// The decision asked for, as `key`: `as` must name someone unless the key was created for one person (whose
        /// use case checks that `as` names them); the reason must fit.
        func command(by key: APIKey) throws -> DecisionCommand {
            if key.boundTo == nil, actingAs.map({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? true {
                throw APIError.invalid("as", "`as` must name the person deciding.")
            }
            if let reason, reason.count > ApprovalRequest.textLimit { throw APIError.invalid("reason", "`reason` is too long.") }
            let verdict: DecisionCommand.Verdict
            switch outcome {
            case .approve:
                verdict = .approve
            case .reject:
                verdict = .reject
            case .modify:
                guard let payload else { throw APIError.invalid("payload", "`modify` needs `payload`: the JSON object approved instead.") }
                guard payload.objectValue != nil else { throw APIError.invalid("payload", "`payload` must be a JSON object.") }
                verdict = .modify(payload)
            }
            if outcome != .modify, payload != nil {
                throw APIError.invalid("payload", "`payload` goes only with `\"outcome\": \"modify\"`.")
            }
            return DecisionCommand(verdict, by: .key(key, actingFor: actingAs), reason: reason)
        }
    }

    /// `POST /v1/approvals/{id}/break-glass`: `{"reason": "…", "as": "…"}`.
    struct BreakGlassBody: Decodable {
        var reason: String
        var actingAs: String?

        enum CodingKeys: String, CodingKey {
            case reason
            case actingAs = "as"
        }
    }

    /// `POST /v1/approvals/{id}/verify`.
    struct VerifyBody: Decodable {
        var payload: JSONValue
        var consume: Bool?
    }

    /// `POST /v1/approvals/{id}/cancel`: the body is optional.
    struct CancelBody: Decodable {
        var reason: String?
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let (body, json) = try await RequestBody.decode(CreateBody.self, from: request)
        let idempotency = try Self.idempotency(request.headers[.idempotencyKey], keyID: context.key.id, body: json)
        let (approval, created) = try await service.submit(body.request, by: context.caller, idempotency: idempotency)
        context.notes.approval = approval.id.rawValue
        return try await respond(approval, status: created ? .created : .ok)
    }

    /// The idempotency key `given` for a request filed with `body` by the key `keyID`: one namespace per key, bound to
    /// the body's digest.
    static func idempotency(_ given: String?, keyID: Int64, body: JSONValue) throws -> IdempotencyKey? {
        guard let given else { return nil }
        guard (1...255).contains(given.count) else {
            throw APIError(.badRequest, code: "invalid_idempotency_key", message: "Idempotency-Key must be 1–255 characters.")
        }
        return IdempotencyKey(scope: "key#\(keyID)", key: given, requestDigest: CanonicalJSON.sha256(of: body))
    }

    /// A read's `?wait=N`: how many seconds (0–60) to hold it while the approval is pending; 0 when not given.
    static func waitParameter(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["wait"] else { return 0 }
        guard let seconds = Int(text), (0...60).contains(seconds) else {
            throw APIError(.badRequest, code: "invalid_parameter", message: "`wait` must be a whole number of seconds from 0 to 60.")
        }
        return seconds
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let approval = try await service.approval(try approvalID(context), as: context.caller)
        let seconds = try Self.waitParameter(request)
        guard seconds > 0, approval.status == .pending else { return try await respond(approval, status: .ok) }
        let deadline = service.clock.now.addingTimeInterval(TimeInterval(seconds))
        let id = approval.id
        let connection = LongPolls.Connection(channel: context.channel, requestID: context.requestID, answers: currentAnswers)
        // Parked at its connection, this request's task ends now; the poll is answered there.
        switch try await longPolls.park(for: id, until: deadline, on: connection, current: { try await service.approval(id) }) {
        case .parked: return LongPolls.placeholder
        case .decided(let decided): return try await respond(decided, status: .ok)
        }
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = ApprovalFilter()
        if let status = query["status"].map(String.init), !status.isEmpty {
            guard let value = ApprovalStatus(rawValue: status) else {
                throw APIError(.badRequest, code: "invalid_parameter",
                               message: "`status` must be one of \(ApprovalStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            filter.status = value
        }
        if let gate = query["gate"].map(String.init), !gate.isEmpty { filter.gate = gate }
        switch query["mine"].map(String.init) {
        case nil, "", "false": break
        case "true": filter.ownerKeyID = context.key.id
        default: throw APIError(.badRequest, code: "invalid_parameter", message: "`mine` must be true or false.")
        }
        var limit = 50
        if let text = query["limit"], !text.isEmpty {
            guard let value = Int(text), (1...200).contains(value) else {
                throw APIError(.badRequest, code: "invalid_parameter", message: "`limit` must be a whole number from 1 to 200.")
            }
            limit = value
        }
        var before: Int64?
        if let cursor = query["cursor"].map(String.init), !cursor.isEmpty {
            guard cursor.hasPrefix("c"), let seq = Int64(cursor.dropFirst()), seq > 0 else {
                throw APIError(.badRequest, code: "invalid_parameter", message: "`cursor` is not one this service gave out.")
            }
            before = seq
        }
        let page = try await service.list(filter, limit: limit, before: before, as: context.caller)
        let links = try await links.links(for: page.approvals.map(\.id))
        return Self.json(ByteBuffer(bytes: ApprovalJSON.list(page, links: links)), status: .ok)
    }

    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let id = try approvalID(context)
        var reason: String?
        if request.headers[.contentLength].map({ $0 != "0" }) ?? false || request.headers[.contentType] != nil {
            reason = try await RequestBody.decode(CancelBody.self, from: request).value.reason
        }
        return try await respond(try await service.cancel(id, by: context.caller, reason: reason), status: .ok)
    }

    @Sendable func decide(_ request: Request, context: Context) async throws -> Response {
        let id = try approvalID(context)
        let command = try await RequestBody.decode(DecisionBody.self, from: request).value.command(by: context.key)
        return try await respond(try await service.decide(id, command), status: .ok)
    }

    @Sendable func verify(_ request: Request, context: Context) async throws -> Response {
        let id = try approvalID(context)
        let body = try await RequestBody.decode(VerifyBody.self, from: request).value
        let verified = try await service.verify(id, payload: body.payload, consume: body.consume ?? false, by: context.caller)
        return Self.json(
            ByteBuffer(bytes: ApprovalJSON.verified(verified, slackLink: try await links.link(for: verified.id))), status: .ok)
    }

    @Sendable func breakGlass(_ request: Request, context: Context) async throws -> Response {
        let id = try approvalID(context)
        let body = try await RequestBody.decode(BreakGlassBody.self, from: request).value
        if context.key.boundTo == nil, body.actingAs.map({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? true {
            throw APIError.invalid("as", "`as` must name the person breaking the glass.")
        }
        if body.reason.count > ApprovalRequest.textLimit { throw APIError.invalid("reason", "`reason` is too long.") }
        let approval = try await service.breakGlass(id, reason: body.reason, by: .key(context.key, actingFor: body.actingAs))
        return try await respond(approval, status: .ok)
    }

    private func approvalID(_ context: Context) throws -> ApprovalID {
        ApprovalID(rawValue: try context.parameters.require("id"))
    }

    private func respond(_ approval: Approval, status: HTTPResponse.Status) async throws -> Response {
        let body = ApprovalJSON.utf8(approval, slackLink: try await links.link(for: approval.id))
        return Self.json(ByteBuffer(bytes: body), status: status)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        json(ByteBuffer(bytes: CanonicalJSON.utf8(value)), status: status)
    }

    /// A response with `body`, canonical JSON rendered already.
    static func json(_ body: ByteBuffer, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: jsonContentType], body: .init(byteBuffer: body))
    }

    static let jsonContentType = "application/json; charset=utf-8"
}

/// A released parked poll's answer: the approval as it is now, as `GET /v1/approvals/{id}` renders it. One for the
/// application, shared by every parked poll rather than a closure kept per poll.
final class CurrentApprovalAnswers: LongPolls.CurrentAnswers {
    let service: ApprovalService
    let links: any ApprovalLinkProvider
    let logger: Logger

    init(service: ApprovalService, links: any ApprovalLinkProvider, logger: Logger) {
        self.service = service
        self.links = links
        self.logger = logger
    }

    func current(_ id: ApprovalID, requestID: String?) async -> (status: HTTPResponse.Status, body: ByteBuffer) {
        do {
            let approval = try await service.approval(id)
            return (.ok, ByteBuffer(bytes: ApprovalJSON.utf8(approval, slackLink: try await links.link(for: id))))
        } catch {
            logger.error(
                "reading a long-poll's approval failed",
                metadata: ["request_id": .string(requestID ?? ""), "error": "\(String(reflecting: type(of: error)))"])
            return (.internalServerError, APIError.internalError.body)
        }
    }
}
