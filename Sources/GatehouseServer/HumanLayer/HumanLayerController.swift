import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird

/// The HumanLayer-compatible API (CONTRACT.md §9) under `/humanlayer/v1`, for its SDKs pointed at Gatehouse: a
/// function call is an approval (action `fn`, payload `kwargs`, filed under its `call_id` as the key's idempotency
/// key), a contact request is a question for a person. Every route goes through the same use cases as the API, with
/// the same keys and scopes; reads answer at once (the SDK polls).
struct HumanLayerController {
    typealias Context = APIRequestContext

    let approvals: ApprovalService
    let contacts: ContactService
    let calls: any FunctionCallIndex

    /// Every path and its methods, relative to the server's root: the routes below, and the 405 answers' `Allow`.
    static let paths: [(path: String, methods: [String])] = [
        ("/humanlayer/v1/function_calls", ["POST"]),
        ("/humanlayer/v1/function_calls/{call_id}", ["GET"]),
        ("/humanlayer/v1/agent/function_calls/{call_id}/respond", ["POST"]),
        ("/humanlayer/v1/agent/function_calls/pending", ["GET"]),
        ("/humanlayer/v1/contact_requests", ["POST"]),
        ("/humanlayer/v1/contact_requests/{call_id}", ["GET"]),
        ("/humanlayer/v1/agent/human_contacts/{call_id}/respond", ["POST"]),
        ("/humanlayer/v1/agent/human_contacts/pending", ["GET"]),
    ]

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("function_calls", use: createFunctionCall)
        routes.get("function_calls/:call_id", use: showFunctionCall)
        routes.post("agent/function_calls/:call_id/respond", use: respondToFunctionCall)
        routes.get("agent/function_calls/pending", use: pendingFunctionCalls)
        routes.post("contact_requests", use: createContactRequest)
        routes.get("contact_requests/:call_id", use: showContactRequest)
        routes.post("agent/human_contacts/:call_id/respond", use: respondToContactRequest)
        routes.get("agent/human_contacts/pending", use: pendingContactRequests)
        return routes
    }

    /// How many pending items a list answers with, oldest first.
    static let listLimit = 200

    // MARK: Function calls

    /// `POST /function_calls`: files the approval, or answers the one filed under this `call_id` before.
    @Sendable func createFunctionCall(_ request: Request, context: Context) async throws -> Response {
        let call = try HumanLayerBody.call(try await RequestBody.json(request))
        let fn = try call.spec.requiredString("fn", limit: ApprovalRequest.actionLimit)
        let kwargs = try call.spec.kept("kwargs") ?? .object([:])
        _ = (try call.spec.kept("channel"), try call.spec.kept("reject_options", array: true), try call.spec.kept("state"))
        let requester = HumanLayerJSON.requesterPrefix + call.runID
        guard requester.count <= 200 else { throw APIError.invalid("run_id", "`run_id` must be at most 194 characters for a function call.") }
        let idempotency = IdempotencyKey(scope: FunctionCallScope.of(keyID: context.key.id), key: call.callID, requestDigest: call.digest)
        let filed: (approval: Approval, created: Bool)
        do {
            filed = try await approvals.submit(
                ApprovalRequest(action: fn, payload: kwargs, requester: requester), by: context.caller, idempotency: idempotency)
        } catch ApprovalError.invalidField("action", let message) {
            throw APIError.invalid("spec.fn", message.replacingOccurrences(of: "`action`", with: "`spec.fn`"))
        } catch ApprovalError.idempotencyConflict {
            throw Self.callIDConflict
        }
        context.notes.approval = filed.approval.id.rawValue
        return Self.json(HumanLayerJSON.functionCall(filed.approval, callID: call.callID), status: filed.created ? .created : .ok)
    }

    /// `GET /function_calls/{call_id}`: the call as it stands, at once.
    @Sendable func showFunctionCall(_ request: Request, context: Context) async throws -> Response {
        let callID = try context.parameters.require("call_id")
        let approval = try await approvals.approval(try await approvalID(forCall: callID, key: context.key), as: context.caller)
        return Self.json(HumanLayerJSON.functionCall(approval, callID: callID), status: .ok)
    }

    /// `POST /agent/function_calls/{call_id}/respond`: `{"approved": true|false, "comment", "reject_option_name"}` decides
    /// it through the API's decision use case (a `decide` key; `as` may name the person, as in the API).
    @Sendable func respondToFunctionCall(_ request: Request, context: Context) async throws -> Response {
        let callID = try context.parameters.require("call_id")
        let body = try HumanLayerBody(try await RequestBody.json(request))
        guard let approved = try body.bool("approved") else {
            throw APIError.invalid("approved", "`approved` must be true or false.")
        }
        let comment = try body.string("comment")
        if let comment, comment.count > ApprovalRequest.textLimit { throw APIError.invalid("comment", "`comment` is too long.") }
        let optionName = try body.string("reject_option_name")
        if let optionName, optionName.count > 100 { throw APIError.invalid("reject_option_name", "`reject_option_name` is too long.") }
        let id = try await approvalID(forCall: callID, key: context.key)
        let command = DecisionCommand(
            approved ? .approve : .reject, by: .key(context.key, actingFor: try body.string("as")), reason: comment,
            reasonCode: approved ? nil : optionName)
        let decided = try await approvals.decide(id, command)
        context.notes.approval = decided.id.rawValue
        return Self.json(HumanLayerJSON.functionCall(decided, callID: callID), status: .ok)
    }

    /// `GET /agent/function_calls/pending`: the pending function calls the key may see, oldest first.
    @Sendable func pendingFunctionCalls(_ request: Request, context: Context) async throws -> Response {
        let owner = context.key.scope.seesEverything ? nil : context.key.id
        let pending = try await calls.pendingFunctionCalls(ownerKeyID: owner, limit: Self.listLimit)
        return Self.json(.array(pending.map { HumanLayerJSON.functionCall($0.approval, callID: $0.callID) }), status: .ok)
    }

    /// The approval filed under `callID`: by this key, else (for a key that sees every approval) by any. Unknown: audited
    /// and 404, as an unknown approval id.
    private func approvalID(forCall callID: String, key: APIKey) async throws -> ApprovalID {
        if callID.count <= ContactRequest.identifierLimit {
            if let own = try await calls.functionCall(callID, ownerKeyID: key.id) { return own }
            if key.scope.seesEverything, let any = try await calls.functionCall(callID, ownerKeyID: nil) { return any }
        }
        try await approvals.repository.append(.unknownCall(callID, by: key.actor))
        throw ApprovalError.notFound
    }

    // MARK: Contact requests

    /// `POST /contact_requests`: stores the question and posts it to Slack, or answers the one asked under this
    /// `call_id` before.
    @Sendable func createContactRequest(_ request: Request, context: Context) async throws -> Response {
        let call = try HumanLayerBody.call(try await RequestBody.json(request))
        let message = try call.spec.string("msg") ?? ""
        _ = (try call.spec.kept("channel"), try call.spec.kept("state"))
        let options = try (call.spec.kept("response_options", array: true)?.arrayValue ?? []).enumerated().map { index, option in
            try ResponseOption(json: option, field: "spec.response_options[\(index)]")
        }
        let question = ContactQuestion(
            runID: call.runID, callID: call.callID, message: message, subject: try call.spec.string("subject"), options: options,
            spec: .object(call.spec.members))
        let asked: (contact: ContactRequest, created: Bool)
        do {
            asked = try await contacts.ask(question, requestDigest: call.digest, by: context.key)
        } catch ApprovalError.idempotencyConflict {
            throw Self.callIDConflict
        }
        return Self.json(HumanLayerJSON.humanContact(asked.contact), status: asked.created ? .created : .ok)
    }

    /// `GET /contact_requests/{call_id}`: the question and its answer so far, at once.
    @Sendable func showContactRequest(_ request: Request, context: Context) async throws -> Response {
        let contact = try await contacts.contact(callID: try context.parameters.require("call_id"), as: context.key)
        return Self.json(HumanLayerJSON.humanContact(contact), status: .ok)
    }

    /// `POST /agent/human_contacts/{call_id}/respond`: `{"response", "response_option_name"}` answers it (a `decide` key).
    @Sendable func respondToContactRequest(_ request: Request, context: Context) async throws -> Response {
        let callID = try context.parameters.require("call_id")
        let body = try HumanLayerBody(try await RequestBody.json(request))
        let response = try body.string("response")
        let optionName = try body.string("response_option_name")
        let actor = Actor.key(context.key, actingFor: try body.string("as"))
        let contact = try await contacts.contact(callID: callID, as: context.key)
        let answered = try await contacts.answer(contact, response: response, optionName: optionName, by: actor)
        return Self.json(HumanLayerJSON.humanContact(answered), status: .ok)
    }

    /// `GET /agent/human_contacts/pending`: the unanswered questions the key may see, oldest first.
    @Sendable func pendingContactRequests(_ request: Request, context: Context) async throws -> Response {
        let pending = try await contacts.pending(as: context.key, limit: Self.listLimit)
        return Self.json(.array(pending.map(HumanLayerJSON.humanContact)), status: .ok)
    }

    // MARK: Answers

    static let callIDConflict = APIError(
        .conflict, code: ApprovalError.idempotencyConflict.code,
        message: "This call_id was used before by this key with a different request.")

    static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        ApprovalsController.json(value, status: status)
    }
}
