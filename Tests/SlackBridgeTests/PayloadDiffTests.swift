import ApprovalCore
import SlackBridge
import Testing

@Suite("PayloadDiff")
struct PayloadDiffTests {
    @Test("an edit lists changed, added and removed members by path, in key order")
    func changedAddedRemoved() {
        let lines = PayloadDiff.lines(from: SampleApprovals.deployPayload, to: SampleApprovals.editedDeployPayload)
        #expect(lines == [
            "+ max_surge: 1",
            "~ options.canary: true → false",
            "~ replicas: 3 → 1",
            "- skip_tests: true",
        ])
    }

    @Test("equal payloads have no lines")
    func equal() {
        #expect(PayloadDiff.lines(from: SampleApprovals.deployPayload, to: SampleApprovals.deployPayload) == [])
        #expect(PayloadDiff.lines(from: .object([:]), to: .object([:])) == [])
    }

    @Test("a deeply nested change is named by its whole path")
    func nestedPath() {
        let old: JSONValue = .object(["a": .object(["b": .object(["c": .object(["d": .string("x")])])])])
        let new: JSONValue = .object(["a": .object(["b": .object(["c": .object(["d": .string("y"), "e": .null])])])])
        #expect(PayloadDiff.lines(from: old, to: new) == [#"~ a.b.c.d: "x" → "y""#, "+ a.b.c.e: null"])
    }

    @Test("an added or removed object is one line with its value")
    func wholeObject() {
        let old: JSONValue = .object(["keep": .number(1)])
        let new: JSONValue = .object(["keep": .number(1), "options": .object(["a": .number(1), "b": .array([.bool(true)])])])
        #expect(PayloadDiff.lines(from: old, to: new) == [#"+ options: {"a":1,"b":[true]}"#])
        #expect(PayloadDiff.lines(from: new, to: old) == [#"- options: {"a":1,"b":[true]}"#])
    }

    @Test("arrays and changes of type are shown as whole values")
    func arraysAndTypes() {
        let old: JSONValue = .object(["list": .array([.number(1), .number(2)]), "flag": .string("true")])
        let new: JSONValue = .object(["list": .array([.number(1), .number(3)]), "flag": .bool(true)])
        #expect(PayloadDiff.lines(from: old, to: new) == [#"~ flag: "true" → true"#, "~ list: [1,2] → [1,3]"])
    }

    @Test("a payload that is not an object is named as a whole")
    func rootValue() {
        #expect(PayloadDiff.lines(from: .array([]), to: .object([:])) == ["~ (payload): [] → {}"])
    }

    @Test("long values are cut to 80 characters")
    func longValues() throws {
        let lines = PayloadDiff.lines(from: .object(["k": .string(String(repeating: "a", count: 200))]), to: .object([:]))
        let line = try #require(lines.first)
        #expect(lines.count == 1)
        #expect(line == "- k: \"" + String(repeating: "a", count: 78) + "…")
        #expect(line.dropFirst("- k: ".count).count == 80)
    }

    static func changes(_ count: Int) -> (JSONValue, JSONValue) {
        let keys = (0..<count).map { "key_\(String(format: "%03d", $0))" }
        return (
            .object(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.number(0)) })),
            .object(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.number(1)) }))
        )
    }

    @Test("at most `limit` lines are listed, then how many more there are")
    func limit() throws {
        let (old, new) = Self.changes(25)
        let lines = PayloadDiff.lines(from: old, to: new)
        #expect(lines.count == 21)
        #expect(lines.first == "~ key_000: 0 → 1")
        #expect(lines[19] == "~ key_019: 0 → 1")
        #expect(lines.last == "… and 5 more changes")

        let (one, more) = Self.changes(21)
        #expect(PayloadDiff.lines(from: one, to: more).last == "… and 1 more change")
        let (at, limit) = Self.changes(20)
        #expect(PayloadDiff.lines(from: at, to: limit).count == 20)
        #expect(PayloadDiff.lines(from: at, to: limit).last == "~ key_019: 0 → 1")
        #expect(PayloadDiff.lines(from: old, to: new, limit: 3) == ["~ key_000: 0 → 1", "~ key_001: 0 → 1", "~ key_002: 0 → 1", "… and 22 more changes"])
    }

    @Test("keys are ordered as the canonical form orders them, by UTF-16 code units")
    func keyOrder() {
        // U+FB01 sorts after U+1F511 in UTF-16 (0xD83D… < 0xFB01) but before it by scalar.
        let old: JSONValue = .object(["ﬁ": .number(0), "🔑": .number(0), "a": .number(0)])
        let new: JSONValue = .object(["ﬁ": .number(1), "🔑": .number(1), "a": .number(1)])
        #expect(PayloadDiff.lines(from: old, to: new) == ["~ a: 0 → 1", "~ 🔑: 0 → 1", "~ ﬁ: 0 → 1"])
    }
}
