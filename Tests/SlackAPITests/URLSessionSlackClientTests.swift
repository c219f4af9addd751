import Foundation
import GatehouseTestSupport
import SlackAPI
import Testing

@Suite("URLSession Slack client against a fake Slack")
struct URLSessionSlackClientTests {
    static let blocks: [Block] = [
        .section(text: .mrkdwn("*Deploy* to production"), blockID: "summary"),
        .actions(elements: [.button(ButtonElement(actionID: "approve", text: .plainText("Approve"), value: "v1:apr_1", style: .primary))]),
    ]

    @Test("a call Slack does not answer in time fails as a network error that says so, not with Foundation's error number")
    func timeoutIsWorded() async throws {
        try await SlackClientHarness.run { h in
            let slow = h.fake.hold("chat.postMessage")
            defer { slow.release() }
            // The session's own timeout (1 s here) is the one thing a test clock cannot stand in for.
            let client = h.client(timeout: 1)
            await #expect(throws: SlackAPIError.network("no answer within 1 s")) {
                try await client.postMessage(channel: "#approvals", text: "Deploy?", blocks: nil, threadTS: nil)
            }
        }
    }

    @Test("chat.postMessage sends JSON with charset and the bearer token, and returns channel ID and ts")
    func postMessage() async throws {
        try await SlackClientHarness.run { h in
            let posted = try await h.client.postMessage(channel: "#approvals", text: "Deploy?", blocks: Self.blocks, threadTS: nil)
            #expect(posted == PostedMessage(channel: "C0APPROVALS", ts: "1700000000.000100"))
            let call = try #require(h.fake.calls("chat.postMessage").first)
            #expect(call.httpMethod == "POST")
            #expect(call.contentType == "application/json; charset=utf-8")
            #expect(call.authorization == "Bearer \(SlackClientHarness.token)")
            #expect(call.query == nil)
            #expect(call["channel"] == .string("#approvals"))
            #expect(call["text"] == .string("Deploy?"))
            #expect(call["thread_ts"] == nil)
            #expect(try call["blocks"]?.decode([Block].self) == Self.blocks)
            #expect(call.error == nil)
            let stored = try #require(h.fake.message(channel: "C0APPROVALS", ts: posted.ts))
            #expect(stored.text == "Deploy?")
            #expect(stored.blocks == Self.blocks)

            let second = try await h.client.postMessage(channel: "approvals", text: "Reply", blocks: nil, threadTS: posted.ts)
            #expect(second == PostedMessage(channel: "C0APPROVALS", ts: "1700000000.000200"))
            let reply = try #require(h.fake.calls("chat.postMessage").last)
            #expect(reply["thread_ts"] == .string(posted.ts))
            #expect(reply["blocks"] == nil)
            #expect(h.fake.messages(in: "#approvals").map(\.ts) == ["1700000000.000100", "1700000000.000200"])
        }
    }

    @Test("chat.update sends JSON and replaces the stored message")
    func updateMessage() async throws {
        try await SlackClientHarness.run { h in
            let posted = try await h.client.postMessage(channel: "#approvals", text: "Deploy?", blocks: Self.blocks, threadTS: nil)
            let decided: [Block] = [.section(text: .mrkdwn("Approved by <@U1>"))]
            try await h.client.updateMessage(channel: posted.channel, ts: posted.ts, text: "Approved", blocks: decided)
            let call = try #require(h.fake.calls("chat.update").first)
            #expect(call.contentType == "application/json; charset=utf-8")
            #expect(call["channel"] == .string("C0APPROVALS"))
            #expect(call["ts"] == .string(posted.ts))
            #expect(call["text"] == .string("Approved"))
            let stored = try #require(h.fake.message(channel: posted.channel, ts: posted.ts))
            #expect(stored.text == "Approved")
            #expect(stored.blocks == decided)
            #expect(stored.updateCount == 1)
        }
    }

    @Test("chat.update of an unknown ts is message_not_found, a permanent error")
    func updateUnknownMessage() async throws {
        try await SlackClientHarness.run { h in
            let error = await #expect(throws: SlackAPIError.api("message_not_found")) {
                try await h.client.updateMessage(channel: "C0APPROVALS", ts: "1.000000", text: "x", blocks: nil)
            }
            #expect(error?.isPermanent == true)
            #expect(error?.isRetryable == false)
        }
    }

    @Test("chat.postEphemeral sends the user and returns the message ts")
    func postEphemeral() async throws {
        try await SlackClientHarness.run { h in
            let ts = try await h.client.postEphemeral(
                channel: "C0APPROVALS", user: "U0ALICE", text: "Only you can see this", blocks: nil, threadTS: "1700000000.000100")
            #expect(ts == "1700000000.000100")
            let call = try #require(h.fake.calls("chat.postEphemeral").first)
            #expect(call.contentType == "application/json; charset=utf-8")
            #expect(call["user"] == .string("U0ALICE"))
            #expect(call["thread_ts"] == .string("1700000000.000100"))
            #expect(h.fake.ephemeralMessages.first?.user == "U0ALICE")
        }
    }

    @Test("chat.getPermalink is a GET with query parameters")
    func permalink() async throws {
        try await SlackClientHarness.run { h in
            let link = try await h.client.permalink(channel: "C0APPROVALS", messageTS: "1700000000.000100")
            #expect(link == "https://fake.slack.test/archives/C0APPROVALS/p1700000000000100")
            let call = try #require(h.fake.calls("chat.getPermalink").first)
            #expect(call.httpMethod == "GET")
            #expect(call.rawBody.isEmpty)
            #expect(call.contentType == nil)
            #expect(call.query == "channel=C0APPROVALS&message_ts=1700000000.000100")
            #expect(call.authorization == "Bearer \(SlackClientHarness.token)")
        }
    }

    @Test("views.open sends the trigger and the modal, and returns the view ID")
    func openView() async throws {
        try await SlackClientHarness.run { h in
            let view = View(
                title: .plainText("Reject"), submit: .plainText("Reject"), close: .plainText("Cancel"),
                blocks: [
                    .input(
                        label: .plainText("Reason"), element: .plainTextInput(PlainTextInput(actionID: "reason", maxLength: 500)),
                        blockID: "reason")
                ],
                privateMetadata: "apr_1", callbackID: "reject")
            let id = try await h.client.openView(triggerID: "123.456.abc", view: view)
            let call = try #require(h.fake.calls("views.open").first)
            #expect(call.contentType == "application/json; charset=utf-8")
            #expect(call["trigger_id"] == .string("123.456.abc"))
            #expect(call["view"]?["type"] == .string("modal"))
            #expect(call["view"]?["callback_id"] == .string("reject"))
            #expect(h.fake.openedViews.map(\.id) == [id])
            #expect(h.fake.openedViews.first?.view == view)
        }
    }

    @Test("a modal breaking a limit is refused with invalid_blocks and the problems are recorded")
    func openInvalidView() async throws {
        try await SlackClientHarness.run { h in
            let view = View(
                title: .plainText("A title far longer than twenty-four"),
                blocks: [.input(label: .plainText("Reason"), element: .plainTextInput(PlainTextInput(actionID: "reason")))])
            await #expect(throws: SlackAPIError.api("invalid_blocks")) { try await h.client.openView(triggerID: "t", view: view) }
            #expect(h.fake.calls("views.open").first?.problems.count == 2)
        }
    }

    @Test("conversations.open sends comma-separated users and returns the DM channel")
    func openConversation() async throws {
        try await SlackClientHarness.run { h in
            #expect(try await h.client.openConversation(users: ["U0ALICE"]) == "DU0ALICE")
            _ = try await h.client.openConversation(users: ["U0ALICE", "U0BOB"])
            let calls = h.fake.calls("conversations.open")
            #expect(calls.map { $0["users"] } == [.string("U0ALICE"), .string("U0ALICE,U0BOB")])
            #expect(calls.allSatisfy { $0.contentType == "application/json; charset=utf-8" })
        }
    }

    @Test("users.info is a GET and maps name, real name, time zone and admin flag")
    func userInfo() async throws {
        try await SlackClientHarness.run { h in
            let plain = try await h.client.userInfo("U0ALICE")
            #expect(plain == SlackUser(id: "U0ALICE", name: "u0alice", tz: "Europe/Berlin", isAdmin: false))
            let bob = SlackUser(id: "U0BOB", name: "bob", realName: "Bob Builder", tz: "America/New_York", isAdmin: true)
            h.fake.setUser(bob)
            #expect(try await h.client.userInfo("U0BOB") == bob)
            let call = try #require(h.fake.calls("users.info").first)
            #expect(call.httpMethod == "GET")
            #expect(call.query == "user=U0ALICE")
            #expect(call.rawBody.isEmpty)
        }
    }

    @Test("usergroups.users.list is a GET returning the members")
    func usergroupMembers() async throws {
        try await SlackClientHarness.run { h in
            h.fake.setGroupMembers("S0SRE", ["U0ALICE", "U0BOB"])
            #expect(try await h.client.usergroupMembers("S0SRE") == ["U0ALICE", "U0BOB"])
            let call = try #require(h.fake.calls("usergroups.users.list").first)
            #expect(call.httpMethod == "GET")
            #expect(call.query == "usergroup=S0SRE")
            await #expect(throws: SlackAPIError.api("no_such_subteam")) { try await h.client.usergroupMembers("S0NONE") }
        }
    }

    @Test("query parameters are percent-encoded")
    func queryEncoding() async throws {
        try await SlackClientHarness.run { h in
            _ = try await h.client.userInfo("U 1&x=+é")
            let call = try #require(h.fake.calls("users.info").first)
            #expect(call.query == "user=U+1%26x%3D%2B%C3%A9")
            #expect(call["user"] == .string("U 1&x=+é"))
        }
    }

    @Test("a wrong token is invalid_auth: permanent, with a hint, and the token appears nowhere")
    func wrongToken() async throws {
        try await SlackClientHarness.run { h in
            let wrong = "xoxb-wrong-TOKEN-value"
            let client = h.client(token: wrong)
            let error = try #require(
                await #expect(throws: SlackAPIError.api("invalid_auth")) {
                    try await client.postMessage(channel: "#approvals", text: "x", blocks: nil, threadTS: nil)
                })
            #expect(error.isPermanent)
            #expect(error.adminHint != nil)
            #expect(!error.description.contains(wrong))
            #expect(!String(reflecting: error).contains(wrong))
            #expect(h.fake.calls.first?.authorization == "Bearer \(wrong)")
            #expect(h.fake.messages(in: "#approvals").isEmpty)
        }
    }

    @Test("ok:false answers become .api with Slack's code")
    func okFalse() async throws {
        try await SlackClientHarness.run { h in
            h.fake.fail("chat.postMessage", with: .error("not_in_channel"))
            let error = try #require(
                await #expect(throws: SlackAPIError.api("not_in_channel")) {
                    try await h.client.postMessage(channel: "#approvals", text: "x", blocks: nil, threadTS: nil)
                })
            #expect(error.isPermanent)
            #expect(error.adminHint == "Invite the bot to the channel with /invite @Gatehouse.")
            h.fake.fail("chat.postMessage", with: .error("internal_error"))
            let transient = try #require(
                await #expect(throws: SlackAPIError.api("internal_error")) {
                    try await h.client.postMessage(channel: "#approvals", text: "x", blocks: nil, threadTS: nil)
                })
            #expect(transient.isRetryable)
            #expect(!transient.isPermanent)
            _ = try await h.client.postMessage(channel: "#approvals", text: "x", blocks: nil, threadTS: nil)
        }
    }

    @Test("429 with Retry-After is .rateLimited; the method fails fast until it ends while others go through")
    func rateLimited() async throws {
        try await SlackClientHarness.run { h in
            h.fake.fail("chat.postMessage", with: .rateLimited(retryAfter: 30))
            let post = { try await h.client.postMessage(channel: "#approvals", text: "x", blocks: nil, threadTS: nil) }
            let first = try #require(await #expect(throws: SlackAPIError.rateLimited(retryAfter: 30)) { try await post() })
            #expect(first.isRetryable)
            #expect(!first.isPermanent)
            #expect(h.fake.calls("chat.postMessage").map(\.status) == [429])

            h.clock.advance(by: 10)
            await #expect(throws: SlackAPIError.rateLimited(retryAfter: 20)) { try await post() }
            #expect(h.fake.calls("chat.postMessage").count == 1, "the second call never reached Slack")

            #expect(try await h.client.openConversation(users: ["U0ALICE"]) == "DU0ALICE")

            h.clock.advance(by: 20)
            _ = try await post()
            #expect(h.fake.calls("chat.postMessage").count == 2)
        }
    }

    @Test("a ratelimited error without 429 is still a rate limit, remembered for the default second")
    func ratelimitedCode() async throws {
        try await SlackClientHarness.run { h in
            h.fake.fail("users.info", with: .error("ratelimited"))
            await #expect(throws: SlackAPIError.rateLimited(retryAfter: 1)) { try await h.client.userInfo("U1") }
            await #expect(throws: SlackAPIError.rateLimited(retryAfter: 1)) { try await h.client.userInfo("U1") }
            #expect(h.fake.calls("users.info").count == 1)
            h.clock.advance(by: 1)
            _ = try await h.client.userInfo("U1")
        }
    }

    @Test("HTTP 500 is .server: retryable, not remembered")
    func serverError() async throws {
        try await SlackClientHarness.run { h in
            h.fake.fail("chat.update", with: .serverError, times: 2)
            let update = { try await h.client.updateMessage(channel: "C0APPROVALS", ts: "1.0", text: "x", blocks: nil) }
            let error = try #require(await #expect(throws: SlackAPIError.server(status: 500)) { try await update() })
            #expect(error.isRetryable)
            #expect(!error.isPermanent)
            await #expect(throws: SlackAPIError.server(status: 500)) { try await update() }
            await #expect(throws: SlackAPIError.api("message_not_found")) { try await update() }
            #expect(h.fake.calls("chat.update").count == 3)
        }
    }

    @Test("blocks over a limit are refused by Slack as invalid_blocks; long text as msg_too_long")
    func invalidBlocks() async throws {
        try await SlackClientHarness.run { h in
            let tooMany = Array(repeating: Block.divider(), count: 51)
            await #expect(throws: SlackAPIError.api("invalid_blocks")) {
                try await h.client.postMessage(channel: "#approvals", text: "x", blocks: tooMany, threadTS: nil)
            }
            #expect(h.fake.calls("chat.postMessage").first?.problems == BlockKitLimits.problems(inMessageBlocks: tooMany, text: nil))
            let long = String(repeating: "a", count: 4001)
            await #expect(throws: SlackAPIError.api("msg_too_long")) {
                try await h.client.postMessage(channel: "#approvals", text: long, blocks: nil, threadTS: nil)
            }
            #expect(SlackAPIError.api("invalid_blocks").isPermanent)
            #expect(SlackAPIError.api("msg_too_long").isPermanent)
            #expect(h.fake.messages(in: "#approvals").isEmpty)
        }
    }

    @Test("posts to one channel are paced; other channels, other methods and later posts are not")
    func pacing() async throws {
        try await SlackClientHarness.run { h in
            let client = h.client(pacing: 1)
            _ = try await client.postMessage(channel: "#approvals", text: "1", blocks: nil, threadTS: nil)
            #expect(h.sleeps.durations == [])
            _ = try await client.postMessage(channel: "#approvals", text: "2", blocks: nil, threadTS: nil)
            #expect(h.sleeps.durations == [.seconds(1)])
            _ = try await client.postMessage(channel: "#deploys", text: "3", blocks: nil, threadTS: nil)
            try await client.updateMessage(channel: "C0APPROVALS", ts: "1700000000.000100", text: "u", blocks: nil)
            #expect(h.sleeps.durations == [.seconds(1)])
            _ = try await client.postMessage(channel: "#approvals", text: "4", blocks: nil, threadTS: nil)
            #expect(h.sleeps.durations == [.seconds(1), .seconds(2)])
            h.clock.advance(by: 10)
            _ = try await client.postMessage(channel: "#approvals", text: "5", blocks: nil, threadTS: nil)
            #expect(h.sleeps.durations == [.seconds(1), .seconds(2)])
            h.clock.advance(by: 0.25)
            _ = try await client.postMessage(channel: "#approvals", text: "6", blocks: nil, threadTS: nil)
            #expect(h.sleeps.durations == [.seconds(1), .seconds(2), .seconds(0.75)])
            #expect(h.fake.calls("chat.postMessage").count == 6)
        }
    }

    @Test("pacing 0 never sleeps")
    func noPacing() async throws {
        try await SlackClientHarness.run { h in
            for index in 0..<3 {
                _ = try await h.client.postMessage(channel: "#approvals", text: "\(index)", blocks: nil, threadTS: nil)
            }
            #expect(h.sleeps.durations.isEmpty)
        }
    }

    @Test("an unreachable Slack is .network: retryable, and the token is not in it")
    func network() async throws {
        // A port bound but never listening: a stopped server's port could be taken by another test's server meanwhile.
        let refusing = try RefusingPort()
        let client = URLSessionSlackClient(token: SlackClientHarness.token, baseURL: refusing.baseURL, now: { Date() }, sleep: { _ in })
        let error = try #require(
            await #expect(throws: SlackAPIError.self) { try await client.userInfo("U1") })
        guard case .network = error else {
            Issue.record("expected .network, got \(error)")
            return
        }
        #expect(error.isRetryable)
        #expect(error.adminHint != nil)
        #expect(!error.description.contains(SlackClientHarness.token))
        #expect(!String(reflecting: error).contains(SlackClientHarness.token))
        withExtendedLifetime(refusing) {}
    }

    @Test("an answer that is not Slack JSON is .decoding")
    func notSlack() async throws {
        try await SlackClientHarness.run { h in
            let elsewhere = URL(string: h.fake.baseURL.absoluteString.replacingOccurrences(of: "/api/", with: "/elsewhere/"))!
            let error = try #require(
                await #expect(throws: SlackAPIError.self) { try await h.client(baseURL: elsewhere).permalink(channel: "C1", messageTS: "1.0") })
            guard case .decoding = error else {
                Issue.record("expected .decoding, got \(error)")
                return
            }
            #expect(!error.isRetryable)
            #expect(!error.isPermanent)
        }
    }

    @Test("no error description carries the token")
    func tokenNeverInDescriptions() async throws {
        try await SlackClientHarness.run { h in
            var errors: [SlackAPIError] = []
            for failure: FakeSlackWebAPI.FakeFailure in [.rateLimited(retryAfter: 5), .serverError, .error("invalid_auth")] {
                h.fake.fail("views.open", with: failure)
                do throws(SlackAPIError) {
                    _ = try await h.client.openView(triggerID: "t", view: View(title: .plainText("T"), blocks: []))
                } catch {
                    errors.append(error)
                }
                h.clock.advance(by: 60)
            }
            #expect(errors.count == 3)
            for error in errors {
                #expect(!error.description.contains(SlackClientHarness.token))
                #expect(!String(reflecting: error).contains(SlackClientHarness.token))
                #expect(!(error.adminHint ?? "").contains(SlackClientHarness.token))
            }
        }
    }
}
