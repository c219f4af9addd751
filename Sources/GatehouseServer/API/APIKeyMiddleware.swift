import ApprovalCore
import Foundation
import Hummingbird
import Signing

/// Authenticates `Authorization: Bearer KEY` or `X-Api-Key: KEY`; a missing, unknown or revoked key gets 401 and
/// nothing else, and is counted for the audit log (see `RefusalLedger`); a source that keeps failing gets 429.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext
    let keys: any KeyStore
    let refusals: RefusalLedger
    let sources: ClientSources
    let usage: KeyUsage

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let presented = Self.presentedKey(request)
        guard let presented else {
            try refuse(request, context: context, reason: "missing", fingerprint: nil)
            throw APIError.unauthorized("Send an API key as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'.")
        }
        guard let key = try await keys.authenticate(presented) else {
            // A fingerprint lets an admin tell which key it was without the key itself reaching the log.
            let fingerprint = String(SHA256.hexDigest(of: presented).prefix(12))
            try refuse(request, context: context, reason: "unknown_or_revoked", fingerprint: fingerprint)
            throw APIError.unauthorized("The API key is unknown or revoked.")
        }
        usage.used(key)
        var context = context
        context.verified = .apiKey(key)
        context.logger[metadataKey: "key"] = .string(key.name)
        context.notes.key = key.name
        return try await next(request, context)
    }

    static func presentedKey(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let key = trimmed(parts[1])
                return key.isEmpty ? nil : key
            }
            return nil
        }
        if let header = request.headers[.apiKey] {
            let key = trimmed(Substring(header))
            if !key.isEmpty { return key }
        }
        return nil
    }

    /// `text` without surrounding white space. Keys normally have none, and checking the two ends
    /// first skips Foundation's trimming (a bridged NSString round trip on every request).
    private static func trimmed(_ text: Substring) -> String {
        if let first = text.utf8.first, let last = text.utf8.last, isPlainASCII(first), isPlainASCII(last) {
            return String(text)
        }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// Printable ASCII other than space: not white space under any definition.
    private static func isPlainASCII(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    /// Counts the refusal; a source past its limit is answered 429 instead of 401.
    private func refuse(_ request: Request, context: Context, reason: String, fingerprint: String?) throws {
        let source = sources.source(of: request, context: context)
        if let seconds = refusals.retryAfter(source: source) { throw APIError.rateLimited(retryAfter: seconds) }
        refusals.refused(
            source: source, kind: .authRefused, reason: reason, path: String(request.uri.path.prefix(200)), fingerprint: fingerprint)
    }
}
