import Testing

import Signing

@Suite("SecureRandom")
struct SecureRandomTests {
    @Test("bytes(count:) returns exactly the requested number of bytes", arguments: [0, 1, 16, 32, 33, 1024])
    func byteCount(count: Int) {
        #expect(SecureRandom.bytes(count: count).count == count)
    }

    @Test("two draws differ")
    func drawsDiffer() {
        // 2^-256 chance of a false failure.
        #expect(SecureRandom.bytes(count: 32) != SecureRandom.bytes(count: 32))
        #expect(SecureRandom.urlSafeToken(byteCount: 32) != SecureRandom.urlSafeToken(byteCount: 32))
    }

    @Test("the bytes are not all zero (the buffer was filled)")
    func filled() {
        // 2^-512 chance of a false failure.
        let bytes = SecureRandom.bytes(count: 64)
        #expect(bytes.contains { $0 != 0 })
    }

    @Test("every position of the buffer is filled, not only a prefix")
    func everyPositionFilled() {
        // Each position is zero in all 8 draws with chance 2^-64.
        let draws = (0..<8).map { _ in SecureRandom.bytes(count: 48) }
        for position in 0..<48 {
            #expect(draws.contains { $0[position] != 0 }, "byte \(position) was zero in every draw")
        }
    }

    @Test(
        "urlSafeToken has the unpadded base64url length for its byte count",
        arguments: [(0, 0), (1, 2), (2, 3), (3, 4), (16, 22), (32, 43), (48, 64)]
    )
    func tokenLength(byteCount: Int, expectedLength: Int) {
        #expect(SecureRandom.urlSafeToken(byteCount: byteCount).count == expectedLength)
    }

    @Test("token alphabet is URL-safe with no padding")
    func tokenAlphabet() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var seen = Set<Character>()
        for _ in 0..<200 {
            let token = SecureRandom.urlSafeToken(byteCount: 32)
            #expect(token.allSatisfy(allowed.contains), "\(token)")
            #expect(!token.contains("="))
            #expect(!token.contains("+"))
            #expect(!token.contains("/"))
            seen.formUnion(token)
        }
        // 200 × 43 characters: every symbol of the alphabet shows up, so the draw is not stuck in a sub-range.
        #expect(seen == allowed)
    }
}
