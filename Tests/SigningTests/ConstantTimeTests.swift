import Testing

import Signing

@Suite("ConstantTime")
struct ConstantTimeTests {
    @Test("equal byte arrays are equal")
    func equalBytes() {
        let bytes: [UInt8] = Array(0...255)
        #expect(ConstantTime.equals(bytes, bytes))
        #expect(ConstantTime.equals([0x00], [0x00]))
    }

    @Test("two empty inputs are equal")
    func empty() {
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
        #expect(ConstantTime.equals("", ""))
    }

    @Test("different lengths are unequal, even when one is a prefix of the other")
    func differentLengths() {
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equals([1, 2], [1, 2, 3]))
        #expect(!ConstantTime.equals([], [0]))
        #expect(!ConstantTime.equals([0], []))
        #expect(!ConstantTime.equals("abc", "abcd"))
        #expect(!ConstantTime.equals("", "a"))
    }

    @Test("a difference in the first byte is found")
    func differsInFirstByte() {
        #expect(!ConstantTime.equals([0x00, 2, 3, 4], [0x80, 2, 3, 4]))
        #expect(!ConstantTime.equals("v0=abc", "w0=abc"))
    }

    @Test("a difference in the last byte is found")
    func differsInLastByte() {
        let a = [UInt8](repeating: 7, count: 32)
        var b = a
        b[31] ^= 0x01
        #expect(!ConstantTime.equals(a, b))
        #expect(!ConstantTime.equals("v0=abcdef", "v0=abcdeF"))
    }

    @Test("each single-bit flip in any position is found")
    func everyBitFlip() {
        let a: [UInt8] = Array(SHA256.hash(Array("x".utf8)))
        for index in a.indices {
            for bit in 0..<8 {
                var b = a
                b[index] ^= UInt8(1) << UInt8(bit)
                #expect(!ConstantTime.equals(a, b), "flip of bit \(bit) at byte \(index) not detected")
            }
        }
    }

    @Test("strings compare by their UTF-8 bytes")
    func stringsByUTF8() {
        #expect(ConstantTime.equals("héllo", "héllo"))
        // Canonically equivalent but different bytes: a signature check must not treat them as equal.
        #expect(!ConstantTime.equals("\u{e9}", "e\u{301}"))
    }
}
