import ApprovalCore
import Foundation
import Hummingbird

/// `POST /v1/policy/evaluate`: the rule and outcome a request body would get now, storing nothing.
struct PolicyController {
    typealias Context = APIRequestContext

    let service: ApprovalService

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("evaluate", use: evaluate)
        return routes
    }

    @Sendable func evaluate(_ request: Request, context: Context) async throws -> Response {
        let body = try await RequestBody.decode(ApprovalsController.CreateBody.self, from: request).value
        let evaluation = try await service.evaluate(body.request, by: context.caller)
        return ApprovalsController.json(Self.json(evaluation), status: .ok)
    }

    /// `{"policy", "outcome", "approvals", "roles", "chain", "window", "trace": [{"rule", "matched", "why"}]}`.
    static func json(_ evaluation: PolicyEvaluation) -> JSONValue {
        let applied = evaluation.applied
        var window: JSONValue = .null
        var chain: JSONValue = .null
        if case .notify(let seconds)? = applied?.then { window = .number(seconds) }
        if let name = applied?.chainName { chain = .string(name) }
        return .object([
            "policy": applied.map { .string($0.name) } ?? .null,
            "outcome": .string(evaluation.outcome),
            "approvals": .number(Double(applied?.requiredApprovals ?? 1)),
            "roles": .array((applied?.roleNames ?? []).map(JSONValue.string)),
            "chain": chain,
            "window": window,
            "trace": .array(evaluation.steps.map { step in
                .object(["rule": .string(step.rule), "matched": .bool(step.skipped == nil), "why": step.skipped.map(JSONValue.string) ?? .null])
            }),
        ])
    }
}
