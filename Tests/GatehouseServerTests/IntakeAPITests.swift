import ApprovalCore
import Foundation
@testable import GatehouseServer
import ServerTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@Suite("Intake API")
struct IntakeAPITests {
    @Test("creating a request stores it pending, bound to its payload digest, and audits it")
    func createStoresPendingApproval() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(
                key: env.requestKey,
                extra: #","risk":"high","reasoning":"fixes checkout","requester":"agent:deploy-bot","gate":"deploy-prod","expires_in":600"#)
            #expect(created.status == .created)
            #expect(created["status"] == .string("pending"))
            #expect(created["risk"] == .string("high"))
            #expect(created["gate"] == .string("deploy-prod"))
            #expect(created["decision"] == .null)
            #expect(created.id.rawValue.hasPrefix("apr_"))
            let payload = JSONValue.object(#"{"service":"api","environment":"production","commit":"4f2a9c1"}"#)
            #expect(created["payload_sha256"] == .string(CanonicalJSON.sha256(of: payload)))
            #expect(created["created_at"] == .string(RFC3339.string(from: env.clock.now)))
            #expect(created["expires_at"] == .string(RFC3339.string(from: env.clock.now.addingTimeInterval(600))))

            let fetched = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(fetched.status == .ok)
            #expect(fetched.json == created.json)
        }
        let audit = try await env.database.auditEntries(approvalID: ApprovalID(rawValue: "x"))
        #expect(audit.isEmpty)
        let kinds = try await env.database.auditEntries().map(\.kind)
        #expect(kinds.contains("created"))
    }

    @Test("a request that names no requester is filed as the key's person, else the key's name; policies see the same")
    func requesterDefaultsToTheKey() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        _ = try await env.database.changePolicies(by: "cli:test") { _ in
            PolicySet(rules: [PolicyRule(name: "agents-quiet", when: PolicyCondition(requester: "agent"), then: .notify(window: 600))])
        }
        let personal = try await env.database.createKey(name: "carol-laptop", scope: .request, boundTo: "carol")
        try await env.application().test(.live) { client in
            let unnamed = try await client.createApproval(key: env.requestKey)
            #expect(unnamed["requester"] == .string("agent"))
            #expect(unnamed["policy"] == .string("agents-quiet"))
            let named = try await client.createApproval(key: env.requestKey, extra: #","requester":"pipeline:gitlab/7""#)
            #expect(named["requester"] == .string("pipeline:gitlab/7"))
            #expect(named["policy"] == .null)
            let bound = try await client.createApproval(key: personal)
            #expect(bound["requester"] == .string("carol"))
            let evaluated = try await client.call(
                .post, "/v1/policy/evaluate", key: env.requestKey, body: #"{"action":"Deploy","payload":{}}"#)
            #expect(evaluated["policy"] == .string("agents-quiet"))
            let asOther = try await client.call(
                .post, "/v1/policy/evaluate", key: env.otherRequestKey, body: #"{"action":"Deploy","payload":{}}"#)
            #expect(asOther["policy"] == .null)
        }
    }

    @Test("unknown fields are ignored")
    func unknownFieldsIgnored() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","colour":"blue""#)
            #expect(created.status == .created)
            #expect(created["colour"] == nil)
        }
    }

