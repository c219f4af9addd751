import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import Storage
import Testing

/// Keys are identities: their requests are theirs alone, a name used again is a stranger, only the key that filed a
/// request (or an admin key) uses up its approval, and a key created for one person decides as that person.
@Suite("Key identity and who may decide")
struct KeyIdentityTests {
    static func approve(_ client: some TestClientProtocol, _ id: ApprovalID, key: String, as name: String? = "carol") async throws -> JSONResponse {
        let body = name.map { #"{"outcome":"approve","as":"\#($0)"}"# } ?? #"{"outcome":"approve"}"#
        return try await client.call(.post, "/v1/approvals/\(id)/decision", key: key, body: body)
    }

    @Test("a revoked key's name, made again, is a stranger to the old key's requests: no reading, verifying or reusing its idempotency keys")
    func reusedNameIsAStranger() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let first = try await env.database.createKey(name: "deployer", scope: .request)
        let payload = #"{"service":"api"}"#
        let old = try await env.application().test(.live) { client in
            let created = try await client.call(
                .post, "/v1/approvals", key: first, body: #"{"action":"Deploy","payload":\#(payload)}"#,
                headers: [.idempotencyKey: "release-42"])
            _ = try await Self.approve(client, created.id, key: env.decideKey)
            return created.id
        }
        try await env.database.revokeKey(name: "deployer", by: "cli:test")
        let second = try await env.database.createKey(name: "deployer", scope: .request)
        try await env.application().test(.live) { client in
            #expect(try await client.call(.get, "/v1/approvals/\(old)", key: second).status == .notFound)
            let verify = try await client.call(
                .post, "/v1/approvals/\(old)/verify", key: second, body: #"{"payload":\#(payload),"consume":true}"#)
            #expect(verify.status == .notFound)
            let list = try await client.call(.get, "/v1/approvals", key: second)
            #expect(list["approvals"] == .array([]))
            // The same idempotency key under the new key files a new request, not the old one.
            let again = try await client.call(
                .post, "/v1/approvals", key: second, body: #"{"action":"Deploy","payload":\#(payload)}"#,
                headers: [.idempotencyKey: "release-42"])
            #expect(again.status == .created)
            #expect(again.id != old)
        }
        #expect(try await env.database.approval(old)?.consumedAt == nil)
    }

    @Test("only the key that filed a request, or an admin key, verifies and consumes it; to a decide key it is unknown")
    func onlyTheFilerConsumes() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, payload: #"{"n":1}"#)
            _ = try await Self.approve(client, created.id, key: env.adminKey)
            let uri = "/v1/approvals/\(created.id)/verify"
            let byLead = try await client.call(.post, uri, key: env.decideKey, body: #"{"payload":{"n":1},"consume":true}"#)
            #expect(byLead.status == .notFound)
            // It may still read it, as the contract gives decide keys.
            #expect(try await client.call(.get, "/v1/approvals/\(created.id)", key: env.decideKey).status == .ok)
            let byOther = try await client.call(.post, uri, key: env.otherRequestKey, body: #"{"payload":{"n":1}}"#)
            #expect(byOther.status == .notFound)
            let byAdmin = try await client.call(.post, uri, key: env.adminKey, body: #"{"payload":{"n":1}}"#)
            #expect(byAdmin.status == .ok)
            let byOwner = try await client.call(.post, uri, key: env.requestKey, body: #"{"payload":{"n":1},"consume":true}"#)
            #expect(byOwner.status == .ok)
        }
        #expect(try await env.database.auditEntries().filter { $0.kind == "consumed" }.map(\.actor) == ["key:agent"])
        let refused = try await env.database.auditEntries().filter { $0.kind == "request_refused" }
        #expect(refused.count == 2)
        #expect(refused.allSatisfy { $0.details["reason"] == .string("not_found") })
    }

    @Test("a key created for one person decides as them: without `as`, or with their name however written; another name is refused and audited")
    func boundKey() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let alice = try await env.database.createKey(name: "alice-terminal", scope: .decide, boundTo: "Alice")
        try await env.application().test(.live) { client in
            let first = try await client.createApproval(key: env.requestKey)
            let asBob = try await Self.approve(client, first.id, key: alice, as: "bob")
            #expect(asBob.status == .forbidden)
            #expect(asBob.errorCode == "forbidden")
            #expect(asBob["error"]?["message"]?.stringValue == "This key decides for Alice only; leave `as` out, or name them.")
            let plain = try await Self.approve(client, first.id, key: alice, as: nil)
            #expect(plain.status == .ok)
            #expect(plain["decision"]?["by_name"] == .string("Alice"))
            #expect(plain["decision"]?["by"] == .string("key:alice-terminal"))
            let second = try await client.createApproval(key: env.requestKey)
            #expect(try await Self.approve(client, second.id, key: alice, as: "  ALICE ").status == .ok)
            // An unbound key still needs `as`.
            let third = try await client.createApproval(key: env.requestKey)
            #expect(try await Self.approve(client, third.id, key: env.decideKey, as: nil).status == .unprocessableContent)
        }
        let refused = try await env.database.auditEntries().filter { $0.kind == "request_refused" }
        #expect(refused.map { $0.details["reason"] } == [.string("forbidden")])
        let created = try await env.database.auditEntries().filter { $0.kind == "key_created" }.last
        #expect(created?.details["for"] == .string("Alice"))
    }

    @Test("the requester cannot approve their own request by spelling their name another way", arguments: [
        " alice", "Alice", "ALICE ", "ａｌｉｃｅ", "alice\n",
    ])
    func selfApprovalByAnotherSpelling(_ name: String) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","requester":"alice""#)
            let body = try String(data: JSONEncoder().encode(["outcome": "approve", "as": name]), encoding: .utf8)!
            let decided = try await client.call(.post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: body)
            #expect(decided.status == .forbidden)
            #expect(decided.errorCode == "self_approval")
        }
    }
}
