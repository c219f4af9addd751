import Foundation
import SlackAPI

/// Signs request bodies the way Slack does, so tests can drive the Slack endpoints end to end.
public struct SlackRequestSigner: Sendable {
    public let secret: String

    /// A signer for an app's signing secret.
    public init(secret: String) {
        self.secret = secret
    }

    /// `X-Slack-Request-Timestamp` and `X-Slack-Signature` for `body` sent at `timestamp`.
    public func headers(body: String, timestamp: Date) -> [(String, String)] {
        let seconds = String(Int64(timestamp.timeIntervalSince1970.rounded(.down)))
        return [
            ("X-Slack-Request-Timestamp", seconds),
            ("X-Slack-Signature", SlackSignature.compute(secret: secret, timestamp: seconds, body: Array(body.utf8))),
        ]
    }

    /// A form-encoded body of the fields, in order, as Slack posts slash commands.
    public static func formBody(_ fields: [(String, String)]) -> String {
        FormBody.encode(fields)
    }

    /// An interactivity body: `payload=` and the URL-encoded JSON.
    public static func interactionBody(json: String) -> String {
        formBody([("payload", json)])
    }
}