    @Test(
        "bad input gets the contract's error and changes nothing",
        arguments: [
            (#"{"action":"x","payload":"#, 400, "malformed_json"),
            (#"[1,2]"#, 400, "malformed_json"),
            ("", 400, "malformed_json"),
            (#"{"payload":{}}"#, 422, "invalid_field"),
            (#"{"action":"x"}"#, 422, "invalid_field"),
            (#"{"action":42,"payload":{}}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":[1]}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":"text"}"#, 422, "invalid_field"),
            (#"{"action":"   ","payload":{}}"#, 422, "invalid_field"),
            (#"{"action":"\#(String(repeating: "a", count: 151))","payload":{}}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":{},"risk":"extreme"}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":{},"expires_in":59}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":{},"expires_in":2592001}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":{},"expires_in":"600"}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":{},"expires_in":60.5}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":{},"callback_url":"ftp://example.com/x"}"#, 422, "invalid_field"),
            (#"{"action":"x","payload":{},"gate":"Deploy Prod"}"#, 422, "invalid_field"),
        ])
    func badInputRefused(body: String, status: Int, code: String) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let response = try await client.call(.post, "/v1/approvals", key: env.requestKey, body: body)
            #expect(response.status.code == status)
            #expect(response.errorCode == code)
            #expect(response["error"]?["message"]?.stringValue?.isEmpty == false)
        }
        #expect(try await env.database.countsByStatus().isEmpty)
    }

    @Test("a payload with a duplicate member name is refused with a message that says so")
    func duplicateNameExplained() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let response = try await client.call(
                .post, "/v1/approvals", key: env.requestKey, body: #"{"action":"x","payload":{"replicas":1,"replicas":100}}"#)
            #expect(response.status == .badRequest)
            #expect(response["error"]?["message"]?.stringValue?.contains(#"duplicate member name "replicas""#) == true)
        }
        #expect(try await env.database.countsByStatus().isEmpty)
    }

    @Test("a payload number that JSON cannot carry exactly gets 422 naming its path, and nothing is stored")
    func inexactNumberRefused() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            for (payload, path) in [
                (#"{"amount":12345678901234567891}"#, "payload.amount"),
                (#"{"transfer":{"legs":[{"cents":1},{"cents":9007199254740993}]}}"#, "payload.transfer.legs[1].cents"),
                (#"{"rate":0.30000000000000000001}"#, "payload.rate"),
            ] {
                let response = try await client.call(
                    .post, "/v1/approvals", key: env.requestKey, body: #"{"action":"Pay","payload":\#(payload)}"#)
                #expect(response.status == .unprocessableContent)
                #expect(response.errorCode == "invalid_field")
                let message = response["error"]?["message"]?.stringValue ?? ""
                #expect(message.contains("`\(path)`"), "\(message)")
                #expect(message.contains("send it as a string"))
            }
            // Big identifiers as strings are fine, and the largest safe integer is exact.
            let strings = try await client.createApproval(key: env.requestKey, payload: #"{"amount":"12345678901234567891","n":9007199254740991}"#)
            #expect(strings.status == .created)
            #expect(strings["payload"]?["amount"] == .string("12345678901234567891"))
        }
        #expect(try await env.database.countsByStatus() == [.pending: 1])
        let created = try await env.database.auditEntries().filter { $0.kind == "created" }
        #expect(created.count == 1)
    }

    @Test("an action of exactly 150 characters is accepted")
    func actionAtLimitAccepted() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let response = try await client.createApproval(key: env.requestKey, action: String(repeating: "é", count: 150))
            #expect(response.status == .created)
        }
    }

    @Test("a body over 1 MiB gets 413 and stores nothing")
    func oversizedBodyRefused() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let big = String(repeating: "x", count: (1 << 20) + 10)
            let response = try await client.call(.post, "/v1/approvals", key: env.requestKey, body: #"{"action":"x","payload":{"blob":"\#(big)"}}"#)
            #expect(response.status == .contentTooLarge)
            #expect(response.errorCode == "body_too_large")
        }
        #expect(try await env.database.countsByStatus().isEmpty)
    }

    @Test("a missing, unknown or revoked key gets 401 and nothing else, and is audited, one entry per source and reason with its count")
    func badKeysRefused() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let doomed = try await env.database.createKey(name: "doomed", scope: .admin)
        try await env.database.revokeKey(name: "doomed")
        try await env.application().test(.live) { client in
            for key in [nil, "gh_not-a-real-key", doomed] {
                let response = try await client.createApproval(key: key ?? "")
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "unauthorized")
            }
            let viaHeader = try await client.call(
                .get, "/v1/approvals", body: nil, headers: [HTTPField.Name("X-Api-Key")!: env.requestKey])
            #expect(viaHeader.status == .ok)
        }
        #expect(try await env.database.countsByStatus().isEmpty)
        // Written when the service stopped (else at the end of the minute): one entry per reason from this source.
        let refusals = try await env.database.auditEntries().filter { $0.kind == "auth_refused" }
        #expect(refusals.map { $0.details["reason"] } == [.string("missing"), .string("unknown_or_revoked")])
        #expect(refusals.map { $0.details["count"] } == [.number(1), .number(2)])
        #expect(refusals.allSatisfy { $0.details["source"] == .string("127.0.0.1") })
        let log = try await env.database.auditEntries().map(AuditEntryText.init).map(\.text).joined()
        #expect(!log.contains(doomed))
    }

    @Test("every answer carries X-Request-Id: the caller's when sent, a fresh one otherwise, refusals included")
    func requestIDOnEveryAnswer() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let fresh = try #require(created.headers[.requestID])
            #expect(!fresh.isEmpty)
            let another = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(another.headers[.requestID] != fresh)

            let echoed = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey, headers: [.requestID: "ci-job-42"])
            #expect(echoed.headers[.requestID] == "ci-job-42")
            let notFound = try await client.call(.get, "/v1/approvals/apr_doesnotexist", key: env.requestKey, headers: [.requestID: "ci-job-43"])
            #expect(notFound.status == .notFound)
            #expect(notFound.headers[.requestID] == "ci-job-43")
            let unauthorized = try await client.call(.get, "/v1/approvals", key: "gh_wrong", headers: [.requestID: "ci-job-44"])
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.errorCode == "unauthorized")
            #expect(unauthorized.headers[.requestID] == "ci-job-44")
            let malformed = try await client.call(.post, "/v1/approvals", key: env.requestKey, body: "{", headers: [.requestID: "ci-job-45"])
            #expect(malformed.status == .badRequest)
            #expect(malformed.headers[.requestID] == "ci-job-45")
        }
    }

    @Test("an unknown id is 404, and another key's approval looks the same to a request key")
    func unknownAndForeignIDsAreNotFound() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let unknown = try await client.call(.get, "/v1/approvals/apr_doesnotexist", key: env.requestKey)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "not_found")

            let mine = try await client.createApproval(key: env.requestKey)
            let foreign = try await client.call(.get, "/v1/approvals/\(mine.id)", key: env.otherRequestKey)
            #expect(foreign.status == .notFound)
            let cancel = try await client.call(.post, "/v1/approvals/\(mine.id)/cancel", key: env.otherRequestKey)
            #expect(cancel.status == .notFound)
            let lead = try await client.call(.get, "/v1/approvals/\(mine.id)", key: env.decideKey)
            #expect(lead.status == .ok)
        }
        let refused = try await env.database.auditEntries().filter { $0.kind == "request_refused" }
        #expect(refused.count == 3)
    }

    @Test("the same Idempotency-Key and body return the same approval; another body is a conflict")
    func idempotency() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let body = #"{"action":"Deploy","payload":{"a":1,"b":2}}"#
            let reordered = #"{"payload":{"b":2,"a":1},"action":"Deploy"}"#
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "job-77"]
            let first = try await client.call(.post, "/v1/approvals", key: env.requestKey, body: body, headers: headers)
            let again = try await client.call(.post, "/v1/approvals", key: env.requestKey, body: reordered, headers: headers)
            #expect(first.status == .created)
            #expect(again.status == .ok)
            #expect(again.id == first.id)
            let other = try await client.call(
                .post, "/v1/approvals", key: env.requestKey, body: #"{"action":"Deploy","payload":{"a":2}}"#, headers: headers)
            #expect(other.status == .conflict)
            #expect(other.errorCode == "idempotency_conflict")
            // Keys are per API key: another key may use the same idempotency key for its own request.
            let elsewhere = try await client.call(.post, "/v1/approvals", key: env.otherRequestKey, body: body, headers: headers)
            #expect(elsewhere.status == .created)
            #expect(elsewhere.id != first.id)
        }
        #expect(try await env.database.countsByStatus()[.pending] == 2)
    }

    @Test("listing is newest first, filtered, and paginated with a cursor; a request key lists only its own")
    func listPaginates() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            var ids: [ApprovalID] = []
            for n in 0..<5 {
                ids.append(try await client.createApproval(key: env.requestKey, action: "Job \(n)").id)
            }
            _ = try await client.createApproval(key: env.otherRequestKey, action: "Not yours")
            _ = try await client.call(.post, "/v1/approvals/\(ids[0])/cancel", key: env.requestKey)

            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.call(
                    .get, "/v1/approvals?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), key: env.requestKey)
                #expect(page.status == .ok)
                guard case .array(let items)? = page["approvals"] else { Issue.record("no array"); return }
                #expect(items.count <= 2)
                seen += items.compactMap { $0["id"]?.stringValue }
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(seen == ids.reversed().map(\.rawValue))

            let pending = try await client.call(.get, "/v1/approvals?status=pending", key: env.decideKey)
            if case .array(let items)? = pending["approvals"] { #expect(items.count == 5) } else { Issue.record("no array") }
            let cancelled = try await client.call(.get, "/v1/approvals?status=cancelled", key: env.requestKey)
            if case .array(let items)? = cancelled["approvals"] { #expect(items.count == 1) } else { Issue.record("no array") }

            // Empty parameters, as in the route's template, mean "not given".
            let blank = try await client.call(.get, "/v1/approvals?status=&gate=&limit=&cursor=", key: env.requestKey)
            #expect(blank.status == .ok)
            if case .array(let items)? = blank["approvals"] { #expect(items.count == 5) } else { Issue.record("no array") }

            let badStatus = try await client.call(.get, "/v1/approvals?status=maybe", key: env.requestKey)
            #expect(badStatus.status == .badRequest)
            let badLimit = try await client.call(.get, "/v1/approvals?limit=0", key: env.requestKey)
            #expect(badLimit.status == .badRequest)
            let badCursor = try await client.call(.get, "/v1/approvals?cursor=zzz", key: env.requestKey)
            #expect(badCursor.status == .badRequest)
        }
    }

    @Test("healthz, readyz and metrics answer")
    func healthAndMetrics() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            #expect(try await client.call(.get, "/healthz").status == .ok)
            #expect(try await client.call(.get, "/readyz").status == .ok)
            _ = try await client.createApproval(key: env.requestKey)
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains(#"gatehouse_approvals{status="pending"} 1"#))
            #expect(text.contains(#"gatehouse_http_requests_total{route="/v1/approvals",method="POST",status="201"} 1"#))
            #expect(text.contains("gatehouse_http_request_duration_seconds_bucket"))
            #expect(text.contains("gatehouse_outbox_backlog"))
            #expect(text.contains("gatehouse_time_to_decision_seconds"))
        }
    }
}

/// An audit entry flattened to text, to search it for things that must never be there.
struct AuditEntryText {
    let text: String
    init(_ entry: AuditEntry) {
        text = [entry.kind, entry.actor, CanonicalJSON.serialize(entry.details), entry.approvalID ?? ""].joined(separator: " ")
    }
}
