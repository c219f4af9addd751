import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SlackAPI

/// Checks `X-Slack-Signature` over the raw body before anything is parsed. A missing, malformed, wrong or stale
/// signature, or one accepted before (a replay), gets 401 and nothing else, and is counted for the audit log (see
/// `RefusalLedger`); without a signing secret every Slack route answers 503. An accepted signature is kept until it
/// leaves Slack's window, durably before the request is answered.
struct SlackSignatureMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext
    let verifier: SlackRequestVerifier?
    let replays: SlackReplayGuard
    let refusals: RefusalLedger
    let sources: ClientSources
    let clock: any WallClock

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
        let signature = request.headers[.slackSignature]
        let timestamp = request.headers[.slackRequestTimestamp]
        do {
            try verifier.verify(timestamp: timestamp, signature: signature, body: body)
        } catch {
            try refuse(request, context: context, reason: "\(error)")
            throw APIError(.unauthorized, code: "bad_signature", message: "The Slack signature is missing, wrong or stale.")
        }
        // Verified, so both headers are there and the timestamp is whole seconds.
        let signed = Date(timeIntervalSince1970: Double(timestamp.flatMap { Int64($0) } ?? 0))
        let now = clock.now
        let replayed = APIError(.unauthorized, code: "bad_signature", message: "This signed request was received before; it is not accepted twice.")
        guard let signature, try await replays.claim(signature, timestamp: signed, now: now) else {
            try refuse(request, context: context, reason: "replay")
            throw replayed
        }
        // With replicas, the shared store decides: a copy sent to another replica was accepted there.
        if replays.shared, try await !replays.record(signature, timestamp: signed, now: now) {
            try refuse(request, context: context, reason: "replay")
            throw replayed
        }
        // Alone, kept durably while the request is handled (usually in the same group commit), before it is answered.
        async let recorded: Bool = replays.shared ? true : replays.record(signature, timestamp: signed, now: now)
        var context = context
        context.verified = .slack(body: body)
        let response = try await next(request, context)
        _ = try await recorded
        return response
    }

    /// Logs and counts a refusal, naming the check that failed, never the signature or the secret; a source past its
    /// limit is answered 429 instead of 401.
    private func refuse(_ request: Request, context: Context, reason: String) throws {
        let path = String(request.uri.path.prefix(100))
        context.logger.warning("Slack request refused", metadata: ["reason": "\(reason)", "path": "\(path)"])
        let source = sources.source(of: request, context: context)
        if let seconds = refusals.retryAfter(source: source) { throw APIError.rateLimited(retryAfter: seconds) }
        refusals.refused(source: source, kind: .signatureRefused, reason: reason, path: path)
    }
}

extension HTTPField.Name {
    static let slackSignature = Self("X-Slack-Signature")!
    static let slackRequestTimestamp = Self("X-Slack-Request-Timestamp")!
}
