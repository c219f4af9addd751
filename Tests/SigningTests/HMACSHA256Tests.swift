import Testing

import Signing

/// Expected MACs: RFC 4231 §4 test cases, and others computed independently with Python's `hmac`.
@Suite("HMACSHA256")
struct HMACSHA256Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let expected: String
        var testDescription: String { name }
    }

    static let rfc4231: [Vector] = [
        Vector(
            name: "RFC 4231 test case 1", key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8),
            expected: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        Vector(
            name: "RFC 4231 test case 2 (key shorter than the output)", key: Array("Jefe".utf8),
            message: Array("what do ya want for nothing?".utf8),
            expected: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        Vector(
            name: "RFC 4231 test case 3", key: [UInt8](repeating: 0xaa, count: 20),
            message: [UInt8](repeating: 0xdd, count: 50),
            expected: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        ),
        Vector(
            name: "RFC 4231 test case 4", key: Array(1...25), message: [UInt8](repeating: 0xcd, count: 50),
            expected: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        ),
        Vector(
            name: "RFC 4231 test case 6 (131-byte key, longer than the block)", key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            expected: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        Vector(
            name: "RFC 4231 test case 7 (long key and long data)", key: [UInt8](repeating: 0xaa, count: 131),
            message: Array(
                ("This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
                    + "be hashed before being used by the HMAC algorithm.").utf8
            ),
            expected: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ]

    @Test("RFC 4231 vectors", arguments: rfc4231)
    func rfc4231Vectors(vector: Vector) {
        let mac = HMACSHA256.authenticate(key: vector.key, message: vector.message)
        #expect(mac.count == 32)
        #expect(mac.hexString == vector.expected)
    }

    @Test("RFC 4231 test case 5: the first 128 bits match the truncated vector")
    func truncatedVector() {
        let mac = HMACSHA256.authenticate(key: [UInt8](repeating: 0x0c, count: 20), message: Array("Test With Truncation".utf8))
        #expect(mac.prefix(16).hexString == "a3b6167473100ee06e0c796c2955552b")
    }

    @Test("an empty key and an empty message are accepted")
    func emptyKeyAndMessage() {
        #expect(HMACSHA256.authenticate(key: [], message: []).hexString == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
        #expect(HMACSHA256.hex(key: "", message: "") == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
        #expect(
            HMACSHA256.hex(key: "", message: "The quick brown fox jumps over the lazy dog")
                == "fb011e6154a19b9a4c767373c305275a5a69e8b68b0b4c9200c383dced19a416"
        )
    }

    @Test("hex(key:message:) uses the UTF-8 bytes of both strings")
    func stringKeyAndMessage() {
        #expect(
            HMACSHA256.hex(key: "key", message: "The quick brown fox jumps over the lazy dog")
                == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        )
    }

    @Test("a key that is not valid hex is used as its UTF-8 bytes")
    func nonHexKey() {
        #expect(
            HMACSHA256.hex(key: "zz-not-hex-secret", message: "v0:1700000000:body")
                == "7b3c5d820d765426f4b7e5794acbf507b37a3f47e970e9e259466e7a8d35c248"
        )
    }

    @Test("a key that looks like hex is still used as its UTF-8 bytes, never decoded")
    func hexLookingKeyIsNotDecoded() {
        let asText = "a45e1894d39096616f349cc98177f429d480d5882bf5153ffdf3618409dbe501"
        let asDecodedHex = "e301bf3e1f76e79b84e3c135f4463c79ee269286c0f10fa7026bc43a2afa2ec9"
        #expect(HMACSHA256.hex(key: "8f42a7", message: "payload") == asText)
        #expect(HMACSHA256.authenticate(key: Array("8f42a7".utf8), message: Array("payload".utf8)).hexString == asText)
        #expect(HMACSHA256.authenticate(key: [0x8f, 0x42, 0xa7], message: Array("payload".utf8)).hexString == asDecodedHex)
    }

    @Test("keys of exactly the block size and one byte over")
    func blockSizeBoundary() {
        #expect(
            HMACSHA256.hex(key: String(repeating: "k", count: 64), message: "m")
                == "3b7a8d453e76edb519238a515105a57508d0f169f480ebeee120a9e7803289fa"
        )
        #expect(
            HMACSHA256.hex(key: String(repeating: "k", count: 65), message: "m")
                == "c2d7d4c2256ddb097409ec0c67e1d58fa1a007fc6932cac0d892a525d08af7cc"
        )
    }

    @Test("a different key or message gives a different MAC")
    func sensitivity() {
        let base = HMACSHA256.hex(key: "secret", message: "body")
        #expect(HMACSHA256.hex(key: "secreT", message: "body") != base)
        #expect(HMACSHA256.hex(key: "secret", message: "body ") != base)
        #expect(HMACSHA256.hex(key: "secret", message: "body") == base)
    }
}
