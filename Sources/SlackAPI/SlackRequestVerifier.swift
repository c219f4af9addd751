import Foundation
import Signing

/// Checks that a request really comes from Slack, on the raw body, before anything decodes it.
///
/// The raw bytes matter: Slack's JSON escapes `/` as `\/`, so a re-serialised body would not match.
public struct SlackRequestVerifier: Sendable {
    private let key: [UInt8]
    private let tolerance: TimeInterval
    private let now: @Sendable () -> Date

    /// A verifier for one app's signing secret; `now` is injected so tests control the replay window.
    public init(signingSecret: String, tolerance: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() }) {
        self.key = Array(signingSecret.utf8)
        self.tolerance = tolerance
        self.now = now
    }

    /// Throws unless the headers are present, the timestamp is recent, and the signature matches `body`.
    public func verify(timestamp: String?, signature: String?, body: [UInt8]) throws(SlackVerificationError) {
        guard let timestamp, let signature else { throw .missingHeaders }
        guard let seconds = Self.seconds(timestamp) else { throw .malformedTimestamp }
        // The window bounds replays of a captured request.
        guard abs(now().timeIntervalSince1970 - Double(seconds)) <= tolerance else { throw .stale }
        let expected = SlackSignature.compute(key: key, timestamp: timestamp, body: body)
        // Constant time, so the duration does not tell a forger how many leading characters were right.
        guard ConstantTime.equals(Array(expected.utf8), Array(signature.utf8)) else { throw .badSignature }
    }

    /// The timestamp as whole seconds, accepting only ASCII digits (no sign, no spaces).
    private static func seconds(_ text: String) -> Int64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 15, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int64(text)
    }
}
