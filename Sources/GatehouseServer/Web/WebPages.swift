import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Whole pages: a body rendered by its template inside the layout, as an HTML response.
enum WebPages {
    static func page(
        status: HTTPResponse.Status = .ok, title: String, body: String, session: WebSession?, admin: Bool = false,
        section: WebViews.Section = .other, extraHeaders: HTTPFields = [:]
    ) -> Response {
        let layout = WebViews.Layout(
            title: title, body: body, signedIn: session != nil, person: session?.person, csrf: session?.csrfToken, admin: admin,
            onPending: section == .pending, onHistory: section == .history, onBreakGlass: section == .breakGlass)
        return html(WebTemplates.render(layout, "layout"), status: status, extraHeaders: extraHeaders)
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok, extraHeaders: HTTPFields = [:]) -> Response {
        var headers = extraHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A page with one sentence: a refusal, a used link, a route that is not there.
    static func message(
        status: HTTPResponse.Status, title: String, heading: String, text: String, session: WebSession? = nil,
        extraHeaders: HTTPFields = [:]
    ) -> Response {
        page(
            status: status, title: title, body: WebTemplates.render(WebViews.Message(heading: heading, text: text), "message"),
            session: session, extraHeaders: extraHeaders)
    }

    /// Any error under `/ui` as a page: the contract's sentence (the same as the API's), never a stack trace.
    static func failure(_ error: any Error, logger: Logger) -> Response {
        let refusal: APIError =
            switch error {
            case let error as APIError: error
            case let error as ApprovalError: APIError(error)
            case let error as HTTPError where error.status == .notFound: APIError(.notFound, code: "not_found", message: "There is no such page.")
            case let error as HTTPError: APIError(error.status, code: "http_error", message: error.body ?? error.status.reasonPhrase)
            case is StorageFull: .storageFull
            default: APIError(.internalServerError, code: "internal_error", message: "The page failed on the server; see its log.")
            }
        if refusal.status == .internalServerError {
            logger.error("web page failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
        return message(status: refusal.status, title: "Error", heading: refusal.status.reasonPhrase, text: refusal.message)
    }
}
