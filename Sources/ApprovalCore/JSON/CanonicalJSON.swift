import Signing

/// RFC 8785 (JSON Canonicalization Scheme) serialisation and the digest that binds an approval to its payload.
public enum CanonicalJSON {
    /// The canonical UTF-8 text of `value`.
    public static func serialize(_ value: JSONValue) -> String {
        String(decoding: utf8(value), as: UTF8.self)
    }

    /// The canonical form as UTF-8 bytes, ready for a digest or a response body without another copy.
    public static func utf8(_ value: JSONValue) -> [UInt8] {
        var writer = Writer()
        writer.value(value)
        return writer.bytes
    }

    /// Lowercase hex SHA-256 of the canonical form: the contract's `payload_sha256`.
    public static func sha256(of value: JSONValue) -> String {
        SHA256.hash(utf8(value)).hexString
    }

    /// The canonical form laid out for people: two-space indentation, one member per line, same key order.
    public static func pretty(_ value: JSONValue) -> String {
        var out = ""
        writePretty(value, indent: 0, into: &out)
        return out
    }

    private static func writePretty(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad
                writePretty(item, indent: indent + 1, into: &out)
                out += index < items.count - 1 ? ",\n" : "\n"
            }
            out += closing + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            let sorted = members.sorted { precedes($0.key, $1.key) }
            for (index, member) in sorted.enumerated() {
                out += pad
                out += serialize(.string(member.key))
                out += ": "
                writePretty(member.value, indent: indent + 1, into: &out)
                out += index < sorted.count - 1 ? ",\n" : "\n"
            }
            out += closing + "}"
        default:
            out += serialize(value)
        }
    }

    /// Whether object key `a` sorts before `b` in RFC 8785 §3.2.3 order: by UTF-16 code units, not by scalars or bytes.
    ///
    /// Compared on UTF-8, which orders like UTF-16 except that U+E000–U+FFFF sort after the astral planes in
    /// UTF-8 and before them in UTF-16 (surrogates are 0xD800–0xDFFF); such a first difference is flipped.
    /// Comparing UTF-8 needs no transcoding, and nearly every key is ASCII.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                var index = 0
                while index < common {
                    let p = x[index]
                    let q = y[index]
                    if p != q {
                        // Equal bytes so far end on a scalar boundary, so differing lead bytes mean differing planes.
                        if p >= 0xEE && p <= 0xEF && q >= 0xF0 { return false }
                        if q >= 0xEE && q <= 0xEF && p >= 0xF0 { return true }
                        return p < q
                    }
                    index += 1
                }
                return x.count < y.count
            }
        }
    }

    /// Builds canonical JSON as UTF-8 bytes. Callers that lay out an object themselves (with keys they know
    /// already in canonical order) use `raw` for the punctuation and the typed methods for the values.
    public struct Writer {
        public private(set) var bytes: [UInt8]

        public init(capacity: Int = 256) {
            bytes = []
            bytes.reserveCapacity(capacity)
        }

        /// Appends ASCII text as it is: punctuation and keys known to need no escaping.
        public mutating func raw(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        /// Appends bytes as they are: canonical JSON produced earlier.
        public mutating func raw(_ utf8: some Collection<UInt8>) {
            bytes.append(contentsOf: utf8)
        }

        public mutating func value(_ value: JSONValue) {
            switch value {
            case .null: raw("null")
            case .bool(let flag): flag ? raw("true") : raw("false")
            case .number(let number): self.number(number)
            case .string(let text): string(text)
            case .array(let items):
                bytes.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    self.value(item)
                }
                bytes.append(UInt8(ascii: "]"))
            case .object(let members):
                bytes.append(UInt8(ascii: "{"))
                var first = true
                for member in members.sorted(by: { CanonicalJSON.precedes($0.key, $1.key) }) {
                    if !first { bytes.append(UInt8(ascii: ",")) }
                    first = false
                    string(member.key)
                    bytes.append(UInt8(ascii: ":"))
                    self.value(member.value)
                }
                bytes.append(UInt8(ascii: "}"))
            }
        }

        public mutating func number(_ value: Double) {
            // Integers below 2^53 print as their digits in ECMAScript, exactly as Int64's description does.
            if value.rounded(.towardZero) == value, abs(value) < 9_007_199_254_740_992, value != 0 {
                bytes.append(contentsOf: String(Int64(value)).utf8)
            } else {
                bytes.append(contentsOf: CanonicalJSON.format(value).utf8)
            }
        }

        /// Appends `null` for `nil`.
        public mutating func string(_ text: String?) {
            guard var text else { return raw("null") }
            bytes.append(UInt8(ascii: "\""))
            text.withUTF8 { utf8 in
                // Copy runs that need no escaping in one go; most strings are a single run.
                var runStart = 0
                for index in 0..<utf8.count {
                    let byte = utf8[index]
                    guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    runStart = index + 1
                    switch byte {
                    case UInt8(ascii: "\""): raw(#"\""#)
                    case UInt8(ascii: "\\"): raw(#"\\"#)
                    case 0x08: raw(#"\b"#)
                    case 0x0C: raw(#"\f"#)
                    case 0x0A: raw(#"\n"#)
                    case 0x0D: raw(#"\r"#)
                    case 0x09: raw(#"\t"#)
                    default:
                        let hex: [UInt8] = Array("0123456789abcdef".utf8)
                        raw(#"\u00"#)
                        bytes.append(hex[Int(byte >> 4)])
                        bytes.append(hex[Int(byte & 0x0F)])
                    }
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }

    /// ECMAScript's Number-to-String (ECMA-262 §7.1.12.1), which RFC 8785 adopts for numbers.
    public static func format(_ value: Double) -> String {
        precondition(value.isFinite, "JSON numbers are finite")
        if value == 0 { return "0" }  // both +0 and -0
        // Swift's description prints the shortest digits that round-trip; only the layout differs from ECMAScript.
        let text = abs(value).description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = pieces[0]
        let fractionPart = pieces.count > 1 ? pieces[1] : ""
        var digits = Array(integerPart + fractionPart)
        var point = integerPart.count + exponent  // the decimal point sits after this many digits
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count
        let n = point
        let body: String
        if k <= n && n <= 21 {
            body = String(digits) + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            body = String(digits[..<n]) + "." + String(digits[n...])
        } else if -6 < n && n <= 0 {
            body = "0." + String(repeating: "0", count: -n) + String(digits)
        } else {
            let e = n - 1
            let head = String(digits[0]) + (k > 1 ? "." + String(digits[1...]) : "")
            body = head + "e" + (e < 0 ? "-" : "+") + String(abs(e))
        }
        return value < 0 ? "-" + body : body
    }
}
