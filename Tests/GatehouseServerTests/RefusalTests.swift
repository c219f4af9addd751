import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import Storage
import Testing

/// What an outsider can do: replay a captured Slack request (refused), hammer the API with bad keys (counted, summarised
/// in the audit log once a minute with no disk write each, and answered 429 past a limit).
@Suite("Replays and failed authentication")
struct RefusalTests {
    @Test("a signed Slack request is accepted once: sent again it is refused as a replay and changes nothing, after a restart too")
    func replayRefused() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        defer { Task { await fake.stop() } }
        var configuration = env.slackConfiguration(fake)
        configuration.admins = ["U0ADMIN"]
        let addMallory = SlackDriver.commandBody("admin add <@U0MALLORY>", by: "U0ADMIN")
        let signedAt = env.clock.now
        try await env.application(configuration: configuration).test(.live) { client in
            let slack = SlackDriver(env: env, client: client)
            #expect(try await slack.post("/slack/commands", body: addMallory, at: signedAt).status == .ok)
            #expect(try await env.database.storedAdmins() == ["U0MALLORY"])
            #expect(try await slack.command("admin remove <@U0MALLORY>", by: "U0ADMIN").hasPrefix("Removed"))
            let replay = try await slack.post("/slack/commands", body: addMallory, at: signedAt)
            #expect(replay.status == .unauthorized)
            #expect(replay.errorCode == "bad_signature")
            #expect(try await env.database.storedAdmins().isEmpty)
        }
        // A new process on the same file remembers what was accepted while it is within Slack's window.
        env.clock.advance(by: 120)
        let reopened = try env.reopenDatabase()
        defer { try? reopened.close() }
        try await env.application(configuration: configuration, database: reopened).test(.live) { client in
            let replay = try await SlackDriver(env: env, client: client).post("/slack/commands", body: addMallory, at: signedAt)
            #expect(replay.status == .unauthorized)
            #expect(try await reopened.storedAdmins().isEmpty)
        }
        let replays = try await env.database.auditEntries().filter {
            $0.kind == "signature_refused" && $0.details["reason"] == .string("replay")
        }
        #expect(replays.map { $0.details["count"] } == [.number(1), .number(1)])
    }

    @Test("failed authentication writes nothing per request; a source past the limit gets 429 with Retry-After, valid keys still work")
    func failuresCountedAndLimited() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        var configuration = GatehouseConfiguration()
        configuration.failedAuthLimit = 5
        try await env.application(configuration: configuration).test(.live) { client in
            let commitsBefore = env.database.commits.count
            for n in 0..<5 {
                let refused = try await client.call(.get, "/v1/approvals", key: "gh_wrong-\(n)")
                #expect(refused.status == .unauthorized)
            }
            // Five refusals, no write to the database.
            #expect(env.database.commits.count == commitsBefore)
            let limited = try await client.call(.get, "/v1/approvals", key: "gh_wrong-again")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            let retry = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...60).contains(retry))
            // A caller with a valid key from the same address is not held up.
            #expect(try await client.call(.get, "/v1/approvals", key: env.requestKey).status == .ok)
            // The next minute the source may try again, and its refusals of the last one are in the audit log.
            try await env.flushRefusals("auth_refused", expecting: 5)
            #expect(try await client.call(.get, "/v1/approvals", key: "gh_wrong-later").status == .unauthorized)
        }
        let entries = try await env.database.auditEntries().filter { $0.kind == "auth_refused" }
        #expect(entries.first?.details["count"] == .number(5))
        #expect(entries.first?.details["key_sha256_prefixes"]?.arrayCount == 5)
        #expect(entries.last?.details["count"] == .number(1))
    }
}

extension JSONValue {
    var arrayCount: Int? { if case .array(let items) = self { items.count } else { nil } }
}
