import ApprovalCore
import Foundation

/// The way to the use cases that the MCP tools take, as one caller: in the service (`/mcp`, the use cases called
/// directly as the key that authenticated) or from `gatehouse mcp` (the intake API over HTTP). Approvals come back as
/// the API's approval object; refusals are thrown as `APIError`, with the API's code and message.
public protocol ApprovalGateway: Sendable {
    /// The clock that deadlines of waits are measured on.
    var now: Date { get }
    /// Files `body` (the fields of `POST /v1/approvals`), with an idempotency key when one is given.
    func submit(_ body: JSONValue, idempotencyKey: String?) async throws -> JSONValue
    /// The approval `id`, at once.
    func approval(_ id: String) async throws -> JSONValue
    /// The approval `id` once it leaves `pending`, or when `deadline` passes, or earlier when the service is stopping;
    /// throws `CancellationError` when the calling task is cancelled.
    func waitForDecision(_ id: String, until deadline: Date) async throws -> JSONValue
    /// `POST /v1/approvals/{id}/verify`: `{"ok": true, "approval": …}`.
    func verify(_ id: String, payload: JSONValue, consume: Bool) async throws -> JSONValue
}

/// The service's own gateway for `/mcp`: the use cases the intake API calls, as the authenticated key, with waits held
/// by `LongPolls` (woken by the same commit signal as long-polls, their deadlines kept on the service's clock).
struct ServiceApprovalGateway: ApprovalGateway {
    let service: ApprovalService
    let longPolls: LongPolls
    let links: any ApprovalLinkProvider
    let key: APIKey

    var now: Date { service.clock.now }
    private var caller: Actor { .key(key) }

    func submit(_ body: JSONValue, idempotencyKey: String?) async throws -> JSONValue {
        let request = try ApprovalsController.CreateBody(from: JSONValueDecoder(value: body)).request
        let idempotency = try ApprovalsController.idempotency(idempotencyKey, keyID: key.id, body: body)
        return try await render(try await service.submit(request, by: caller, idempotency: idempotency).approval)
    }

    func approval(_ id: String) async throws -> JSONValue {
        try await render(try await service.approval(ApprovalID(rawValue: id), as: caller))
    }

    func waitForDecision(_ id: String, until deadline: Date) async throws -> JSONValue {
        let approvalID = ApprovalID(rawValue: id)
        let approval = try await service.approval(approvalID, as: caller)
        guard approval.status == .pending, deadline > now else { return try await render(approval) }
        // A cancelled call ends with `CancellationError`, not with the approval read again.
        return try await render(try await longPolls.approval(approvalID, decidedBefore: deadline) {
            try Task.checkCancellation()
            return try await service.approval(approvalID)
        })
    }

    func verify(_ id: String, payload: JSONValue, consume: Bool) async throws -> JSONValue {
        let verified = try await service.verify(ApprovalID(rawValue: id), payload: payload, consume: consume, by: caller)
        return try JSONValue.parse(utf8: ApprovalJSON.verified(verified, slackLink: try await links.link(for: verified.id)))
    }

    private func render(_ approval: Approval) async throws -> JSONValue {
        try JSONValue.parse(utf8: ApprovalJSON.utf8(approval, slackLink: try await links.link(for: approval.id)))
    }
}
