import ApprovalCore
import Foundation
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import Storage
import Testing

@Suite("Web page: history with filters and pages, and break-glass for admins")
struct WebHistoryTests {
    /// The approval ids a page links to, in order.
    static func ids(_ page: WebBrowser.Page) -> [String] {
        page.html.components(separatedBy: #"href="/ui/approvals/"#).dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    @Test("history filters by status, gate, requester and text (case and % taken literally), newest first; a bad status is a sentence")
    func filters() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let deploy = try await client.createApproval(key: env.requestKey, action: "Deploy api", extra: #","gate":"deploy","requester":"dana""#)
            let rotate = try await client.createApproval(
                key: env.requestKey, action: "Rotate keys", extra: #","gate":"sec","reasoning":"Quarterly, 100% of them""#)
            let drop = try await client.createApproval(key: env.requestKey, action: "Drop table")
            _ = try await client.call(
                .post, "/v1/approvals/\(drop.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"bob","reason":"no"}"#)
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: try await env.loginLink())
            let all = try await browser.get("/ui/history")
            #expect(all.status == .ok)
            #expect(Self.ids(all) == [drop.id.rawValue, rotate.id.rawValue, deploy.id.rawValue])
            #expect(all.html.contains("<dt>Decided by</dt><dd>bob (key:lead)</dd>"))
            #expect(!all.html.contains("Older requests"))
            #expect(Self.ids(try await browser.get("/ui/history?status=rejected")) == [drop.id.rawValue])
            #expect(Self.ids(try await browser.get("/ui/history?gate=sec")) == [rotate.id.rawValue])
            #expect(Self.ids(try await browser.get("/ui/history?requester=dana")) == [deploy.id.rawValue])
            #expect(Self.ids(try await browser.get("/ui/history?q=QUARTERLY")) == [rotate.id.rawValue])
            #expect(Self.ids(try await browser.get("/ui/history?q=%25")) == [rotate.id.rawValue])
            #expect(Self.ids(try await browser.get("/ui/history?q=_")) == [])
            let kept = try await browser.get("/ui/history?status=pending&q=%3Cb%3E")
            #expect(kept.html.contains(#"<option value="pending" selected>"#))
            #expect(kept.html.contains(#"value="&lt;b&gt;""#))
            let bad = try await browser.get("/ui/history?status=maybe")
            #expect(bad.status == .badRequest)
            #expect(bad.html.contains("There is no status"))
        }
    }

    @Test("history pages 50 at a time; the next page's link keeps the filters")
    func pages() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            var created: [String] = []
            for index in 0..<52 {
                created.append(try await client.createApproval(key: env.requestKey, action: "Job \(index)", extra: #","gate":"bulk""#).id.rawValue)
            }
            _ = try await client.createApproval(key: env.requestKey, action: "Elsewhere")
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: try await env.loginLink())
            let first = try await browser.get("/ui/history?gate=bulk")
            #expect(Self.ids(first) == Array(created.reversed().prefix(50)))
            let range = try #require(first.html.range(of: #"<a class="more" href=""#))
            let link = first.html[range.upperBound...].prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
            #expect(link.contains("gate=bulk"))
            let second = try await browser.get(link)
            #expect(Self.ids(second) == [created[1], created[0]])
            #expect(!second.html.contains("Older requests"))
            #expect(try await browser.get("/ui/history?cursor=x").status == .badRequest)
        }
    }

    @Test("break-glass: only admins see the list; an admin other than the breaker marks a use reviewed, once, audited")
    func breakGlassReview() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let pager = try await env.database.createKey(name: "pager", scope: .decide, breakGlass: true)
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, action: "Restart <db>")
            let broken = try await client.call(
                .post, "/v1/approvals/\(created.id)/break-glass", key: pager, body: #"{"reason":"outage","as":"erin"}"#)
            #expect(broken["status"] == .string("approved"))

            var member = WebBrowser(client: client)
            _ = try await member.signIn(with: try await env.loginLink())
            #expect(!(try await member.get("/ui")).html.contains("/ui/break-glass"))
            let refused = try await member.get("/ui/break-glass")
            #expect(refused.status == .forbidden)
            #expect(refused.html.contains("Only admins review break-glass approvals."))

            var admin = WebBrowser(client: client)
            _ = try await admin.signIn(with: try await env.loginLink(for: "local:root", scope: .admin))
            let list = try await admin.get("/ui/break-glass")
            #expect(list.status == .ok)
            #expect(list.html.contains(#"href="/ui/break-glass" aria-current="page""#))
            #expect(list.html.contains("Restart &lt;db&gt;"))
            #expect(list.html.contains("not reviewed"))
            let csrf = try #require(list.csrf)
            #expect(try await member.post("/ui/break-glass/\(created.id)/review", [("csrf", try #require(try await member.get("/ui").csrf))]).status == .forbidden)
            let reviewed = try await admin.post("/ui/break-glass/\(created.id)/review", [("csrf", csrf)])
            #expect(reviewed.status == .seeOther)
            let after = try await admin.get("/ui/break-glass?done=review")
            #expect(after.html.contains("reviewed by local:root"))
            #expect(after.html.contains("Marked reviewed."))
            let again = try await admin.post("/ui/break-glass/\(created.id)/review", [("csrf", csrf)])
            #expect(again.status == .conflict)
            #expect(again.html.contains("It was reviewed already."))
            let entries = try await env.database.auditEntries(approvalID: created.id).filter { $0.kind == "break_glass_reviewed" }
            #expect(entries.map(\.actor) == ["local:root"])
        }
    }

    @Test("break-glass on an approval's page goes through the use case: a reason is needed, and a local person is refused with its sentence")
    func breakGlassRefusedForLocalPeople() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: try await env.loginLink())
            let page = try await browser.get("/ui/approvals/\(created.id)")
            #expect(page.html.contains("Break the glass"))
            let csrf = try #require(page.csrf)
            let empty = try await browser.post("/ui/approvals/\(created.id)/break-glass", [("csrf", csrf), ("reason", "")])
            #expect(empty.status == .unprocessableContent)
            #expect(empty.html.contains("Say why this is an emergency"))
            let refused = try await browser.post("/ui/approvals/\(created.id)/break-glass", [("csrf", csrf), ("reason", "outage")])
            #expect(refused.status == .forbidden)
            #expect(refused.html.contains("Break-glass is for people in Slack and keys created with --break-glass."))
            #expect(try await env.database.approval(created.id)?.status == .pending)
            #expect(try await env.database.auditEntries().contains { $0.kind == "decision_refused" && $0.actor == "local:alice" })
        }
    }
}
