import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Signing
import Storage

/// The intake API of CONTRACT.md §3: create, read (with long-poll), list, cancel, decide, verify.
struct ApprovalsController {
    typealias Context = GatehouseRequestContext

    let service: ApprovalService
    let database: GatehouseDatabase
    let waiters: ApprovalWaiters
    let links: any ApprovalLinkProvider

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: create)
        routes.get(use: list)
        routes.get(":id", use: show)
        routes.post(":id/cancel", use: cancel)
        routes.post(":id/decision", use: decide)
        routes.post(":id/verify", use: verify)
        return routes
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let key = try context.caller()
        let body = try await JSONBody.read(request, context: context)
        let approvalRequest = ApprovalRequest(
            action: try body.string("action", required: true)!,
            payload: try body.value("payload", required: true)!,
            reasoning: try body.string("reasoning"),
            consequences: try body.string("consequences"),
            onReject: try body.string("on_reject"),
            risk: try body.oneOf("risk", Risk.self, allowed: "low, medium, high, critical") ?? .medium,
            gate: try body.string("gate") ?? "default",
            requester: try body.string("requester"),
            expiresIn: try body.integer("expires_in"),
            callbackURL: try body.string("callback_url")
        )
        var idempotency: IdempotencyKey?
        if let header = request.headers[.idempotencyKey] {
            guard (1...255).contains(header.count) else {
                throw APIError(.badRequest, code: "invalid_idempotency_key", message: "Idempotency-Key must be 1–255 characters.")
            }
            idempotency = IdempotencyKey(scope: key.name, key: header, requestDigest: CanonicalJSON.sha256(of: body.raw))
        }
        let (approval, created) = try await service.submit(approvalRequest, ownerKey: key.name, idempotency: idempotency)
        return try await respond(approval, status: created ? .created : .ok)
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let key = try context.caller()
        let id = try context.parameters.require("id")
        let approval = try await visible(id, to: key)
        if let waitText = request.uri.queryParameters["wait"] {
            guard let seconds = Int(waitText), (0...60).contains(seconds) else {
                throw APIError(.badRequest, code: "invalid_parameter", message: "`wait` must be a whole number of seconds from 0 to 60.")
            }
            if seconds > 0 && approval.status == .pending {
                let deadline = service.clock.now.addingTimeInterval(TimeInterval(seconds))
                let connection = ApprovalWaiters.Connection(channel: context.channel, requestID: context.requestID)
                // On shutdown every held poll is answered at once with the current state, so none delays the stop.
                let outcome = try await withGracefulShutdownHandler {
                    try await waiters.wait(for: approval.id, until: deadline, clock: service.clock, connection: connection) {
                        try await service.approval(approval.id)
                    }
                } onGracefulShutdown: { [waiters] in
                    waiters.releaseAll()
                }
                switch outcome {
                case .answered:
                    // Already on the wire from the event loop; this answer only feeds the log and the metrics, and the
                    // connection drops it, so it carries no body.
                    return Response(status: .ok)
                case .decided(let decided):
                    // A decision is rendered once and its bytes shared by every poll it wakes.
                    return Self.json(decided.body(slackLink: try await links.link(for: approval.id)), status: .ok)
                case .released:
                    return try await respond(try await service.approval(approval.id), status: .ok)
                }
            }
        }
        return try await respond(approval, status: .ok)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let key = try context.caller()
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
        if !key.scope.seesEverything { filter.ownerKey = key.name }
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
        let page = try await database.list(filter, limit: limit, before: before)
        var items: [JSONValue] = []
        for approval in page.approvals {
            items.append(ApprovalJSON.object(approval, slackLink: try await links.link(for: approval.id)))
        }
        let body: JSONValue = .object([
            "approvals": .array(items), "next_cursor": page.next.map { .string("c\($0)") } ?? .null,
        ])
        return Self.json(body, status: .ok)
    }

    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let key = try context.caller()
        let approval = try await visible(try context.parameters.require("id"), to: key)
        guard approval.ownerKey == key.name || key.scope == .admin else {
            throw APIError(ApprovalError.notRequester)
        }
        var reason: String?
        if request.headers[.contentLength].map({ $0 != "0" }) ?? false || request.headers[.contentType] != nil {
            reason = try await JSONBody.read(request, context: context).string("reason")
        }
        let cancelled = try await service.cancel(approval.id, by: key.actor, reason: reason)
        return try await respond(cancelled, status: .ok)
    }

    @Sendable func decide(_ request: Request, context: Context) async throws -> Response {
        let key = try context.caller()
        guard key.scope.canDecide else {
            throw APIError(.forbidden, code: "forbidden", message: "Deciding needs a key with the decide or admin scope.")
        }
        let approval = try await visible(try context.parameters.require("id"), to: key)
        let body = try await JSONBody.read(request, context: context)
        let verdict: DecisionCommand.Verdict
        switch try body.string("outcome", required: true) {
        case "approve": verdict = .approve
        case "reject": verdict = .reject
        default: throw APIError.invalid("outcome", "`outcome` must be \"approve\" or \"reject\".")
        }
        guard let actingAs = try body.string("as", required: true), !actingAs.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.invalid("as", "`as` must name the person deciding.")
        }
        let reason = try body.string("reason")
        if let reason, reason.count > ApprovalRequest.textLimit {
            throw APIError.invalid("reason", "`reason` is too long.")
        }
        let decided = try await service.decide(
            approval.id, DecisionCommand(verdict, by: key.actor, byName: actingAs, reason: reason)
        )
        return try await respond(decided, status: .ok)
    }

    @Sendable func verify(_ request: Request, context: Context) async throws -> Response {
        let key = try context.caller()
        let approval = try await visible(try context.parameters.require("id"), to: key)
        let body = try await JSONBody.read(request, context: context)
        let payload = try body.value("payload", required: true)!
        let consume = try body.bool("consume") ?? false
        let verified = try await service.verify(approval.id, payload: payload, consume: consume, by: key.actor)
        let json: JSONValue = .object([
            "ok": .bool(true), "approval": ApprovalJSON.object(verified, slackLink: try await links.link(for: verified.id)),
        ])
        return Self.json(json, status: .ok)
    }

    /// The approval if `key` may see it; unknown and not-yours look the same (404), and both are audited.
    private func visible(_ rawID: String, to key: APIKey) async throws -> Approval {
        let id = ApprovalID(rawValue: rawID)
        if rawID.count <= 64, let approval = try await database.approval(id), key.maySee(approval) {
            return approval
        }
        try await database.append(
            AuditEvent(.requestRefused, actor: key.actor, details: [
                "reason": .string("not_found"), "approval_id": .string(String(rawID.prefix(64))),
            ]))
        throw APIError.notFound
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

/// Where people can see an approval outside the API (its Slack message); none without Slack.
public protocol ApprovalLinkProvider: Sendable {
    func link(for id: ApprovalID) async throws -> String?
}

struct NoLinks: ApprovalLinkProvider {
    func link(for id: ApprovalID) async throws -> String? { nil }
}
