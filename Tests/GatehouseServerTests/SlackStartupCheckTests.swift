import ApprovalCore
import DomainTestSupport
import Foundation
@testable import GatehouseServer
import GatehouseTestSupport
import HummingbirdTesting
import Logging
import ServerTestSupport
import Testing

/// The token check at start: one plain line for each thing wrong, and the service serving all the while.
@Suite("Slack: the startup check of the token")
struct SlackStartupCheckTests {
    /// Runs the application against `fake` with `configure`d settings, until `done` holds of the log lines.
    static func run(
        _ fake: FakeSlackWebAPI, channel: String = "#approvals", token: String? = nil,
        until done: @escaping @Sendable ([JSONValue]) -> Bool, then body: @escaping @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void = { _, _ in }
    ) async throws -> [JSONValue] {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lines = RequestLogTests.Lines()
        let sink = LogSink { lines.append($0) }
        let logger = Logger(label: "gatehouse") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        var configuration = env.slackConfiguration(fake, channel: channel)
        if let token { configuration.slackBotToken = token }
        let app = buildApplication(
            configuration: configuration,
            dependencies: GatehouseDependencies(database: env.database, clock: env.clock, logger: logger, longPolls: env.longPolls, slackPacing: 0))
        try await app.test(.live) { client in
            try await withTimeout { try await DomainTestSupport.waitUntil([lines.changes, fake.changes]) { done(try lines.objects()) } }
            try await body(env, client)
        }
        return try lines.objects()
    }

    static func messages(_ lines: [JSONValue]) -> [String] { lines.compactMap { $0["msg"]?.stringValue } }

    @Test("a good token with every scope, in the channel: one notice naming the bot")
    func allGood() async throws {
        let fake = try await FakeSlackWebAPI.start()
        let lines = try await Self.run(fake, channel: "C0APPROVALS", until: { Self.messages($0).contains("Slack token checked") })
        let checked = try #require(lines.first { $0["msg"] == .string("Slack token checked") })
        #expect(checked["bot_user"] == .string("U0GATEBOT"))
        #expect(lines.allSatisfy { $0["level"] != .string("error") && $0["level"] != .string("warning") })
        #expect(fake.calls("conversations.info").first?["channel"]?.stringValue == "C0APPROVALS")
        await fake.stop()
    }

    @Test("a token Slack refuses is an error that says so, never the token; the service still answers")
    func wrongToken() async throws {
        let fake = try await FakeSlackWebAPI.start()
        let token = "xoxb-not-the-right-one-123"
        let lines = try await Self.run(
            fake, token: token, until: { Self.messages($0).contains { $0.contains("Slack refuses the bot token") } },
            then: { env, client in
                let health = try await client.call(.get, "/healthz")
                #expect(health.status == .ok)
                let created = try await client.createApproval(key: env.requestKey)
                #expect(created.status == .created)
            })
        let refusal = try #require(lines.first { Self.messages([$0]).first?.contains("Slack refuses the bot token") == true })
        #expect(refusal["level"] == .string("error"))
        #expect(Self.messages([refusal]).first?.contains("invalid_auth") == true)
        #expect(!CanonicalJSON.serialize(.array(lines)).contains(token))
        await fake.stop()
    }

    @Test("a missing scope is named, with what to do; a bot outside the channel is told to be invited")
    func missingScopeAndChannel() async throws {
        let fake = try await FakeSlackWebAPI.start()
        fake.setScopes(["chat:write", "commands", "users:read", "im:write"])
        fake.setMembership([])
        let lines = try await Self.run(
            fake, channel: "C0APPROVALS",
            until: { lines in Self.messages(lines).contains { $0.contains("lacks scopes") } && Self.messages(lines).contains { $0.contains("not in the approvals channel") } })
        let scopes = try #require(lines.first { Self.messages([$0]).first?.contains("lacks scopes") == true })
        #expect(Self.messages([scopes]).first?.hasSuffix("chat:write.public, usergroups:read") == true)
        #expect(scopes["hint"]?.stringValue?.contains("reinstall") == true)
        let channel = try #require(lines.first { Self.messages([$0]).first?.contains("not in the approvals channel") == true })
        #expect(channel["hint"]?.stringValue?.contains("/invite") == true)
        #expect(!Self.messages(lines).contains("Slack token checked"))
        await fake.stop()
    }

    @Test("when Slack cannot be reached the check waits on the clock and tries again; a channel given by name is not checked")
    func retries() async throws {
        let fake = try await FakeSlackWebAPI.start()
        fake.fail("auth.test", with: .serverError, times: 1)
        let lines = try await Self.run(
            fake, until: { Self.messages($0).contains("cannot check the Slack token yet; trying again") },
            then: { env, _ in
                env.clock.advance(by: 60)
                _ = try await fake.waitForCalls("auth.test", count: 2)
            })
        #expect(lines.first { $0["msg"] == .string("cannot check the Slack token yet; trying again") }?["retry_in_s"] == .number(60))
        #expect(fake.calls("conversations.info").isEmpty)
        await fake.stop()
    }

    @Test("the scopes checked are the bot scopes of the app manifest")
    func scopesMatchTheManifest() throws {
        let manifest = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("manifests/slack-app.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        let bot = try #require(text.components(separatedBy: "    bot:\n").last?.components(separatedBy: "settings:").first)
        let scopes = bot.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- ") ? String(trimmed.dropFirst(2)) : nil
        }
        #expect(scopes == SlackStartupCheck.requiredScopes)
        #expect(SlackStartupCheck.isChannelID("C0APPROVALS"))
        #expect(!SlackStartupCheck.isChannelID("#approvals"))
    }
}
