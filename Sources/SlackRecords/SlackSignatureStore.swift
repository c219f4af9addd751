import Foundation

/// The Slack signatures the service accepted, kept until they leave Slack's 300-second window, so that a captured
/// request sent again is refused as a replay, after a restart too.
public protocol SlackSignatureStore: Sendable {
    /// The signatures accepted that are still within their window at `now`, with the moment each leaves it.
    func acceptedSlackSignatures(at now: Date) async throws -> [String: Date]
    /// Keeps `signature` until `expiresAt`, durably; `false` when it was kept already (a replay). Forgets the ones whose
    /// window has passed at `now`.
    func recordSlackSignature(_ signature: String, expiresAt: Date, now: Date) async throws -> Bool
}
