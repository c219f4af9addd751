import ApprovalCore
import Foundation
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import SlackAPI
import Storage
import Testing

@Suite("Web page: Approve, Reject and Modify through the same use cases, with form tokens and refusals as sentences")
struct WebDecisionTests {
    /// Signs `person` in and opens the approval's page.
    static func open(
        _ id: ApprovalID, as person: String = "local:alice", env: TestEnvironment, client: some TestClientProtocol
    ) async throws -> (WebBrowser, WebBrowser.Page) {
        var browser = WebBrowser(client: client)
        _ = try await browser.signIn(with: try await env.loginLink(for: person))
        let page = try await browser.get("/ui/approvals/\(id)")
        return (browser, page)
    }

    @Test("Approve records the signed-in person as the decider, audited, and the page says so after the redirect")
    func approve() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let (browser, page) = try await Self.open(created.id, env: env, client: client)
            let answer = try await browser.post("/ui/approvals/\(created.id)/approve", [("csrf", try #require(page.csrf))])
            #expect(answer.status == .seeOther)
            #expect(answer.headers[.location] == "/ui/approvals/\(created.id)?done=approve")
            let stored = try #require(try await env.database.approval(created.id))
            #expect(stored.status == .approved)
            #expect(stored.decision?.by == "local:alice")
            #expect(stored.decision?.byName == "alice")
            let after = try await browser.get(answer.headers[.location]!)
            #expect(after.html.contains("You approved it."))
            #expect(after.html.contains("<dt>Outcome</dt><dd>approved</dd>"))
            #expect(!after.html.contains("/approve\""))  // no form on a decided request
            let decided = try await env.database.auditEntries(approvalID: created.id).filter { $0.kind == "decided" }
            #expect(decided.map(\.actor) == ["local:alice"])
            // The API reads the same decision.
            let read = try await client.call(.get, "/v1/approvals/\(created.id)", key: env.requestKey)
            #expect(read["decision"]?["by"] == .string("local:alice"))
        }
    }

    @Test("a form without this session's token changes nothing, is audited, and says so on the page")
    func csrfRefused() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let (browser, _) = try await Self.open(created.id, env: env, client: client)
            var other = WebBrowser(client: client)
            _ = try await other.signIn(with: try await env.loginLink(for: "local:bob"))
            let otherToken = try #require(try await other.get("/ui").csrf)
            for fields in [[], [("csrf", "")], [("csrf", otherToken)]] {
                let answer = try await browser.post("/ui/approvals/\(created.id)/approve", fields)
                #expect(answer.status == .forbidden)
                #expect(answer.html.contains("Nothing was changed"))
            }
            #expect(try await env.database.approval(created.id)?.status == .pending)
            let refusals = try await env.database.auditEntries().filter { $0.kind == "request_refused" && $0.details["reason"] == .string("csrf") }
            #expect(refusals.count == 3)
            #expect(refusals.allSatisfy { $0.actor == "local:alice" && $0.approvalID == created.id.rawValue })
        }
    }

    @Test("Reject needs a reason (said beside the field, nothing stored); with one it is stored with its reason code")
    func reject() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let (browser, page) = try await Self.open(created.id, env: env, client: client)
            let csrf = try #require(page.csrf)
            let empty = try await browser.post("/ui/approvals/\(created.id)/reject", [("csrf", csrf), ("reason", "  "), ("reason_code", "unsafe")])
            #expect(empty.status == .unprocessableContent)
            #expect(empty.html.contains("Say why you reject it"))
            #expect(empty.html.contains(#"<option value="unsafe" selected>"#))
            #expect(try await env.database.approval(created.id)?.status == .pending)
            let answer = try await browser.post(
                "/ui/approvals/\(created.id)/reject", [("csrf", csrf), ("reason", "Wrong <cluster>"), ("reason_code", "wrong_target")])
            #expect(answer.status == .seeOther)
            let stored = try #require(try await env.database.approval(created.id))
            #expect(stored.status == .rejected)
            #expect(stored.decision?.reason == "Wrong <cluster>")
            #expect(stored.decision?.reasonCode == "wrong_target")
            let after = try await browser.get("/ui/approvals/\(created.id)")
            #expect(after.html.contains("Wrong &lt;cluster&gt;"))
            #expect(after.html.contains("Wrong target"))
        }
    }

    @Test("Modify: invalid JSON, a non-object and no change are errors beside the editor with the text kept, nothing stored; valid JSON is stored, with a diff")
    func modify() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, payload: #"{"replicas":3,"service":"api"}"#)
            let (browser, page) = try await Self.open(created.id, env: env, client: client)
            let csrf = try #require(page.csrf)
            let before = try await env.database.auditEntries().count
            for (text, sentence) in [
                (#"{"replicas": 5,"#, "That is not valid JSON"), ("[1]", "must be a JSON object"),
                (#"{"service":"api","replicas":3}"#, "Nothing changed"), (#"{"n": 12345678901234567890}"#, "payload.n"),
            ] {
                let answer = try await browser.post("/ui/approvals/\(created.id)/modify", [("csrf", csrf), ("payload", text)])
                #expect(answer.status == .unprocessableContent)
                #expect(answer.html.contains(sentence))
                #expect(answer.html.contains(#"aria-invalid="true""#))
                #expect(answer.html.contains(text.replacingOccurrences(of: "\"", with: "&quot;")))
            }
            #expect(try await env.database.approval(created.id)?.status == .pending)
            #expect(try await env.database.auditEntries().count == before)
            let answer = try await browser.post("/ui/approvals/\(created.id)/modify", [("csrf", csrf), ("payload", #"{"replicas":5,"service":"api"}"#)])
            #expect(answer.status == .seeOther)
            let stored = try #require(try await env.database.approval(created.id))
            #expect(stored.status == .modified)
            #expect(stored.decision?.payload == .object(["replicas": .number(5), "service": .string("api")]))
            let after = try await browser.get("/ui/approvals/\(created.id)")
            #expect(after.html.contains(#"<span class="del">-   &quot;replicas&quot;: 3,</span>"#))
            #expect(after.html.contains(#"<span class="add">+   &quot;replicas&quot;: 5,</span>"#))
        }
    }

    @Test("the use cases' refusals show as sentences: one's own request, already decided, and an unknown verdict")
    func refusals() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let own = try await client.createApproval(key: env.requestKey, extra: #","requester":"alice""#)
            let (browser, page) = try await Self.open(own.id, env: env, client: client)
            let csrf = try #require(page.csrf)
            let mine = try await browser.post("/ui/approvals/\(own.id)/approve", [("csrf", csrf)])
            #expect(mine.status == .forbidden)
            #expect(mine.html.contains("The requester cannot decide their own request."))
            #expect(try await env.database.approval(own.id)?.status == .pending)

            let other = try await client.createApproval(key: env.requestKey)
            _ = try await client.call(
                .post, "/v1/approvals/\(other.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"bob","reason":"no"}"#)
            let late = try await browser.post("/ui/approvals/\(other.id)/approve", [("csrf", csrf)])
            #expect(late.status == .conflict)
            #expect(late.html.contains("It was already rejected by key:lead (bob)"))
            #expect(try await env.database.approval(other.id)?.decision?.by == "key:lead")

            let third = try await client.createApproval(key: env.requestKey)
            let odd = try await browser.post("/ui/approvals/\(third.id)/explode", [("csrf", csrf)])
            #expect(odd.status == .notFound)
            let kinds = try await env.database.auditEntries().filter { $0.kind == "decision_refused" }.map { $0.details["reason"]?.stringValue }
            #expect(kinds == ["self_approval", "already_decided"])
        }
    }

    @Test("/gatehouse login answers only the person with a link that signs that Slack user in; their decision is theirs")
    func slackLogin() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        var configuration = env.slackConfiguration(fake)
        configuration.publicURL = URL(string: "https://gatehouse.example.com/")
        try await env.application(configuration: configuration).test(.live) { client in
            let slack = SlackDriver(env: env, client: client)
            let reply = try await slack.command("login", by: "U0ALICE")
            let range = try #require(reply.range(of: "https://gatehouse.example.com/ui/login/"))
            let token = reply[range.upperBound...].prefix { !$0.isWhitespace }
            var browser = WebBrowser(client: client)
            let signedIn = try await browser.signIn(with: "/ui/login/\(token)")
            #expect(signedIn.headers[.setCookie]?.contains("; Secure") == true)  // the public URL is https
            let created = try await client.createApproval(key: env.requestKey)
            let page = try await browser.get("/ui/approvals/\(created.id)")
            #expect(page.html.contains("U0ALICE"))
            _ = try await browser.post("/ui/approvals/\(created.id)/approve", [("csrf", try #require(page.csrf))])
            #expect(try await env.database.approval(created.id)?.decision?.by == "U0ALICE")
            let created2 = try await env.database.auditEntries().filter { $0.kind == "login_link_created" }
            #expect(created2.map(\.actor) == ["U0ALICE"])
        }
        await fake.stop()
    }

    @Test("a Slack user on the page decides under the request's chain: a member of its user group approves, anyone else gets the sentence")
    func slackUserUnderAChain() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        fake.setGroupMembers("S0SRE", ["U0CAROL"])
        let chain = EscalationChain(name: "deploy-prod", levels: [.init(approvers: [.group("S0SRE")], sla: 3600)], finalAction: .reject)
        _ = try await env.configuration(admins: ["U0ADMIN"]).setChain(chain, by: .slackUser("U0ADMIN"))
        var configuration = env.slackConfiguration(fake)
        configuration.publicURL = URL(string: "http://127.0.0.1:8080")
        try await env.application(configuration: configuration).test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
            let (outsider, outsiderPage) = try await Self.open(created.id, as: "U0DAVE", env: env, client: client)
            let refused = try await outsider.post("/ui/approvals/\(created.id)/approve", [("csrf", try #require(outsiderPage.csrf))])
            #expect(refused.status == .forbidden)
            #expect(refused.html.contains("Not an approver of levels 1–1 of 1 of this request&#39;s chain."))
            #expect(try await env.database.approval(created.id)?.status == .pending)
            let (member, memberPage) = try await Self.open(created.id, as: "U0CAROL", env: env, client: client)
            let approved = try await member.post("/ui/approvals/\(created.id)/approve", [("csrf", try #require(memberPage.csrf))])
            #expect(approved.status == .seeOther)
            let stored = try #require(try await env.database.approval(created.id))
            #expect(stored.status == .approved)
            #expect(stored.decision?.by == "U0CAROL")
        }
        await fake.stop()
    }
}
