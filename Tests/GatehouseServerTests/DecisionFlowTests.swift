import ApprovalCore
import GatehouseCLI
import Foundation
import NIOCore
@testable import GatehouseServer
import ServerTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@Suite("Decisions, long-polls, cancel and verify")
struct DecisionFlowTests {
    @Test("a decision wakes a long-poll held by another task, which answers with the decided approval")
    func longPollWokenByDecision() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","requester":"agent:deploy-bot""#)
            async let polled = client.call(.get, "/v1/approvals/\(created.id)?wait=60", key: env.requestKey)
            // Decide only once the poll is registered, so the test proves the wake-up, not a late read.
            try await withTimeout { await env.longPolls.whenCount { $0 > 0 } }
            // A second connection: the test client's own is busy holding the poll.
            let decided = try await TestEnvironment.client(client.port, key: env.decideKey).call(
                "POST", "v1/approvals/\(created.id)/decision",
                body: .object(#"{"outcome":"approve","as":"alice","reason":"looks right"}"#))
            #expect(decided["status"] == .string("approved"))
            let answer = try await polled
            #expect(answer.status == .ok)
            #expect(answer["status"] == .string("approved"))
            #expect(answer["decision"]?["by"] == .string("key:lead"))
            #expect(answer["decision"]?["by_name"] == .string("alice"))
            #expect(answer["decision"]?["reason"] == .string("looks right"))
            #expect(answer["decision"]?["payload_sha256"] == created["payload_sha256"])
            #expect(env.longPolls.count == 0)
        }
    }

    @Test("a decision answers every held poll exactly once, each on its own connection, which then serves the next request")
    func manyPollsAnsweredOnceEach() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let pollers = 40
            var connections: [RawHTTPConnection] = []
            for _ in 0..<pollers {
                let connection = try await RawHTTPConnection.connect(port: client.port!)
                try await connection.sendGET("/v1/approvals/\(created.id)?wait=60", key: env.requestKey)
                connections.append(connection)
            }
            try await withTimeout { await env.longPolls.whenCount { $0 >= pollers } }

