import Testing

import Signing

/// Expected base64url texts were computed with Python's `base64.urlsafe_b64encode`, padding removed.
@Suite("Encodings")
struct EncodingTests {
    @Test("hexString is lowercase, two digits per byte, leading zeros kept")
    func hexString() {
        #expect([UInt8]().hexString == "")
        #expect([0x00].hexString == "00")
        #expect([0x0f].hexString == "0f")
        #expect([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff].hexString == "00017f80abff")
        #expect(Array(0...255).hexString.count == 512)
        #expect(ArraySlice<UInt8>([0xde, 0xad, 0xbe, 0xef]).hexString == "deadbeef")
    }

    @Test(
        "base64url of lengths 0 to 6 uses - and _ and no padding",
        arguments: [
            ([UInt8](), ""),
            ([0xfb], "-w"),
            ([0xfb, 0xff], "-_8"),
            ([0xfb, 0xff, 0xbf], "-_-_"),
            ([0xfb, 0xff, 0xbf, 0x00], "-_-_AA"),
            ([0xfb, 0xff, 0xbf, 0x00, 0x3e], "-_-_AD4"),
            ([0xfb, 0xff, 0xbf, 0x00, 0x3e, 0x3f], "-_-_AD4_"),
        ]
    )
    func base64URLBytes(bytes: [UInt8], expected: String) {
        #expect(Base64URL.encode(bytes) == expected)
    }

    @Test(
        "base64url of the RFC 4648 §10 texts",
        arguments: [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ]
    )
    func base64URLRFC4648(text: String, expected: String) {
        #expect(Base64URL.encode(Array(text.utf8)) == expected)
    }

    @Test("every byte value encodes within the URL-safe alphabet")
    func base64URLAlphabet() {
        let encoded = Base64URL.encode(Array(0...255))
        #expect(encoded.count == (256 * 4 + 2) / 3)
        #expect(encoded.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(encoded.hasPrefix("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BB"))
        #expect(encoded.hasSuffix("8_T19vf4-fr7_P3-_w"))
    }
}
