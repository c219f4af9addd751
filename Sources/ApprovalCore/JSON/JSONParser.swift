import Foundation

/// Why a JSON text was refused.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not JSON, or JSON this parser refuses on purpose (duplicate names, too deep).
        case syntax
        /// Well-formed, but a number that a double cannot carry exactly (see `JSONValue.parse(_:exactNumbers:)`).
        case inexactNumber(String)
    }

    public var message: String
    /// Byte offset into the input.
    public var offset: Int
    public var kind: Kind
    /// Where in the document the problem is, outermost first: member names (`.string`) and array indices (`.number`).
    public var path: [JSONValue]

    init(message: String, offset: Int, kind: Kind = .syntax, path: [JSONValue] = []) {
        self.message = message
        self.offset = offset
        self.kind = kind
        self.path = path
    }

    public var description: String { "\(message) at byte \(offset)" }

    /// The path as people read it, under `root`: `payload.items[2].cost`, `payload["a b"]`.
    public func pathText(root: String) -> String {
        var text = root
        for component in path {
            switch component {
            case .number(let index): text += "[\(Int(index))]"
            case .string(let name) where Self.isPlainName(name): text += text.isEmpty ? name : "." + name
            case .string(let name): text += "[\(CanonicalJSON.serialize(.string(name)))]"
            default: break
            }
        }
        return text
    }

    private static func isPlainName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    /// For an inexact number: the sentence to show, naming where it is (under `root`) and what to do instead.
    public func inexactNumberSentence(root: String) -> String? {
        guard case .inexactNumber(let text) = kind else { return nil }
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "The number at `\(pathText(root: root))`, \(shown), cannot be carried exactly by JSON (integers must be "
            + "within ±9007199254740991, and decimals must read back unchanged); send it as a string (\"\(shown)\")."
    }

    /// Adds `component` in front of the path, as the parse unwinds out of a member or an element.
    func inside(_ component: JSONValue) -> JSONParseError {
        var error = self
        error.path.insert(component, at: 0)
        return error
    }
}

extension JSONValue {
    /// Parses UTF-8 bytes strictly, like `parse(_:)`, without copying them once more.
    public static func parse(utf8 bytes: [UInt8], exactNumbers: Bool = false) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(bytes, exactNumbers: exactNumbers)
    }
}

/// A strict RFC 8259 parser. Stricter than Foundation's on purpose, because a payload's meaning must be
/// the same for the approver, the digest and the runner: duplicate member names are refused (parsers
/// disagree on which one wins), and so are names that Swift would merge because they differ only in
/// Unicode normalisation; trailing commas, comments, leading zeros and lone surrogates are refused too.
struct JSONParser {
    static let maxDepth = 256

    private let bytes: [UInt8]
    /// Refuse numbers that a double cannot carry exactly (`ExactNumber`).
    private let exactNumbers: Bool
    private var index = 0
    private var depth = 0

    init(_ bytes: [UInt8], exactNumbers: Bool = false) {
        self.bytes = bytes
        self.exactNumbers = exactNumbers
    }

    static func parse(_ bytes: [UInt8], exactNumbers: Bool = false) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes, exactNumbers: exactNumbers)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ message: String) -> JSONParseError {
        JSONParseError(message: message, offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maxDepth { throw error("nested more than \(Self.maxDepth) levels deep") }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let nameOffset = index
            let name = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value: JSONValue
            do {
                value = try parseValue()
            } catch {
                throw error.inside(.string(name))
            }
            guard members.updateValue(value, forKey: name) == nil else {
                throw JSONParseError(message: "duplicate member name \"\(name)\"", offset: nameOffset)
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            index += 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            do {
                items.append(try parseValue())
            } catch {
                throw error.inside(.number(Double(items.count)))
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            index += 1
            return .array(items)
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flushRun(_ parser: JSONParser, to end: Int, into scalars: inout String.UnicodeScalarView) throws(JSONParseError) {
            guard runStart < end else { return }
            guard let text = String(validating: parser.bytes[runStart..<end], as: UTF8.self) else {
                throw JSONParseError(message: "invalid UTF-8 in a string", offset: runStart)
            }
            scalars.append(contentsOf: text.unicodeScalars)
        }
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if scalars.isEmpty {
                    // No escapes before the closing quote (nearly every string): one validated copy of the bytes.
                    guard let text = String(validating: bytes[runStart..<index], as: UTF8.self) else {
                        throw JSONParseError(message: "invalid UTF-8 in a string", offset: runStart)
                    }
                    index += 1
                    return text
                }
                try flushRun(self, to: index, into: &scalars)
                index += 1
                return String(scalars)
            }
            if byte < 0x20 { throw error("unescaped control character in a string") }
            if byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            try flushRun(self, to: index, into: &scalars)
            index += 1
            guard index < bytes.count else { throw error("unterminated escape") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                let unit = try parseHex4()
                if (0xD800...0xDBFF).contains(unit) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("lone surrogate in a string")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate in a string") }
                    let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    scalars.append(Unicode.Scalar(value)!)
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw error("lone surrogate in a string")
                } else {
                    scalars.append(Unicode.Scalar(unit)!)
                }
            default:
                throw error("invalid escape")
            }
            runStart = index
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error("incomplete \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        func digits(_ parser: inout JSONParser) -> Int {
            let from = parser.index
            while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) {
                parser.index += 1
            }
            return parser.index - from
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw error("incomplete number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                throw error("leading zeros are not allowed")
            }
        } else if digits(&self) == 0 {
            throw error("invalid number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            if digits(&self) == 0 { throw error("digits expected after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            if digits(&self) == 0 { throw error("digits expected in the exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(message: "number out of range", offset: start)
        }
        if exactNumbers, !ExactNumber.isExact(bytes[start..<index], value: value) {
            throw JSONParseError(message: "the number \(text) cannot be carried exactly", offset: start, kind: .inexactNumber(text))
        }
        return value
    }
}