            let decided = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"bob","reason":"not today"}"#)
            #expect(decided["status"] == .string("rejected"))
            #expect(env.longPolls.count == 0)

            var requestIDs: Set<String> = []
            for connection in connections {
                let answer = try await withTimeout { try await connection.readAnswer() }
                #expect(answer.status == 200)
                #expect(answer.headers["content-type"] == "application/json; charset=utf-8")
                #expect(answer.headers["server"] == "gatehouse")
                #expect(answer.headers["date"]?.hasSuffix(" GMT") == true)
                if let id = answer.headers["x-request-id"] { requestIDs.insert(id) }
                let json = try JSONValue.parse(Data(answer.body.utf8))
                #expect(json["status"] == .string("rejected"))
                #expect(json["decision"]?["reason"] == .string("not today"))
                #expect(json == decided.json)
                // Exactly one answer: the next request on the connection gets its own.
                try await connection.sendGET("/healthz")
                let next = try await withTimeout { try await connection.readAnswer() }
                #expect(next.status == 200)
                #expect(next.body == #"{"status":"ok"}"#)
                #expect(connection.unreadBytes == 0)
                await connection.close()
            }
            #expect(requestIDs.count == pollers)
            // Each poll is counted once, as a 200 on the approval route.
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"gatehouse_http_requests_total{route="/v1/approvals/{id}",method="GET",status="200"} \#(pollers)"#))
        }
    }

    @Test("a long-poll that sees no decision answers pending when its wait runs out on the clock")
    func longPollTimesOut() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            async let polled = client.call(.get, "/v1/approvals/\(created.id)?wait=5", key: env.requestKey)
            try await withTimeout { await env.longPolls.whenCount { $0 > 0 } }
            env.clock.advance(by: 5)
            let answer = try await polled
            #expect(answer.status == .ok)
            #expect(answer["status"] == .string("pending"))
            let bad = try await client.call(.get, "/v1/approvals/\(created.id)?wait=61", key: env.requestKey)
            #expect(bad.status == .badRequest)
            #expect(bad.errorCode == "invalid_parameter")
        }
    }

    @Test("only decide and admin keys decide; the requester may not approve their own request; a second decision conflicts")
    func decisionRules() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","requester":"bob""#)
            let uri = "/v1/approvals/\(created.id)/decision"
            let byRequestKey = try await client.call(.post, uri, key: env.requestKey, body: #"{"outcome":"approve","as":"carol"}"#)
            #expect(byRequestKey.status == .forbidden)
            #expect(byRequestKey.errorCode == "forbidden")
            let selfApproval = try await client.call(.post, uri, key: env.decideKey, body: #"{"outcome":"approve","as":"bob"}"#)
            #expect(selfApproval.status == .forbidden)
            #expect(selfApproval.errorCode == "self_approval")
            let noAs = try await client.call(.post, uri, key: env.decideKey, body: #"{"outcome":"approve"}"#)
            #expect(noAs.status == .unprocessableContent)
            let badOutcome = try await client.call(.post, uri, key: env.decideKey, body: #"{"outcome":"maybe","as":"carol"}"#)
            #expect(badOutcome.status == .unprocessableContent)
            let stillPending = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(stillPending["status"] == .string("pending"))

            let rejected = try await client.call(.post, uri, key: env.adminKey, body: #"{"outcome":"reject","as":"carol","reason":"wrong commit"}"#)
            #expect(rejected.status == .ok)
            #expect(rejected["status"] == .string("rejected"))
            let again = try await client.call(.post, uri, key: env.decideKey, body: #"{"outcome":"approve","as":"dave"}"#)
            #expect(again.status == .conflict)
            #expect(again.errorCode == "already_decided")
            // Who decided, as the audit log writes it, with the name given.
            #expect(again["error"]?["message"]?.stringValue?.hasPrefix("It was already rejected by key:root (carol) at ") == true, "\(again)")
            let final = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(final["status"] == .string("rejected"))
        }
        let refused = try await env.database.auditEntries().filter { $0.kind == "decision_refused" }
        #expect(refused.map { $0.details["reason"] } == [.string("self_approval"), .string("already_decided")])
    }

    @Test("the key that filed a request cannot decide it, whatever name it acts as; another decide key can")
    func filingKeyCannotDecide() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.decideKey)
            let uri = "/v1/approvals/\(created.id)/decision"
            for name in ["alice", "lead"] {
                let own = try await client.call(.post, uri, key: env.decideKey, body: #"{"outcome":"approve","as":"\#(name)"}"#)
                #expect(own.status == .forbidden)
                #expect(own.errorCode == "self_approval")
            }
            let pending = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.decideKey)
            #expect(pending["status"] == .string("pending"))
            let other = try await client.call(.post, uri, key: env.adminKey, body: #"{"outcome":"approve","as":"carol"}"#)
            #expect(other.status == .ok)
            #expect(other["decision"]?["by"] == .string("key:root"))
        }
        let refused = try await env.database.auditEntries().filter { $0.kind == "decision_refused" }
        #expect(refused.map { $0.details["reason"] } == [.string("self_approval"), .string("self_approval")])
    }

    @Test("concurrent decisions: exactly one wins, the others get already_decided")
    func concurrentDecisions() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            // Separate connections, so the decisions really race inside the service.
            let codes = await withTaskGroup(of: String.self) { group in
                for n in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await TestEnvironment.client(client.port, key: env.decideKey).call(
                                "POST", "v1/approvals/\(created.id)/decision",
                                body: .object(#"{"outcome":"\#(n.isMultiple(of: 2) ? "approve" : "reject")","as":"user\#(n)"}"#))
                            return "ok"
                        } catch let failure as GatehouseClient.Failure {
                            return failure.code
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(codes.filter { $0 == "ok" }.count == 1)
            #expect(codes.filter { $0 == "already_decided" }.count == 7)
        }
        let decided = try await env.database.auditEntries().filter { $0.kind == "decided" }
        #expect(decided.count == 1)
    }

    @Test("the requester cancels a pending request; afterwards it is final")
    func cancel() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let cancelled = try await client.call(
                .post, "/v1/approvals/\(created.id)/cancel", key: env.requestKey, body: #"{"reason":"superseded"}"#)
            #expect(cancelled.status == .ok)
            #expect(cancelled["status"] == .string("cancelled"))
            #expect(cancelled["decision"]?["by"] == .string("key:agent"))
            #expect(cancelled["decision"]?["reason"] == .string("superseded"))
            let again = try await client.call(.post, "/v1/approvals/\(created.id)/cancel", key: env.requestKey)
            #expect(again.status == .conflict)
            let decide = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"x"}"#)
            #expect(decide.errorCode == "already_decided")
            #expect(decide["error"]?["message"]?.stringValue?.hasPrefix("It was cancelled by the requester at ") == true, "\(decide)")

            let other = try await client.createApproval(key: env.requestKey)
            let byLead = try await client.call(.post, "/v1/approvals/\(other.id)/cancel", key: env.decideKey)
            #expect(byLead.status == .forbidden)
            #expect(byLead.errorCode == "not_requester")
        }
    }

    @Test("verify: only an approved payload with the same digest passes, and consume makes it single-use")
    func verify() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, payload: #"{"service":"api","replicas":3}"#)
            let uri = "/v1/approvals/\(created.id)/verify"
            let early = try await client.call(.post, uri, key: env.requestKey, body: #"{"payload":{"service":"api","replicas":3}}"#)
            #expect(early.status == .conflict)
            #expect(early.errorCode == "not_approved")
            _ = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"alice"}"#)
            let mismatch = try await client.call(.post, uri, key: env.requestKey, body: #"{"payload":{"service":"api","replicas":30}}"#)
            #expect(mismatch.status == .conflict)
            #expect(mismatch.errorCode == "payload_mismatch")
            // Key order and number spelling do not matter: the digest is over the canonical form.
            let same = #"{"payload":{"replicas":3.0,"service":"api"},"consume":true}"#
            let ok = try await client.call(.post, uri, key: env.requestKey, body: same)
            #expect(ok.status == .ok)
            #expect(ok["ok"] == .bool(true))
            #expect(ok["approval"]?["consumed_at"]?.stringValue != nil)
            let reused = try await client.call(.post, uri, key: env.requestKey, body: same)
            #expect(reused.status == .conflict)
            #expect(reused.errorCode == "already_consumed")
            let foreign = try await client.call(.post, uri, key: env.otherRequestKey, body: same)
            #expect(foreign.status == .notFound)
            let noPayload = try await client.call(.post, uri, key: env.requestKey, body: #"{"consume":true}"#)
            #expect(noPayload.status == .unprocessableContent)
        }
        let kinds = try await env.database.auditEntries().map(\.kind)
        #expect(kinds.filter { $0 == "verified" }.count == 1)
        #expect(kinds.filter { $0 == "consumed" }.count == 1)
        #expect(kinds.filter { $0 == "verify_refused" }.count == 3)
    }

    @Test("verify refuses a number JSON cannot carry exactly (422), so no other integer verifies against an approval")
    func verifyRefusesInexactNumbers() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, payload: #"{"account":"12345678901234567891","cents":100}"#)
            _ = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"alice"}"#)
            let uri = "/v1/approvals/\(created.id)/verify"
            let sneaky = try await client.call(
                .post, uri, key: env.requestKey, body: #"{"payload":{"account":12345678901234567890,"cents":100},"consume":true}"#)
            #expect(sneaky.status == .unprocessableContent)
            #expect(sneaky["error"]?["message"]?.stringValue?.contains("`payload.account`") == true)
            let exact = try await client.call(
                .post, uri, key: env.requestKey, body: #"{"payload":{"account":"12345678901234567891","cents":100},"consume":true}"#)
            #expect(exact.status == .ok)
        }
        let kinds = try await env.database.auditEntries().map(\.kind)
        #expect(kinds.filter { $0 == "consumed" }.count == 1)
    }

    @Test("an approval past its deadline expires with nobody looking, and its long-poll is answered")
    func expiry() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","expires_in":60"#)
            let later = try await client.createApproval(key: env.requestKey, extra: #","expires_in":3600"#)
            env.clock.advance(by: 30)
            async let polled = client.call(.get, "/v1/approvals/\(created.id)?wait=60", key: env.requestKey)
            try await withTimeout { await env.longPolls.whenCount { $0 > 0 } }
            env.clock.advance(by: 30)
            let answer = try await polled
            #expect(answer["status"] == .string("expired"))
            #expect(answer["decision"]?["by"] == .string("system:timeout"))
            #expect(answer["decision"]?["outcome"] == .string("expired"))
            let untouched = try await client.call(.get, "/v1/approvals/\(later.id)", key: env.requestKey)
            #expect(untouched["status"] == .string("pending"))

            let verify = try await client.call(
                .post, "/v1/approvals/\(created.id)/verify", key: env.requestKey, body: #"{"payload":{}}"#)
            #expect(verify.errorCode == "expired")
            let decide = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"x"}"#)
            #expect(decide.errorCode == "already_decided")
        }
        let expired = try await env.database.auditEntries().filter { $0.kind == "expired" }
        #expect(expired.count == 1)
    }
}

@Suite("Long-poll registry")
struct LongPollsTests {
    @Test("releasing all waiters (at shutdown) answers each held poll at once with the current state")
    func releaseAllAnswersHeldPolls() async throws {
        let clock = TestClock()
        let longPolls = LongPolls(clock: clock)
        let approval = ApprovalRequest(action: "x", payload: .object([:])).approval(id: .random(), ownerKey: nil, at: clock.now)
        let held = Task {
            try await longPolls.wait(for: approval.id, until: clock.now.addingTimeInterval(60)) { approval }
        }
        try await withTimeout { await longPolls.whenCount { $0 > 0 } }
        longPolls.releaseAll()
        let answer = try await withTimeout { try await held.value }
        guard case .released = answer else {
            Issue.record("expected the poll to be released, got \(answer)")
            return
        }
        #expect(longPolls.count == 0)
    }
}
