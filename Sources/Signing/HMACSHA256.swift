import COpenSSL

/// HMAC-SHA256 through the system OpenSSL.
public enum HMACSHA256 {
    /// The HMAC-SHA256 of `message` under `key`. The key is used as given, never decoded.
    public static func authenticate(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: SHA256.byteCount)
        var length: UInt32 = 0
        // OpenSSL wants non-null pointers even for zero lengths, and an empty array may have no storage.
        let keyLength = key.count
        let messageLength = message.count
        let keyBytes = key.isEmpty ? [0] : key
        let messageBytes = message.isEmpty ? [0] : message
        let result = keyBytes.withUnsafeBufferPointer { keyBuffer in
            messageBytes.withUnsafeBufferPointer { messageBuffer in
                mac.withUnsafeMutableBufferPointer { out in
                    HMAC(
                        EVP_sha256(), keyBuffer.baseAddress, Int32(keyLength), messageBuffer.baseAddress, messageLength,
                        out.baseAddress, &length
                    )
                }
            }
        }
        precondition(result != nil && length == SHA256.byteCount, "HMAC(SHA-256) failed")
        return mac
    }

    /// HMAC-SHA256 with a UTF-8 string key and message, as lowercase hex.
    public static func hex(key: String, message: String) -> String {
        authenticate(key: Array(key.utf8), message: Array(message.utf8)).hexString
    }
}
