import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SlackAPI

/// Checks `X-Slack-Signature` over the raw body before anything is parsed. A missing, malformed, wrong or stale
/// signature gets 401, an audit entry, and nothing else; without a signing secret every Slack route answers 503.
struct SlackSignatureMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext
    let verifier: SlackRequestVerifier?
    let audit: any AuditTrail

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let verifier else {
            throw APIError(.serviceUnavailable, code: "slack_not_configured", message: "Set SLACK_SIGNING_SECRET to accept requests from Slack.")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: APIError.maxBodySize)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge
        }
        let body = Array(buffer.readableBytesView)
        do {
            try verifier.verify(
                timestamp: request.headers[.slackRequestTimestamp], signature: request.headers[.slackSignature], body: body)
        } catch {
            let path = String(request.uri.path.prefix(100))
            // The reason names the check that failed, never the signature or the secret.
            context.logger.warning("Slack request refused", metadata: ["reason": "\(error)", "path": "\(path)"])
            try await audit.append(
                AuditEvent(.signatureRefused, actor: "anonymous", details: ["reason": .string("\(error)"), "path": .string(path)]))
            throw APIError(.unauthorized, code: "bad_signature", message: "The Slack signature is missing, wrong or stale.")
        }
        var context = context
        context.verified = .slack(body: body)
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let slackSignature = Self("X-Slack-Signature")!
    static let slackRequestTimestamp = Self("X-Slack-Request-Timestamp")!
}
