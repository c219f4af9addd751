import ApprovalCore
import Foundation
@testable import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
@_spi(Benchmark) import Storage
import Testing

/// A browser's side of the web page, over the real application on loopback: a cookie, forms, and the HTML it gets.
struct WebBrowser {
    let client: any TestClientProtocol
    var cookie: String?

    struct Page {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var html: String

        /// The form token the page carries.
        var csrf: String? {
            guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func get(_ uri: String) async throws -> Page {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        return try await client.execute(uri: uri, method: .get, headers: headers, body: nil) { response in
            Page(status: response.status, headers: response.headers, html: String(buffer: response.body))
        }
    }

    func post(_ uri: String, _ fields: [(String, String)]) async throws -> Page {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            Page(status: response.status, headers: response.headers, html: String(buffer: response.body))
        }
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Follows a one-time link and keeps the session cookie it sets.
    mutating func signIn(with link: String) async throws -> Page {
        let page = try await get(link)
        if let setCookie = page.headers[.setCookie], let pair = setCookie.split(separator: ";").first {
            cookie = String(pair)
        }
        return page
    }
}

extension TestEnvironment {
    /// A link token for `person`, as `gatehouse login-link` makes one.
    func loginLink(for person: String = "local:alice", scope: WebScope = .decide) async throws -> String {
        "/ui/login/" + (try await database.createLoginLink(for: person, scope: scope, lifetime: 600, by: "cli:test"))
    }

