import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle

/// The Cosignet-compatible API (CONTRACT.md §9) under `/api/confirmations`, so that a gate script written for Cosignet
/// works by changing its base URL: a confirmation is an approval asked of one named person, filed and read through the
/// same use cases, keys and scopes as the API, and long-polled like `GET /v1/approvals/{id}?wait=N`.
struct CosignetController {
    typealias Context = APIRequestContext

    let service: ApprovalService
    let longPolls: LongPolls
    let policies: any PolicyStore
    /// Where the web page is reached, for each confirmation's `url`: `public_url`, else the address the service listens on.
    let pageBase: String

    /// Every path and its methods, relative to the server's root: the routes below, and the 405 answers' `Allow`.
    static let paths: [(path: String, methods: [String])] = [
        ("/api/confirmations", ["POST"]),
        ("/api/confirmations/{id}", ["GET"]),
    ]

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: create)
        routes.get(":id", use: show)
        return routes
    }

    /// `POST /api/confirmations`: `{"username", "action", "payload"}`, and any other field of `POST /v1/approvals`
    /// (`reasoning`, `risk`, `expires_in`…), read as the API reads them.
    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let (fields, json) = try await RequestBody.decode(ApprovalsController.CreateBody.self, from: request)
        guard let username = json["username"]?.stringValue else {
            throw APIError.invalid("username", "`username` must name the person asked: a Slack user ID (U…) or a role with one member.")
        }
        var asked = fields.request
        asked.onlyApprover = try Self.person(named: username, roles: try await policies.policies().roles)
        let approval = try await service.submit(asked, by: context.caller).approval
        context.notes.approval = approval.id.rawValue
        return ApprovalsController.json(confirmation(approval), status: .created)
    }

    /// `GET /api/confirmations/{id}?wait=N`: the confirmation now, or once it is decided, within N seconds (0–60).
    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let id = ApprovalID(rawValue: try context.parameters.require("id"))
        context.notes.approval = id.rawValue
        var approval = try await service.approval(id, as: context.caller)
        let seconds = try ApprovalsController.waitParameter(request)
        if seconds > 0, approval.status == .pending {
            let deadline = service.clock.now.addingTimeInterval(TimeInterval(seconds))
            // On shutdown every held poll is answered at once with the current state, so none delays the stop.
            approval = try await withGracefulShutdownHandler {
                try await longPolls.approval(id, decidedBefore: deadline) { try await service.approval(id) }
            } onGracefulShutdown: { [longPolls] in
                longPolls.releaseAll()
            }
        }
        return ApprovalsController.json(confirmation(approval), status: .ok)
    }

    /// The person a confirmation asks: a Slack user ID (`U…`, `W…`, also as `@U…` or `<@U…>`), or the name of a role
    /// (see Policies) with exactly one member and no user group.
    static func person(named username: String, roles: [Role]) throws -> EscalationChain.Approver {
        let trimmed = username.trimmingCharacters(in: .whitespaces)
        var id = trimmed
        if id.hasPrefix("<@"), id.hasSuffix(">") { id = String(id.dropFirst(2).dropLast().prefix { $0 != "|" }) }
        if id.hasPrefix("@") { id.removeFirst() }
        let user = EscalationChain.Approver.user(id)
        if user.isValid { return user }
        if let role = roles.first(where: { $0.name == trimmed }) {
            guard role.users.count == 1, role.groups.isEmpty, EscalationChain.Approver.user(role.users[0]).isValid else {
                throw APIError.invalid(
                    "username", "`username` names role `\(role.name)`, which has \(role.users.count + role.groups.count) members; a confirmation asks one person.")
            }
            return .user(role.users[0])
        }
        throw APIError.invalid(
            "username", "`username` must be a Slack user ID (U…) or the name of a role with one member; `\(trimmed.prefix(80))` is neither.")
    }

    /// A confirmation as Cosignet's clients read it. Its `status` is only ever approved for the payload as filed: a
    /// person's modification answers `rejected` (with the payload they approved instead in `modifiedPayload`), so that
    /// a script that checks only the status never runs what was not approved; a cancelled request answers `rejected`.
    func confirmation(_ approval: Approval) -> JSONValue {
        let status: String =
            switch approval.status {
            case .pending: "pending"
            case .approved: "approved"
            case .expired: "expired"
            case .rejected, .modified, .cancelled: "rejected"
            }
        var reason = approval.decision?.reason
        if approval.status == .modified { reason = "approved only with a different payload (modifiedPayload), not this one" }
        if approval.status == .cancelled { reason = approval.decision?.reason ?? "Cancelled by the requester." }
        let decided = approval.status != .pending
        var object: [String: JSONValue] = [
            "id": .string(approval.id.rawValue),
            "url": .string(pageBase + "/ui/approvals/" + approval.id.rawValue),
            "status": .string(status),
            "username": approval.chain.levels.first?.approvers.first.map { .string($0.id) } ?? .null,
            "action": .string(approval.action),
            "payload": approval.payload,
            "payloadHash": .string(approval.payloadSHA256),
            "createdAt": .string(RFC3339.string(from: approval.createdAt)),
            "expiresAt": .string(RFC3339.string(from: approval.expiresAt)),
            "decidedAt": decided ? approval.decision.map { .string(RFC3339.string(from: $0.at)) } ?? .null : .null,
            "decidedBy": approval.decision.map { .string($0.byName ?? $0.by) } ?? .null,
            "reason": reason.map(JSONValue.string) ?? .null,
        ]
        if approval.status == .modified, let modified = approval.decision?.payload { object["modifiedPayload"] = modified }
        return .object(object)
    }
}
