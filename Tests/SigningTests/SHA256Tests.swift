import Testing

import Signing

/// Expected digests were computed independently with Python's `hashlib` and `openssl dgst -sha256`.
@Suite("SHA256")
struct SHA256Tests {
    @Test("empty input hashes to the FIPS 180-2 empty digest")
    func emptyInput() {
        #expect(SHA256.hash([UInt8]()).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test(
        "known answers from FIPS 180-2",
        arguments: [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ]
    )
    func knownAnswers(input: String, expected: String) {
        #expect(SHA256.hexDigest(of: input) == expected)
        #expect(SHA256.hash(Array(input.utf8)).hexString == expected)
    }

    @Test("a million 'a' (multi-block input)")
    func millionA() {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(input).hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("hexDigest(of:) hashes the UTF-8 bytes of non-ASCII text")
    func utf8Text() {
        #expect(SHA256.hexDigest(of: "héllo €") == "9cb52b6d1cfc1eae34c63c2b0ff0d49ed8ef2c82482b3c455747594c83754098")
    }

    @Test("collections without contiguous storage hash the same as arrays")
    func nonContiguousCollection() {
        let bytes = Array("abc".utf8)
        let lazyBytes = bytes.lazy.map { $0 }  // no contiguous storage: takes the copying path
        #expect(SHA256.hash(lazyBytes) == SHA256.hash(bytes))
        #expect(SHA256.hash("abc".utf8).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(bytes[1...]) == SHA256.hash(Array("bc".utf8)))
    }

    @Test("a digest is 32 bytes and 64 lowercase hex digits")
    func digestShape() {
        let digest = SHA256.hash(Array("gatehouse".utf8))
        #expect(digest.count == SHA256.byteCount)
        #expect(SHA256.byteCount == 32)
        let hex = SHA256.hexDigest(of: "gatehouse")
        #expect(hex.count == 64)
        #expect(hex.allSatisfy { "0123456789abcdef".contains($0) })
    }
}
