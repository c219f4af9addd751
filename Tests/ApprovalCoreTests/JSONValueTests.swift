import DomainTestSupport
import Foundation
import Testing

import ApprovalCore

@Suite("JSONValue")
struct JSONValueTests {
    @Test("booleans and the numbers 1 and 0 are not confused")
    func boolsAreNotNumbers() throws {
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse("1") == .number(1))
        #expect(try JSONValue.parse("0") == .number(0))
        #expect(try JSONValue.parse("1.0") == .number(1))
        let mixed = try JSONValue.parse("[true,1,false,0]")
        #expect(mixed == .array([.bool(true), .number(1), .bool(false), .number(0)]))
        #expect(CanonicalJSON.serialize(mixed) == "[true,1,false,0]")
    }

    @Test("null parses to .null, at the top and inside containers")
    func nulls() throws {
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse(#"{"a":null}"#) == .object(["a": .null]))
        #expect(try JSONValue.parse("[null]") == .array([.null]))
    }

    @Test("strings that look like other values stay strings")
    func stringsStayStrings() throws {
        #expect(try JSONValue.parse(#"["true","1","null",""]"#) == .array([.string("true"), .string("1"), .string("null"), .string("")]))
    }

    @Test("nested arrays and objects parse to the matching structure")
    func nested() throws {
        let value = try JSONValue.parse(#"{"a":[[1,[2,[3,[]]]],{"b":{"c":[{}]}}],"d":-0.5e1}"#)
        let expected: JSONValue = .object([
            "a": .array([
                .array([.number(1), .array([.number(2), .array([.number(3), .array([])])])]),
                .object(["b": .object(["c": .array([.object([:])])])]),
            ]),
            "d": .number(-5),
        ])
        #expect(value == expected)
        #expect(value["a"] != nil)
        #expect(value["missing"] == nil)
        #expect(value.objectValue?.count == 2)
        #expect(JSONValue.array([]).objectValue == nil)
    }

    @Test(
        "parse then serialise round-trips canonical texts unchanged",
        arguments: [
            "null", "true", "false", "0", "-1", "4.5", "1e+21", "1e-7", #""x""#, "[]", "{}",
            #"[true,false,null,1,0,"",[],{}]"#,
            #"{"a":[1,[2,[3]]],"b":{"c":{"d":null}},"e":"é€😀","f":"\u0000\n"}"#,
        ]
    )
    func roundTrip(text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(CanonicalJSON.serialize(value) == text)
        #expect(try JSONValue.parse(CanonicalJSON.serialize(value)) == value)
    }

    @Test("parse of Data and of String agree")
    func dataAndString() throws {
        let text = #"{"k":[1,"two",false]}"#
        #expect(try JSONValue.parse(Data(text.utf8)) == JSONValue.parse(text))
    }

    @Test("Codable round trip through JSONEncoder keeps the value")
    func codableRoundTrip() throws {
        let value: JSONValue = .object([
            "flag": .bool(true), "n": .number(3), "f": .number(2.5), "big": .number(1e300), "s": .string("x"),
            "list": .array([.null, .bool(false), .number(0)]),
        ])
        let data = try JSONEncoder().encode(value)
        #expect(try JSONValue.parse(data) == value)
    }

    @Test(
        "invalid JSON throws",
        arguments: [
            "", "{", "[1,2", #"{"a":}"#, #"{"a" 1}"#, "tru", "nul", #"{'a':1}"#, "{a:1}", "NaN", "Infinity", "1e400",
            "{\"a\":1}}", "[1]x", "\"unterminated", "[01]", "+1", ".5", "[1 2]", "[,1]", "/* c */ 1", #""\x""#,
            "\"a\tb\"", #""\ud800""#,
        ]
    )
    func invalidThrows(text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(text) }
    }

    /// RFC 8785 §3.1 requires I-JSON input (RFC 7493 §2.3: no duplicate names). Parsers disagree on which
    /// duplicate wins, so an approver could be shown `"replicas": 1` while a requester runs with 100.
    @Test("an object with a duplicate member name is refused")
    func duplicateNamesRefused() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"replicas":1,"replicas":100}"#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"a":{"b":1,"b":1}}"#) }
    }

    /// Swift's `String ==` treats canonically equivalent names as one key, which would silently drop a member;
    /// such names are refused as duplicates instead (fail closed).
    @Test("names that differ only in Unicode normalisation are refused rather than merged")
    func normalisationEquivalentNamesRefused() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"e\u0301":1,"\u00e9":2}"#) }
    }

    @Test(
        "strictly RFC 8259: trailing commas, leading zeros, comments, lone surrogates and raw control characters are refused",
        arguments: ["[1,]", #"{"a":1,}"#, "01", "-", "1.", "1e", "[1 2]", "// c\n1", #""\ud800""#, #""\udc00x""#, "\"a\u{01}b\"", "nul", "{\"a\" 1}"])
    func strictSyntaxRefused(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("escapes and surrogate pairs decode to the right scalars")
    func escapesDecode() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00 \u00e9 \/ \"""#) == .string("\u{1F600} é / \""))
        #expect(try JSONValue.parse("\"é😀\"") == .string("é😀"))
    }

    @Test("nesting deeper than the limit is refused instead of exhausting the stack")
    func deepNestingRefused() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(try JSONValue.parse(fine) != .null)
    }
}
