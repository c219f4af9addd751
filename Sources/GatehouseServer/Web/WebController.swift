import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Signing
import SlackAPI
import SlackBridge

/// The web page of CONTRACT.md §8: sign-in by one-time link, the pending list (live), one approval, and its forms.
/// Every decision goes through the same use case as Slack and the API, as the signed-in person; every refusal is the
/// use case's, shown as a sentence on the page.
struct WebController {
    let service: ApprovalService
    let sessions: any WebSessionStore
    let audit: any AuditArchive
    let links: any ApprovalLinkProvider
    /// Finds which user groups a Slack user is in, for chains that name groups; `nil` when Slack is off.
    let groups: GroupDirectory?
    let commits: ChangeCounter
    let settings: WebSettings
    /// Who the admins are (break-glass reviews).
    let configuration: ConfigurationService
    let review: BreakGlassReview
    let breakGlassUses: any BreakGlassStore
    /// Counts links that no one made, as other unauthenticated refusals are (and answers 429 to a source guessing on).
    let refusals: RefusalLedger
    let sources: ClientSources

    /// The most pending requests one page shows, earliest deadline first.
    static let pendingLimit = 1_000

    /// Routes reachable without a session: the files and the sign-in link.
    var publicEndpoints: RouteCollection<GatehouseRequestContext> {
        let routes = RouteCollection(context: GatehouseRequestContext.self)
        routes.get("static/app.css") { _, _ in Self.file(WebAssets.css, type: "text/css; charset=utf-8") }
        routes.get("static/app.js") { _, _ in Self.file(WebAssets.js, type: "text/javascript; charset=utf-8") }
        routes.get("static/icon.svg") { _, _ in Self.file(WebAssets.icon, type: "image/svg+xml") }
        routes.get("login/:token", use: login)
        // Any other path under /ui is a page saying so, not the API's JSON.
        routes.get("**") { _, _ -> Response in throw HTTPError(.notFound) }
        return routes
    }

    /// Routes for a signed-in person.
    var endpoints: RouteCollection<WebRequestContext> {
        let routes = RouteCollection(context: WebRequestContext.self)
        routes.get(use: pending)
        routes.get("pending-list", use: pendingList)
        routes.get("events", use: events)
        routes.get("history", use: history)
        routes.get("break-glass", use: breakGlassList)
        routes.post("break-glass/:id/review", use: reviewBreakGlass)
        routes.get("approvals/:id", use: show)
        routes.post("approvals/:id/:verdict", use: decide)
        routes.post("logout", use: logout)
        return routes
    }

    // MARK: Sign-in

    @Sendable func login(_ request: Request, context: GatehouseRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let source = sources.source(of: request, context: context)
        if let seconds = refusals.retryAfter(source: source) { throw APIError.rateLimited(retryAfter: seconds) }
        switch try await sessions.redeemLoginLink(String(token.prefix(200))) {
        case .success(let (_, secret)):
            return Response(status: .seeOther, headers: [.location: "/ui", .setCookie: settings.cookie(secret)])
        case .failure(let refusal):
            if refusal == .unknown {
                refusals.refused(source: source, kind: .signInRefused, reason: "unknown_link", path: "/ui/login")
            }
            return WebPages.message(status: .gone, title: "Sign-in link", heading: "This link does not sign you in", text: refusal.sentence)
        }
    }

    @Sendable func logout(_ request: Request, context: WebRequestContext) async throws -> Response {
        let form = try await Self.form(request, context: context)
        if let refused = try await checkCSRF(form, context: context, approval: nil) { return refused }
        try await sessions.endSession(context.session.id, by: context.session.person)
        return WebPages.message(
            status: .ok, title: "Signed out", heading: "Signed out", text: "You are signed out. Use a new link to sign in again.",
            extraHeaders: [.setCookie: settings.clearedCookie])
    }

    // MARK: Pages

    @Sendable func pending(_ request: Request, context: WebRequestContext) async throws -> Response {
        let list = try await pendingView()
        return try await page(title: "Pending", body: WebTemplates.render(list, "pending"), section: .pending, context: context)
    }

    /// The list alone, for the page's script to swap in when something changed.
    @Sendable func pendingList(_ request: Request, context: WebRequestContext) async throws -> Response {
        let list = try await pendingView()
        return WebPages.html("<span data-count>\(list.count)</span>" + WebTemplates.render(list, "pendingList"))
    }

