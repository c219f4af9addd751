import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import SlackAPI
import SlackBridge
import Storage
import Testing

/// Bodies as HumanLayer's Python SDK sends them: every optional field present as `null`, nested ones too.
enum HumanLayerBodies {
    static func functionCall(
        _ callID: String, run: String = "deploy-agent-x1", fn: String = "deploy",
        kwargs: String = #"{"service":"api","commit":"4f2a9c1"}"#
    ) -> String {
        #"{"run_id":"\#(run)","call_id":"\#(callID)","spec":{"fn":"\#(fn)","kwargs":\#(kwargs),"channel":null,"reject_options":null,"state":null},"status":null}"#
    }

    static func contact(_ callID: String, msg: String = "Which region should the new cluster go to?", options: String = "null") -> String {
        #"{"run_id":"infra-agent-7","call_id":"\#(callID)","spec":{"msg":"\#(msg)","subject":"Cluster region","channel":null,"response_options":\#(options),"state":null},"status":null}"#
    }

    static let regionOptions = #"[{"name":"eu","title":"Europe (Frankfurt)","description":"closest to most users","prompt_fill":null,"interactive":false},{"name":"other","title":"Somewhere else","description":null,"prompt_fill":"Put it in ","interactive":true}]"#
}

@Suite("HumanLayer-compatible API: function calls")
struct HumanLayerFunctionCallTests {
    static func withService(_ body: @escaping @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in try await body(env, client) }
    }

    @Test("a function call with explicit nulls is filed as an approval of fn with kwargs, and reads back pending")
    func createAndRead() async throws {
        try await Self.withService { env, client in
            let created = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall("call-1"))
            #expect(created.status == .created)
            #expect(created["run_id"] == .string("deploy-agent-x1"))
            #expect(created["call_id"] == .string("call-1"))
            #expect(created["spec"]?["fn"] == .string("deploy"))
            #expect(created["spec"]?["kwargs"] == .object(#"{"service":"api","commit":"4f2a9c1"}"#))
            #expect(created["status"]?["approved"] == .null)
            #expect(created["status"]?["comment"] == .null)
            let requestedAt = try #require(created["status"]?["requested_at"]?.stringValue)
            #expect(RFC3339.date(from: requestedAt) != nil)
            let id = try #require(created["gatehouse"]?["approval_id"]?.stringValue)

            let approval = try await client.call(.get, "/v1/approvals/\(id)", key: env.requestKey)
            #expect(approval["action"] == .string("deploy"))
            #expect(approval["payload"] == .object(#"{"service":"api","commit":"4f2a9c1"}"#))
            #expect(approval["requester"] == .string("agent:deploy-agent-x1"))
            #expect(approval["status"] == .string("pending"))

            let read = try await client.call(.get, "/humanlayer/v1/function_calls/call-1", key: env.requestKey)
            #expect(read.status == .ok)
            #expect(read["status"]?["approved"] == .null)
            #expect(read["run_id"] == .string("deploy-agent-x1"))
            let kinds = try await env.database.auditEntries().map(\.kind)
            #expect(kinds.filter { $0 == "created" }.count == 1)
        }
    }

    @Test("a repeated call_id is the same call; another body under it is a conflict; call_ids are per key")
    func idempotency() async throws {
        try await Self.withService { env, client in
            let first = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall("call-2"))
            // The same request without its null members is the same request.
            let again = try await client.call(
                .post, "/humanlayer/v1/function_calls", key: env.requestKey,
                body: #"{"run_id":"deploy-agent-x1","call_id":"call-2","spec":{"kwargs":{"commit":"4f2a9c1","service":"api"},"fn":"deploy"}}"#)
            #expect(again.status == .ok)
            #expect(again["gatehouse"]?["approval_id"] == first["gatehouse"]?["approval_id"])

            let conflict = try await client.call(
                .post, "/humanlayer/v1/function_calls", key: env.requestKey,
                body: HumanLayerBodies.functionCall("call-2", kwargs: #"{"service":"api","commit":"0000000"}"#))
            #expect(conflict.status == .conflict)
            #expect(conflict.errorCode == "idempotency_conflict")
            #expect(conflict["error"]?["message"]?.stringValue?.contains("call_id") == true)

            let otherKey = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.otherRequestKey, body: HumanLayerBodies.functionCall("call-2"))
            #expect(otherKey.status == .created)
            #expect(otherKey["gatehouse"]?["approval_id"] != first["gatehouse"]?["approval_id"])
            let count = try await env.database.list(ApprovalFilter(), limit: 10).approvals.count
            #expect(count == 2)
        }
    }

    @Test("respond approves through the decision use case; the call then reads approved")
    func respondApprove() async throws {
        try await Self.withService { env, client in
            _ = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall("call-3"))
            let responded = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-3/respond", key: env.decideKey,
                body: #"{"requested_at":null,"responded_at":null,"approved":true,"comment":"go ahead","reject_option_name":null,"slack_message_ts":null,"as":"alice"}"#)
            #expect(responded.status == .ok)
            #expect(responded["status"]?["approved"] == .bool(true))
            let read = try await client.call(.get, "/humanlayer/v1/function_calls/call-3", key: env.requestKey)
            #expect(read["status"]?["approved"] == .bool(true))
            #expect(read["status"]?["comment"] == .string("go ahead"))
            #expect(read["status"]?["responded_at"]?.stringValue != nil)
            let decided = try #require(try await env.database.auditEntries().first { $0.kind == "decided" })
            #expect(decided.actor == "key:lead")

            let twice = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-3/respond", key: env.decideKey, body: #"{"approved":false,"comment":"no"}"#)
            #expect(twice.status == .conflict)
            #expect(twice.errorCode == "already_decided")
        }
    }

    @Test("a rejection always carries a comment: the reason, or a sentence when none was given")
    func rejections() async throws {
        try await Self.withService { env, client in
            for id in ["call-4", "call-5"] {
                _ = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall(id))
            }
            let bare = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-4/respond", key: env.decideKey, body: #"{"approved":false,"comment":null}"#)
            #expect(bare.status == .ok)
            #expect(bare["status"]?["approved"] == .bool(false))
            #expect(bare["status"]?["comment"]?.stringValue == "Rejected by key:lead without a comment.")
            let reasoned = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-5/respond", key: env.decideKey,
                body: #"{"approved":false,"comment":"wrong commit","reject_option_name":"wrong_target","as":"bob"}"#)
            let read = try await client.call(.get, "/humanlayer/v1/function_calls/call-5", key: env.requestKey)
            #expect(reasoned["status"] == read["status"])
            #expect(read["status"]?["comment"] == .string("wrong commit"))
            #expect(read["status"]?["reject_option_name"] == .string("wrong_target"))
            let approval = try await client.call(.get, "/v1/approvals/\(read["gatehouse"]?["approval_id"]?.stringValue ?? "")", key: env.requestKey)
            #expect(approval["decision"]?["reason"] == .string("wrong commit"))
            #expect(approval["decision"]?["by_name"] == .string("bob"))
        }
    }

    @Test("a modification answers approved: false with the approved arguments in the comment; expiry and cancel refuse too")
    func modifiedExpiredCancelled() async throws {
        try await Self.withService { env, client in
            for id in ["call-m", "call-e", "call-c"] {
                _ = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall(id))
            }
            let modifiedID = try #require(try await client.call(.get, "/humanlayer/v1/function_calls/call-m", key: env.requestKey)["gatehouse"]?["approval_id"]?.stringValue)
            let modify = try await client.call(
                .post, "/v1/approvals/\(modifiedID)/decision", key: env.decideKey,
                body: #"{"outcome":"modify","as":"carol","payload":{"service":"api","commit":"4f2a9c1","canary":true}}"#)
            #expect(modify["status"] == .string("modified"))
            let modified = try await client.call(.get, "/humanlayer/v1/function_calls/call-m", key: env.requestKey)
            #expect(modified["status"]?["approved"] == .bool(false))
            let comment = try #require(modified["status"]?["comment"]?.stringValue)
            #expect(comment.contains(#"{"canary":true,"commit":"4f2a9c1","service":"api"}"#))
            #expect(comment.contains("carol"))
            #expect(comment.contains("Run it with these arguments instead, never with the original ones."))

            let cancelledID = try #require(try await client.call(.get, "/humanlayer/v1/function_calls/call-c", key: env.requestKey)["gatehouse"]?["approval_id"]?.stringValue)
            _ = try await client.call(.post, "/v1/approvals/\(cancelledID)/cancel", key: env.requestKey)
            let cancelled = try await client.call(.get, "/humanlayer/v1/function_calls/call-c", key: env.requestKey)
            #expect(cancelled["status"]?["approved"] == .bool(false))
            #expect(cancelled["status"]?["comment"]?.stringValue?.contains("cancelled") == true)

            env.clock.advance(by: 86_400 + 1)
            try await env.service.escalateDue(asOf: env.clock.now)
            let expired = try await client.call(.get, "/humanlayer/v1/function_calls/call-e", key: env.requestKey)
            #expect(expired["status"]?["approved"] == .bool(false))
            #expect(expired["status"]?["comment"]?.stringValue?.contains("expired") == true)
            #expect(expired["gatehouse"]?["status"] == .string("expired"))
        }
    }

    @Test("policies apply to function calls as to any request: under a quorum of two, the first approval leaves it pending")
    func quorum() async throws {
        try await Self.withService { env, client in
            let pair = PolicyRule(name: "pair-deploys", when: PolicyCondition(action: "deploy"), then: .require(approvals: 2, roles: [], chain: nil))
            _ = try await env.database.changePolicies(by: "cli:test") { _ in PolicySet(roles: [], rules: [pair]) }
            let created = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall("call-q"))
            let id = try #require(created["gatehouse"]?["approval_id"]?.stringValue)
            let approval = try await client.call(.get, "/v1/approvals/\(id)", key: env.requestKey)
            #expect(approval["policy"] == .string("pair-deploys"))

            let first = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-q/respond", key: env.decideKey, body: #"{"approved":true,"as":"alice"}"#)
            #expect(first.status == .ok)
            #expect(first["status"]?["approved"] == .null)
            let again = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-q/respond", key: env.decideKey, body: #"{"approved":true,"as":"alice"}"#)
            #expect(again.errorCode == "already_voted")
            let second = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-q/respond", key: env.adminKey, body: #"{"approved":true,"as":"bob"}"#)
            #expect(second["status"]?["approved"] == .bool(true))
            let votes = try await env.database.approval(ApprovalID(rawValue: id))?.votes.map(\.by)
            #expect(votes == ["key:lead", "key:root"])
        }
    }

    @Test("the pending list holds pending calls only, and a request key sees its own")
    func pendingList() async throws {
        try await Self.withService { env, client in
            _ = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall("call-p1"))
            _ = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall("call-p2"))
            _ = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.otherRequestKey, body: HumanLayerBodies.functionCall("call-p3"))
            _ = try await client.createApproval(key: env.requestKey)  // not a function call
            _ = try await client.call(.post, "/humanlayer/v1/agent/function_calls/call-p1/respond", key: env.decideKey, body: #"{"approved":true}"#)

            func callIDs(_ key: String) async throws -> [String] {
                let list = try await client.call(.get, "/humanlayer/v1/agent/function_calls/pending", key: key)
                #expect(list.status == .ok)
                return (list.json?.arrayValue ?? []).compactMap { $0["call_id"]?.stringValue }
            }
            #expect(try await callIDs(env.decideKey) == ["call-p2", "call-p3"])
            #expect(try await callIDs(env.requestKey) == ["call-p2"])
            #expect(try await callIDs(env.otherRequestKey) == ["call-p3"])
        }
    }

    @Test("keys and scopes as in the API: no key 401, a request key cannot respond, others' calls are unknown; errors are JSON")
    func refusals() async throws {
        try await Self.withService { env, client in
            let anonymous = try await client.call(.post, "/humanlayer/v1/function_calls", body: HumanLayerBodies.functionCall("call-a"))
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.errorCode == "unauthorized")
            _ = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: HumanLayerBodies.functionCall("call-a"))
            let selfRespond = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-a/respond", key: env.requestKey, body: #"{"approved":true}"#)
            #expect(selfRespond.status == .forbidden)
            #expect(selfRespond.errorCode == "forbidden")
            let stranger = try await client.call(.get, "/humanlayer/v1/function_calls/call-a", key: env.otherRequestKey)
            #expect(stranger.status == .notFound)
            #expect(stranger.errorCode == "not_found")
            let unknown = try await client.call(.get, "/humanlayer/v1/function_calls/call-nobody", key: env.decideKey)
            #expect(unknown.status == .notFound)

            let malformed = try await client.call(.post, "/humanlayer/v1/function_calls", key: env.requestKey, body: #"{"run_id": "r", "#)
            #expect(malformed.status == .badRequest)
            #expect(malformed.errorCode == "malformed_json")
            let noFn = try await client.call(
                .post, "/humanlayer/v1/function_calls", key: env.requestKey, body: #"{"run_id":"r","call_id":"c","spec":{"fn":null,"kwargs":{}}}"#)
            #expect(noFn.status == .unprocessableContent)
            #expect(noFn["error"]?["message"]?.stringValue?.contains("spec.fn") == true)
            let badKwargs = try await client.call(
                .post, "/humanlayer/v1/function_calls", key: env.requestKey, body: #"{"run_id":"r","call_id":"c","spec":{"fn":"f","kwargs":[1]}}"#)
            #expect(badKwargs.status == .unprocessableContent)
            let noApproved = try await client.call(
                .post, "/humanlayer/v1/agent/function_calls/call-a/respond", key: env.decideKey, body: #"{"approved":null,"comment":"hm"}"#)
            #expect(noApproved.status == .unprocessableContent)
            let wrongMethod = try await client.call(.get, "/humanlayer/v1/function_calls", key: env.requestKey)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")

            // Nothing was filed or decided by any of it.
            let approvals = try await env.database.list(ApprovalFilter(), limit: 10).approvals
            #expect(approvals.count == 1)
            #expect(approvals.first?.status == .pending)
            let kinds = try await env.database.auditEntries().map(\.kind)
            #expect(kinds.contains("request_refused"))
        }
    }

    @Test("the HumanLayer routes stay out of the OpenAPI description, and each is listed for the 405 answers")
    func routesListed() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let document = try await client.call(.get, "/openapi.json")
            let paths = document["paths"]?.objectValue?.keys.map { $0 } ?? []
            #expect(!paths.isEmpty)
            #expect(!paths.contains { $0.contains("humanlayer") })
        }
        let routes = try await OpenAPITests.registeredRoutes(env).filter { $0.contains(" /humanlayer/") || $0.contains(" /api/") }
        #expect(routes.count == 10)
        #expect(routes == DocumentedRoutes.compatible.operations)
    }
}