    func auditKinds() async throws -> [String] {
        try await database.auditEntries().map(\.kind)
    }
}

@Suite("Web page: sign-in, sessions, pages and the security headers")
struct WebPageTests {
    @Test("/ redirects to /ui; without a session /ui is the sign-in page, with the security headers and no inline script")
    func signInPageAndHeaders() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let browser = WebBrowser(client: client)
            let root = try await browser.get("/")
            #expect(root.status == .found)
            #expect(root.headers[.location] == "/ui")
            let page = try await browser.get("/ui")
            #expect(page.status == .unauthorized)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.html.contains("/gatehouse login"))
            #expect(page.html.contains("gatehouse login-link"))
            let csp = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(csp.contains("script-src 'self'"))
            #expect(!csp.contains("unsafe-inline"))
            #expect(csp.contains("frame-ancestors 'none'"))
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
            // Scripts and styles are files of the service, never inline.
            #expect(!page.html.contains("<script>"))
            #expect(!page.html.contains("<style"))
            #expect(!page.html.contains("style=\""))
            let css = try await browser.get("/ui/static/app.css")
            #expect(css.status == .ok)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(css.html.contains("prefers-color-scheme:dark"))
            let js = try await browser.get("/ui/static/app.js")
            #expect(js.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(js.headers[HTTPField.Name("Content-Security-Policy")!] != nil)
            let missing = try await browser.get("/ui/nowhere")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "text/html; charset=utf-8")
        }
    }

    @Test("a one-time link signs in once, with an HttpOnly SameSite=Lax cookie; used, expired and unknown links get a clear page, audited")
    func oneTimeLinks() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            var browser = WebBrowser(client: client)
            let link = try await env.loginLink()
            let signedIn = try await browser.signIn(with: link)
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/ui")
            let setCookie = try #require(signedIn.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Lax"))
            #expect(!setCookie.contains("Secure"))  // plain http on loopback
            let pending = try await browser.get("/ui")
            #expect(pending.status == .ok)
            #expect(pending.html.contains("local:alice"))

            var other = WebBrowser(client: client)
            let again = try await other.signIn(with: link)
            #expect(again.status == .gone)
            #expect(again.html.contains("used already"))
            #expect(other.cookie == nil)

            let late = try await env.loginLink(for: "local:bob")
            env.clock.advance(by: 601)
            let expired = try await other.signIn(with: late)
            #expect(expired.status == .gone)
            #expect(expired.html.contains("expired"))
            let unknown = try await other.signIn(with: "/ui/login/not-a-token")
            #expect(unknown.status == .gone)
            #expect(unknown.html.contains("not one Gatehouse made"))

            let entries = try await env.database.auditEntries()
            #expect(entries.filter { $0.kind == "login_link_created" }.count == 2)
            let signIns = entries.filter { $0.kind == "signed_in" }
            #expect(signIns.map(\.actor) == ["local:alice"])
            let refusals = entries.filter { $0.kind == "sign_in_refused" }
            #expect(refusals.map { $0.details["reason"]?.stringValue } == ["used", "expired"])
            #expect(refusals.map(\.actor) == ["local:alice", "local:bob"])
            // A link nobody made is counted with the other unauthenticated refusals, a summary a minute.
            try await env.flushRefusals("sign_in_refused", expecting: 3)
            let guessed = try await env.database.auditEntries().filter { $0.kind == "sign_in_refused" }.last
            #expect(guessed?.details["reason"] == .string("unknown_link"))
            #expect(guessed?.details["count"] == .number(1))
            // No secret reaches the audit log: neither the link token nor the cookie.
            let text = try await env.database.auditEntries().map { "\($0.details)" }.joined()
            #expect(!text.contains(link.dropFirst("/ui/login/".count)))
            #expect(!text.contains(browser.cookie!.dropFirst("gatehouse_session=".count)))
        }
    }

    @Test("a source guessing links is answered 429 once past the failed-attempt limit, as for API keys")
    func guessedLinksRateLimited() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        var configuration = GatehouseConfiguration()
        configuration.failedAuthLimit = 3
        try await env.application(configuration: configuration).test(.live) { client in
            var browser = WebBrowser(client: client)
            for attempt in 0..<3 { #expect(try await browser.signIn(with: "/ui/login/guess-\(attempt)").status == .gone) }
            let limited = try await browser.signIn(with: try await env.loginLink())
            #expect(limited.status == .tooManyRequests)
            #expect(limited.html.contains("Too many failed attempts"))
            #expect(browser.cookie == nil)
        }
    }

    @Test("sign-out needs the form token, ends the session and is audited; a session idle for 12 h is over")
    func signOutAndIdleExpiry() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: try await env.loginLink())
            let page = try await browser.get("/ui")
            let csrf = try #require(page.csrf)
            let forged = try await browser.post("/ui/logout", [("csrf", "wrong")])
            #expect(forged.status == .forbidden)
            #expect(forged.html.contains("Nothing was changed"))
            #expect(try await browser.get("/ui").status == .ok)
            let out = try await browser.post("/ui/logout", [("csrf", csrf)])
            #expect(out.status == .ok)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await browser.get("/ui").status == .unauthorized)
            #expect(try await env.auditKinds().contains("signed_out"))

            var idle = WebBrowser(client: client)
            _ = try await idle.signIn(with: try await env.loginLink(for: "local:carol"))
            env.clock.advance(by: 11 * 3600)
            #expect(try await idle.get("/ui").status == .ok)  // seen: the idle time starts again
            env.clock.advance(by: 11 * 3600)
            #expect(try await idle.get("/ui").status == .ok)
            env.clock.advance(by: 12 * 3600 + 1)
            #expect(try await idle.get("/ui").status == .unauthorized)
        }
    }

    @Test("sessions survive a restart of the service and end when revoked")
    func sessionsSurviveRestartUntilRevoked() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let link = try await env.loginLink()
        let cookie = try await env.application().test(.live) { client in
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: link)
            return browser.cookie
        }
        let reopened = try env.reopenDatabase()
        try await env.application(database: reopened).test(.live) { client in
            let browser = WebBrowser(client: client, cookie: cookie)
            #expect(try await browser.get("/ui").status == .ok)
            let revoked = try await Administration(store: reopened).revokeSessions(person: "local:alice", id: nil, by: .cli("ops"))
            #expect(revoked == 1)
            #expect(try await browser.get("/ui").status == .unauthorized)
        }
        let entries = try await reopened.auditEntries().filter { $0.kind == "session_revoked" }
        #expect(entries.map(\.actor) == ["cli:ops"])
        try reopened.close()
    }

    @Test("the pending list shows each request's facts, earliest deadline first, and shows an action of <script> as text")
    func pendingListEscapes() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            _ = try await client.createApproval(
                key: env.requestKey, action: "Deploy later", extra: #","expires_in":7200,"requester":"dana","risk":"low""#)
            let script = try await client.createApproval(
                key: env.requestKey, action: "<script>alert(1)</script>",
                extra: #","expires_in":600,"risk":"critical","reasoning":"<b>bold</b> & more""#)
            env.clock.advance(by: 90)
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: try await env.loginLink())
            let page = try await browser.get("/ui")
            #expect(page.status == .ok)
            #expect(!page.html.contains("<script>alert"))
            #expect(page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; more"))
            #expect(!page.html.contains("<b>bold"))
            let first = try #require(page.html.range(of: script.id.description))
            let later = try #require(page.html.range(of: "Deploy later"))
            #expect(first.lowerBound < later.lowerBound)  // 10 minutes left before 2 hours
            #expect(page.html.contains("critical"))
            #expect(page.html.contains("dana"))
            #expect(page.html.contains("<dt>Pending</dt><dd>90s</dd>"))
            #expect(page.html.contains("<dt>Expires in</dt><dd>8m30s</dd>"))
            #expect(page.html.contains("<dt>Expires in</dt><dd>1h58m</dd>"))  // to the minute beyond an hour
            #expect(page.html.contains("Expires in"))
            #expect(page.html.contains("1 of 1"))  // level
            #expect(page.html.contains("0 approving"))
            #expect(page.html.contains(#"data-count>2<"#))
        }
    }

    @Test("a pending list long enough to be rendered in slices shows every request once, earliest deadline first")
    func longPendingListInOrder() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let now = env.clock.now
        // Filed in an order unlike their deadlines': the list must sort them whatever slice renders them.
        let approvals = (0..<450).map { n in
            let minutes = (n * 7_919) % 450 + 1
            return Approval(
                id: ApprovalID(rawValue: "apr_long\(minutes)x"), action: "Request \(minutes)", payload: .object(["n": .number(Double(n))]),
                createdAt: now, expiresAt: now.addingTimeInterval(Double(minutes) * 60))
        }
        try await env.database.bulkInsertForBenchmark(approvals)
        try await env.application().test(.live) { client in
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: try await env.loginLink())
            for path in ["/ui", "/ui/pending-list"] {
                let html = try await browser.get(path).html
                #expect(html.components(separatedBy: #"<li class="card"#).count - 1 == 450)
                #expect(html.contains("data-count>450<"))
                let shown = html.components(separatedBy: #"href="/ui/approvals/apr_long"#).dropFirst().map { $0.prefix { $0 != "x" } }
                #expect(shown.map { Int($0) } == (1...450).map { $0 })
            }
        }
    }

    @Test("the list's rows answer the template for each of their fields, and the page's escaping is the engine's")
    func rowNamesAndEscaping() throws {
        let row = WebViews.row(
            Approval(id: ApprovalID(rawValue: "apr_x"), action: "a", payload: .object([:]), reasoning: "why", createdAt: .now, expiresAt: .now),
            now: .now)
        for child in Mirror(reflecting: row).children {
            let label = try #require(child.label)
            let value = row.child(named: label)
            #expect((value as? TemplateText)?.renderText == "\(child.value)".replacingOccurrences(of: "Optional(\"why\")", with: "why"))
        }
        #expect(row.child(named: "unknown") == nil)
        let escaped = HTMLBytes().escapeText(#"<a href="x">Tom & Jerry's — ünï</a>"#)
        #expect(escaped == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s — ünï&lt;/a&gt;")
        #expect(HTMLBytes().escapeText("plain — ü") == "plain — ü")
    }

    @Test("one approval: every field, the payload pretty-printed and escaped, its audit trail; an unknown id is a 404 page, audited")
    func approvalPage() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(
                key: env.requestKey, action: "Run migration", payload: #"{"sql":"<script>x</script>","n":1}"#,
                extra: #","consequences":"Table rewritten","on_reject":"Retry tomorrow","gate":"db""#)
            var browser = WebBrowser(client: client)
            _ = try await browser.signIn(with: try await env.loginLink())
            let page = try await browser.get("/ui/approvals/\(created.id)")
            #expect(page.status == .ok)
            #expect(page.html.contains("Run migration"))
            #expect(page.html.contains("Table rewritten"))
            #expect(page.html.contains("Retry tomorrow"))
            #expect(page.html.contains("\n  &quot;n&quot;: 1"))
            #expect(page.html.contains("&lt;script&gt;x&lt;/script&gt;"))
            #expect(!page.html.contains("<script>x"))
            #expect(page.html.contains("<td>created</td><td>key:agent</td>"))
            #expect(page.html.contains(#"action="/ui/approvals/\#(created.id)/approve""#))

            let unknown = try await browser.get("/ui/approvals/apr_nothing")
            #expect(unknown.status == .notFound)
            #expect(unknown.html.contains("No approval with that id."))
            let refused = try await env.database.auditEntries().filter { $0.kind == "request_refused" }
            #expect(refused.last?.actor == "local:alice")
        }
    }

    @Test("the pending list's event stream says `change` when a request is filed and when one is decided, and the list it fetches then has changed")
    func liveUpdates() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            var browser = WebBrowser(client: client)
            #expect(try await browser.get("/ui/events").status == .unauthorized)
            _ = try await browser.signIn(with: try await env.loginLink())
            let connection = try await RawHTTPConnection.connect(port: try #require(client.port))
            try await connection.send("GET /ui/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(try #require(browser.cookie))\r\n\r\n")
            let head = try await withTimeout { try await connection.read(until: ": connected") }
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.lowercased().contains("content-type: text/event-stream"))
            #expect(head.contains("retry: 1000"))
            #expect(!(try await browser.get("/ui/pending-list")).html.contains("Deploy api"))

            let created = try await client.createApproval(key: env.requestKey)
            _ = try await withTimeout { try await connection.read(until: "event: change") }
            let list = try await browser.get("/ui/pending-list")
            #expect(list.html.contains("/ui/approvals/\(created.id)"))
            #expect(list.html.contains("<span data-count>1</span>"))

            _ = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"bob"}"#)
            _ = try await withTimeout { try await connection.read(until: "event: change") }
            let after = try await browser.get("/ui/pending-list")
            #expect(!after.html.contains("/ui/approvals/\(created.id)"))
            #expect(after.html.contains("Nothing is waiting"))
            await connection.close()
        }
    }
}
