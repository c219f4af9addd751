/// Whether a JSON number's text survives the trip through an IEEE 754 double and back unchanged, as I-JSON
/// (RFC 7493 §2.2) asks of numbers that must mean the same to every reader.
///
/// A payload is bound to its approval by the digest of its canonical form, in which every number is a double. A
/// number that a double cannot carry (`12345678901234567891` becomes `12345678901234567000`) would be shown to the
/// approver as one value and let a different one verify, so such numbers are refused where payloads come in.
enum ExactNumber {
    /// The largest integer every double-based reader (JavaScript's `Number.MAX_SAFE_INTEGER`) holds exactly; beyond
    /// it, neighbouring integers share a double.
    static let maximumSafeInteger: Double = 9_007_199_254_740_991

    /// Whether `text`, a valid JSON number, is within ±(2^53 − 1) and names the same decimal value that `value`, its
    /// parse, prints back as (RFC 8785's shortest round-trip form).
    static func isExact(_ text: ArraySlice<UInt8>, value: Double) -> Bool {
        guard abs(value) <= maximumSafeInteger else { return false }
        // Nearly every payload number is a short integer: up to 15 digits, always exact.
        if text.count <= 16, text.allSatisfy({ $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            return true
        }
        return Decimal(text) == Decimal(ArraySlice(CanonicalJSON.format(value).utf8))
    }

    /// A decimal value in a normal form: significant digits without leading or trailing zeros, and where the decimal
    /// point goes (value = 0.d₁d₂… × 10^point). Zero has no digits and no sign.
    private struct Decimal: Equatable {
        var negative = false
        var digits: [UInt8] = []
        var point = 0

        /// Reads a JSON number (`-`, integer, optional fraction, optional exponent), valid by construction.
        init(_ text: ArraySlice<UInt8>) {
            var index = text.startIndex
            if index < text.endIndex, text[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            var integerDigits = 0
            var all: [UInt8] = []
            while index < text.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index]) {
                all.append(text[index])
                integerDigits += 1
                index += 1
            }
            if index < text.endIndex, text[index] == UInt8(ascii: ".") {
                index += 1
                while index < text.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index]) {
                    all.append(text[index])
                    index += 1
                }
            }
            var exponent = 0
            if index < text.endIndex, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") {
                index += 1
                var exponentNegative = false
                if index < text.endIndex, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                    exponentNegative = text[index] == UInt8(ascii: "-")
                    index += 1
                }
                while index < text.endIndex {
                    // Far beyond any double's range: the comparison fails either way, and the sum cannot overflow.
                    exponent = min(exponent * 10 + Int(text[index] - UInt8(ascii: "0")), 100_000_000)
                    index += 1
                }
                if exponentNegative { exponent = -exponent }
            }
            var point = integerDigits + exponent
            var first = all.startIndex
            while first < all.endIndex, all[first] == UInt8(ascii: "0") {
                first += 1
                point -= 1
            }
            var last = all.endIndex
            while last > first, all[last - 1] == UInt8(ascii: "0") { last -= 1 }
            digits = Array(all[first..<last])
            if digits.isEmpty {
                negative = false
                point = 0
            }
            self.point = point
        }
    }
}
