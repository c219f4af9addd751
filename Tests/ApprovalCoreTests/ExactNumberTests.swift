import DomainTestSupport
import ApprovalCore
import Testing

@Suite("Exact numbers: a payload number a double cannot carry is refused, naming its place")
struct ExactNumberTests {
    @Test(
        "numbers that survive the trip through a double and back are accepted as they are",
        arguments: [
            "0", "-0", "1", "-1", "42", "9007199254740991", "-9007199254740991", "0.1", "0.5", "1.0", "1e2", "1E2", "1.5e-7",
            "123456789012345", "3.141592653589793", "-2.5e-300", "0.30000000000000004", "1e-6", "100.000",
        ])
    func exactAccepted(_ text: String) throws {
        let exact = try JSONValue.parse(#"{"n":\#(text)}"#, exactNumbers: true)
        #expect(exact == (try JSONValue.parse(#"{"n":\#(text)}"#)))
    }

    @Test(
        "integers beyond ±(2^53 − 1) and decimals that read back changed are refused",
        arguments: [
            "12345678901234567891", "9007199254740992", "9007199254740993", "-9007199254740993", "1e20", "1e300",
            "0.30000000000000000001", "1e-400", "12345678901234567891.0", "9007199254740993.0", "1.00000000000000000001",
        ])
    func inexactRefused(_ text: String) throws {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"n":\#(text)}"#, exactNumbers: true) }
        #expect(error?.kind == .inexactNumber(text))
        #expect(error?.pathText(root: "payload") == "payload.n")
    }

    @Test("the path names the member and the array index, under the root it is given")
    func pathOfNestedNumber() throws {
        let text = #"{"action":"x","payload":{"items":[{"cost":1},{"cost":2},{"cost":12345678901234567891}],"a b":{"c":1}}}"#
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(text, exactNumbers: true) }
        #expect(error?.pathText(root: "") == "payload.items[2].cost")
        let sentence = try #require(error?.inexactNumberSentence(root: ""))
        #expect(sentence.hasPrefix("The number at `payload.items[2].cost`, 12345678901234567891, cannot be carried exactly"))
        #expect(sentence.hasSuffix(#"send it as a string ("12345678901234567891")."#))

        let odd = #expect(throws: JSONParseError.self) {
            try JSONValue.parse(#"{"a b":[1e400000000000000000000000, 1]}"#, exactNumbers: true)
        }
        // Out of a double's range altogether: a syntax error (any parser), with its place all the same.
        #expect(odd?.kind == .syntax)
        let quoted = #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"a b":[1e21]}"#, exactNumbers: true) }
        #expect(quoted?.pathText(root: "payload") == #"payload["a b"][0]"#)
    }

    @Test("without exactNumbers (stored data, answers read back) such numbers still parse, as doubles")
    func lenientByDefault() throws {
        #expect(try JSONValue.parse(#"{"n":12345678901234567891}"#) == .object(["n": .number(12_345_678_901_234_567_891)]))
    }

    @Test("two integers that share a double: neither reaches a digest through an exact parse")
    func neighboursCannotShareADigest() throws {
        let a = try JSONValue.parse(#"{"n":12345678901234567891}"#)
        let b = try JSONValue.parse(#"{"n":12345678901234567890}"#)
        // The hole this closes: leniently parsed, both bind to the same digest.
        #expect(CanonicalJSON.sha256(of: a) == CanonicalJSON.sha256(of: b))
        for text in [#"{"n":12345678901234567891}"#, #"{"n":12345678901234567890}"#] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(text, exactNumbers: true) }
        }
    }
}