    func pendingView() async throws -> WebViews.PendingList {
        let now = service.clock.now
        let pending = try await service.repository.pendingDue(asOf: .distantFuture, limit: Self.pendingLimit)
        let rows = pending.map { WebViews.row($0, now: now) }
        return WebViews.PendingList(rowsHTML: await WebTemplates.renderRows(rows), hasRows: !rows.isEmpty, count: rows.count)
    }

    /// Server-Sent Events: `change` after every commit of the store (at most one a quarter second), and a comment now
    /// and then so that idle connections stay open. The browser reconnects by itself after a restart.
    @Sendable func events(_ request: Request, context: WebRequestContext) async throws -> Response {
        let commits = self.commits
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                // The browser waits a second before it reconnects, after a restart say.
                try await writer.write(ByteBuffer(string: "retry: 1000\n: connected\n\n"))
                var seen = commits.count
                // A stream never ends by itself: it must not hold a graceful shutdown up.
                let stopping = ChangeCounter()
                try await withGracefulShutdownHandler {
                    while !Task.isCancelled {
                        let changed = await Self.waitForChange(commits, after: seen, orSeconds: 15, unless: stopping)
                        guard stopping.count == 0, !Task.isCancelled else { break }
                        if changed {
                            seen = commits.count
                            try await writer.write(ByteBuffer(string: "event: change\ndata: \(seen)\n\n"))
                            try? await Task.sleep(for: .milliseconds(250))
                        } else {
                            try await writer.write(ByteBuffer(string: ": idle\n\n"))
                        }
                    }
                } onGracefulShutdown: {
                    stopping.increment()
                }
                try await writer.finish(nil)
            })
    }

    /// Whether the store committed something after `count` within `seconds` (and before `stop` counts one).
    static func waitForChange(_ commits: ChangeCounter, after count: UInt64, orSeconds seconds: Int, unless stop: ChangeCounter) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await commits.wait(after: count)
                return !Task.isCancelled
            }
            group.addTask {
                await stop.wait(after: 0)
                return false
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    @Sendable func show(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = ApprovalID(rawValue: try context.parameters.require("id"))
        let approval = try await service.approval(id, as: context.session.actor)
        var form = WebViews.FormState()
        form.flash = request.uri.queryParameters.get("done").flatMap(Self.doneSentence)
        return try await approvalPage(approval, form: form, status: .ok, context: context)
    }

    func approvalPage(_ approval: Approval, form: WebViews.FormState, status: HTTPResponse.Status, context: WebRequestContext) async throws -> Response {
        let view = WebViews.approvalPage(
            approval, now: service.clock.now, slackLink: try await links.link(for: approval.id),
            audit: try await audit.auditEntries(since: nil, approvalID: approval.id), csrf: context.session.csrfToken, form: form)
        return try await page(status: status, title: approval.action, body: WebTemplates.render(view, "approval"), context: context)
    }

    static func doneSentence(_ done: String) -> String? {
        switch done {
        case "approve": "You approved it."
        case "reject": "You rejected it."
        case "modify": "You approved it with changes."
        case "break-glass": "You broke the glass: it is approved, and an admin must review it."
        default: nil
        }
    }

    /// A page in the layout, with the admins' link when the person is one.
    func page(
        status: HTTPResponse.Status = .ok, title: String, body: String, section: WebViews.Section = .other, context: WebRequestContext
    ) async throws -> Response {
        WebPages.page(
            status: status, title: title, body: body, session: context.session, admin: try await isAdmin(context.session), section: section)
    }

    /// An admin: signed in with a link made `--scope admin`, or a Slack user among the admins.
    func isAdmin(_ session: WebSession) async throws -> Bool {
        if session.scope == .admin { return true }
        guard case .slackUser(let user, _, _) = session.actor else { return false }
        return try await configuration.admins().all.contains(user)
    }

    /// The newest requests first, filtered by status, gate, requester and text, a page of 50 at a time.
    @Sendable func history(_ request: Request, context: WebRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? {
            query.get(name).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
        }
        var filter = ApprovalFilter(gate: value("gate"), requester: value("requester"), text: value("q"))
        if let status = value("status") {
            guard let parsed = ApprovalStatus(rawValue: status) else {
                throw APIError(.badRequest, code: "invalid_parameter", message: "There is no status '\(status)'; pick one from the list.")
            }
            filter.status = parsed
        }
        var cursor: Int64?
        if let text = value("cursor") {
            guard let parsed = Int64(text), parsed > 0 else {
                throw APIError(.badRequest, code: "invalid_parameter", message: "That page link is broken; start again from History.")
            }
            cursor = parsed
        }
        let page = try await service.list(filter, limit: Self.historyPageSize, before: cursor, as: context.session.actor)
        let rows = page.approvals.map(WebViews.historyRow)
        let nextLink = page.next.map { next in
            var items = [URLQueryItem]()
            for (name, value) in [("status", filter.status?.rawValue), ("gate", filter.gate), ("requester", filter.requester), ("q", filter.text)] {
                if let value { items.append(URLQueryItem(name: name, value: value)) }
            }
            items.append(URLQueryItem(name: "cursor", value: String(next)))
            var components = URLComponents()
            components.path = "/ui/history"
            components.queryItems = items
            return components.string ?? "/ui/history"
        }
        let view = WebViews.History(
            statuses: ApprovalStatus.allCases.map { WebViews.StatusOption(value: $0.rawValue, selected: $0 == filter.status) },
            gate: filter.gate ?? "", requester: filter.requester ?? "", q: filter.text ?? "", rows: rows, hasRows: !rows.isEmpty,
            nextLink: nextLink)
        return try await self.page(title: "History", body: WebTemplates.render(view, "history"), section: .history, context: context)
    }

    static let historyPageSize = 50

    /// Break-glass uses, newest first, for admins to review.
    @Sendable func breakGlassList(_ request: Request, context: WebRequestContext) async throws -> Response {
        try await breakGlassPage(context: context, error: nil, flash: request.uri.queryParameters.get("done") == "review" ? "Marked reviewed." : nil)
    }

    func breakGlassPage(context: WebRequestContext, error: String?, flash: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard try await isAdmin(context.session) else {
            throw APIError(.forbidden, code: "forbidden", message: "Only admins review break-glass approvals.")
        }
        let uses = try await breakGlassUses.breakGlassUses(unreviewedOnly: false).prefix(200)
            .map { WebViews.breakGlassUse($0, csrf: context.session.csrfToken) }
        let view = WebViews.BreakGlassList(uses: uses, hasUses: !uses.isEmpty, error: error, flash: flash)
        return try await page(
            status: status, title: "Break-glass", body: WebTemplates.render(view, "breakGlass"), section: .breakGlass, context: context)
    }

    @Sendable func reviewBreakGlass(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = ApprovalID(rawValue: try context.parameters.require("id"))
        let form = try await Self.form(request, context: context)
        if let refused = try await checkCSRF(form, context: context, approval: id) { return refused }
        do {
            try await review.review(id, by: context.session.actor)
            return Response(status: .seeOther, headers: [.location: "/ui/break-glass?done=review"])
        } catch let refusal as BreakGlassReview.Refusal {
            let (status, sentence): (HTTPResponse.Status, String) =
                switch refusal {
                case .notAdmin: (.forbidden, "Only admins review break-glass approvals.")
                case .ownUse: (.forbidden, "You broke the glass on this one: another admin must review it.")
                case .alreadyReviewed: (.conflict, "It was reviewed already.")
                case .unknown: (.notFound, "That request was not approved by breaking the glass.")
                }
            if refusal == .notAdmin { throw APIError(status, code: "forbidden", message: sentence) }
            return try await breakGlassPage(context: context, error: sentence, flash: nil, status: status)
        }
    }

    // MARK: Forms

    struct DecisionForm: Decodable {
        var csrf: String?
        var reason: String?
        var reasonCode: String?
        var payload: String?

        enum CodingKeys: String, CodingKey {
            case csrf, reason, payload
            case reasonCode = "reason_code"
        }
    }

    @Sendable func decide(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = ApprovalID(rawValue: try context.parameters.require("id"))
        let verb = try context.parameters.require("verdict")
        let form = try await Self.form(request, context: context)
        let person = context.session.actor
        let approval = try await service.approval(id, as: person)
        if let refused = try await checkCSRF(form, context: context, approval: id) { return refused }
        let reason = form.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        var state = WebViews.FormState(reason: form.reason, reasonCode: form.reasonCode, editedPayload: form.payload)
        let verdict: DecisionCommand.Verdict
        switch verb {
        case "approve":
            verdict = .approve
        case "reject":
            guard let reason, !reason.isEmpty else {
                state.reasonError = "Say why you reject it: the requester is told."
                return try await approvalPage(approval, form: state, status: .unprocessableContent, context: context)
            }
            verdict = .reject
        case "modify":
            switch ApprovalModals.editedPayload(form.payload ?? "", original: approval.payload) {
            case .failure(let error):
                state.payloadError = error.message
                return try await approvalPage(approval, form: state, status: .unprocessableContent, context: context)
            case .success(let edited):
                verdict = .modify(edited)
            }
        case "break-glass":
            return try await breakGlass(approval, reason: reason, state: state, context: context)
        default:
            throw HTTPError(.notFound)
        }
        do {
            let decider = try await self.decider(person, on: approval)
            let code = verb == "reject" ? form.reasonCode.flatMap { RejectReasonCode(rawValue: $0)?.rawValue } : nil
            _ = try await service.decide(
                id, DecisionCommand(verdict, by: decider, reason: reason?.isEmpty == false ? reason : nil, reasonCode: code), read: approval)
            return Response(status: .seeOther, headers: [.location: "/ui/approvals/\(id.rawValue)?done=\(verb)"])
        } catch let error as ApprovalError {
            let refusal = APIError(error)
            state.error = refusal.message
            let current = try await service.approval(id)
            return try await approvalPage(current, form: state, status: refusal.status, context: context)
        } catch let error as SlackAPIError {
            state.error = "Slack did not say which user groups you are in (\(error)), so nothing was decided. Try again in a moment."
            return try await approvalPage(approval, form: state, status: .serviceUnavailable, context: context)
        }
    }

    /// Approves at once in an emergency, through the same use case as Slack's `break-glass`: for members of the
    /// break-glass roles.
    func breakGlass(_ approval: Approval, reason: String?, state: WebViews.FormState, context: WebRequestContext) async throws -> Response {
        var state = state
        guard let reason, !reason.isEmpty else {
            state.error = "Say why this is an emergency: breaking the glass is posted and reviewed."
            return try await approvalPage(approval, form: state, status: .unprocessableContent, context: context)
        }
        var person = context.session.actor
        do {
            if case .slackUser(let user, _, _) = person, let groups {
                person = try await groups.breakingGlass(user, roleGroups: try await service.breakGlassGroups())
            }
            _ = try await service.breakGlass(approval.id, reason: reason, by: person)
            return Response(status: .seeOther, headers: [.location: "/ui/approvals/\(approval.id.rawValue)?done=break-glass"])
        } catch let error as ApprovalError {
            let refusal = APIError(error)
            state.error = refusal.message
            return try await approvalPage(try await service.approval(approval.id), form: state, status: refusal.status, context: context)
        } catch let error as SlackAPIError {
            state.error = "Slack did not say which user groups you are in (\(error)), so nothing was done. Try again in a moment."
            return try await approvalPage(approval, form: state, status: .serviceUnavailable, context: context)
        }
    }

    /// The signed-in person as a decider: a Slack user with the user groups the request's chain needs to know them in.
    func decider(_ person: Actor, on approval: Approval) async throws -> Actor {
        guard case .slackUser(let user, _, _) = person, let groups else { return person }
        return try await groups.decider(user, name: nil, on: approval, at: service.clock.now)
    }

    /// A form whose CSRF token is not this session's changes nothing: the refusal is audited and said on a page.
    func checkCSRF(_ form: DecisionForm, context: WebRequestContext, approval: ApprovalID?) async throws -> Response? {
        if let token = form.csrf, ConstantTime.equals(token, context.session.csrfToken) { return nil }
        try await service.repository.append(
            AuditEvent(.requestRefused, approvalID: approval, actor: context.session.person, details: ["reason": .string("csrf")]))
        return WebPages.message(
            status: .forbidden, title: "Refused", heading: "Nothing was changed",
            text: "This form did not come from your current session (its token is missing or old). Reload the page and try again.",
            session: context.session)
    }

    static func form(_ request: Request, context: WebRequestContext) async throws -> DecisionForm {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let text = String(buffer: buffer)
        do {
            return try URLEncodedFormDecoder().decode(DecisionForm.self, from: text)
        } catch {
            throw APIError(.badRequest, code: "malformed_form", message: "The form could not be read; reload the page and try again.")
        }
    }

    static func file(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension WebController {
    /// `/` (to `/ui`) and everything under `/ui`, every answer with the security headers.
    func addRoutes(to router: Router<GatehouseRequestContext>) {
        router.get("/") { _, _ in Response(status: .found, headers: [.location: "/ui"]) }
        let ui = router.group("ui").add(middleware: WebSecurityHeadersMiddleware<GatehouseRequestContext>())
        ui.addRoutes(publicEndpoints)
        ui.group()
            .add(middleware: WebSessionMiddleware(sessions: sessions, web: settings))
            .group(context: WebRequestContext.self)
            .addRoutes(endpoints)
    }
}
