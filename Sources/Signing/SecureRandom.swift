import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    public static func bytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return bytes
    }

    /// `count` random bytes as unpadded base64url (URL-safe, no `=`).
    public static func urlSafeToken(byteCount count: Int) -> String {
        Base64URL.encode(bytes(count: count))
    }
}
