import COpenSSL

/// SHA-256 through the system OpenSSL.
public enum SHA256 {
    public static let byteCount = 32

    /// The SHA-256 digest of `bytes`.
    public static func hash<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: byteCount)
        var length: UInt32 = 0
        let ok = bytes.withContiguousStorageIfAvailable { buffer in
            digest.withUnsafeMutableBufferPointer { out in
                EVP_Digest(buffer.baseAddress, buffer.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        } ?? Array(bytes).withUnsafeBufferPointer { buffer in
            digest.withUnsafeMutableBufferPointer { out in
                EVP_Digest(buffer.baseAddress, buffer.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1 && length == byteCount, "EVP_Digest(SHA-256) failed")
        return digest
    }

    /// The lowercase hex SHA-256 digest of the UTF-8 bytes of `string`.
    public static func hexDigest(of string: String) -> String {
        hash(Array(string.utf8)).hexString
    }
}
