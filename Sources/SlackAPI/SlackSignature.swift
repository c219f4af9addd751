import Signing

/// Slack's `v0` request signature.
public enum SlackSignature {
    /// `"v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body))`; the secret's characters are the key.
    public static func compute(secret: String, timestamp: String, body: [UInt8]) -> String {
        compute(key: Array(secret.utf8), timestamp: timestamp, body: body)
    }

    static func compute(key: [UInt8], timestamp: String, body: [UInt8]) -> String {
        var message = Array("v0:\(timestamp):".utf8)
        message.append(contentsOf: body)
        return "v0=" + HMACSHA256.authenticate(key: key, message: message).hexString
    }
}
