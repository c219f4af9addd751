import DomainTestSupport
import Foundation
import Testing

import ApprovalCore
import Signing

/// RFC 8785 (JCS). Expected texts come from the RFC itself, ECMAScript (`String(x)` in Node), and digests from
/// Python's `hashlib` over `json.dumps(sort_keys=True, separators=(",", ":"))`, used only where that equals JCS.
@Suite("CanonicalJSON")
struct CanonicalJSONTests {
    // MARK: Structure

    @Test("literals and empty containers")
    func literals() {
        #expect(CanonicalJSON.serialize(.null) == "null")
        #expect(CanonicalJSON.serialize(.bool(true)) == "true")
        #expect(CanonicalJSON.serialize(.bool(false)) == "false")
        #expect(CanonicalJSON.serialize(.object([:])) == "{}")
        #expect(CanonicalJSON.serialize(.array([])) == "[]")
        #expect(CanonicalJSON.serialize(.string("")) == #""""#)
    }

    @Test("object keys are sorted and no white space is inserted, at every depth")
    func nestedObjectsSorted() {
        let value: JSONValue = .object([
            "z": .object(["b": .array([.number(3), .number(2), .number(1)]), "a": .object(["y": .string("x"), "x": .string("y")])]),
            "a": .array([.object(["k": .number(-1)]), .array([]), .object([:])]),
            "m": .string("tab\there"),
        ])
        #expect(CanonicalJSON.serialize(value) == #"{"a":[{"k":-1},[],{}],"m":"tab\there","z":{"a":{"x":"y","y":"x"},"b":[3,2,1]}}"#)
    }

    @Test("array order is kept, never sorted")
    func arrayOrderKept() {
        let value: JSONValue = .array([.string("b"), .string("a"), .number(2), .number(1), .null, .bool(false)])
        #expect(CanonicalJSON.serialize(value) == #"["b","a",2,1,null,false]"#)
    }

    @Test("keys sort by code unit, so upper case precedes lower case and shorter prefixes come first")
    func asciiKeyOrder() {
        let value: JSONValue = .object([
            "b": .number(1), "B": .number(2), "a": .number(3), "aa": .number(4), "A": .number(5), "_": .number(6),
            "1": .number(7), "10": .number(8), "2": .number(9),
        ])
        #expect(CanonicalJSON.serialize(value) == #"{"1":7,"10":8,"2":9,"A":5,"B":2,"_":6,"a":3,"aa":4,"b":1}"#)
    }

    @Test("RFC 8785 §3.2.3: keys sort by UTF-16 code units, so an astral emoji precedes U+FB33")
    func rfcSortingExample() {
        let value: JSONValue = .object([
            "\u{20ac}": .string("Euro Sign"),
            "\r": .string("Carriage Return"),
            "\u{fb33}": .string("Hebrew Letter Dalet With Dagesh"),
            "1": .string("One"),
            "\u{1f600}": .string("Emoji: Grinning Face"),
            "\u{80}": .string("Control"),
            "\u{f6}": .string("Latin Small Letter O With Diaeresis"),
        ])
        let expected =
            #"{"\r":"Carriage Return","1":"One","\#u{80}":"Control","ö":"Latin Small Letter O With Diaeresis","#
            + #""€":"Euro Sign","😀":"Emoji: Grinning Face","דּ":"Hebrew Letter Dalet With Dagesh"}"#
        #expect(CanonicalJSON.serialize(value) == expected)
        // The same values, in the RFC's order, read off the serialised keys.
        let order = ["\r", "1", "\u{80}", "\u{f6}", "\u{20ac}", "\u{1f600}", "\u{fb33}"]
        let serialized = CanonicalJSON.serialize(value)
        let positions = order.map { key in
            serialized.range(of: "\"" + (key == "\r" ? "\\r" : key) + "\":")!.lowerBound
        }
        #expect(positions == positions.sorted())
    }

    @Test("the RFC 8785 §3.2.2 example parses and serialises to the RFC's output, byte for byte")
    func rfcFullExample() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        let canonical = CanonicalJSON.serialize(try JSONValue.parse(input))
        #expect(canonical == expected)
        // RFC 8785 §3.2.4 lists these UTF-8 bytes.
        #expect(
            Array(canonical.utf8).map { String($0, radix: 16) }.joined()
                == "7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b3333333333333333332e"
                + "333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac245c75303030665c"
                + "6e4127425c225c5c5c5c5c222f227d"
        )
        #expect(CanonicalJSON.sha256(of: try JSONValue.parse(input)) == "2d5e01a318d0f0879ab568c4be289c8b1f64ef8921a53c6277d5e069978baacb")
    }

    // MARK: Strings

    @Test(
        "strings carry only the required escapes",
        arguments: [
            ("\"", #""\"""#),
            ("\\", #""\\""#),
            ("/", #""/""#),
            ("a/b</script>", #""a/b</script>""#),
            ("\u{08}", #""\b""#),
            ("\u{0C}", #""\f""#),
            ("\n", #""\n""#),
            ("\r", #""\r""#),
            ("\t", #""\t""#),
            ("\u{00}", #""\u0000""#),
            ("\u{01}", #""\u0001""#),
            ("\u{0B}", #""\u000b""#),
            ("\u{0F}", #""\u000f""#),
            ("\u{1B}", #""\u001b""#),
            ("\u{1F}", #""\u001f""#),
            ("\u{7F}", "\"\u{7F}\""),
            (" ", #"" ""#),
            ("é", #""é""#),
            ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
            ("€😀", #""€😀""#),
            ("'", #""'""#),
        ]
    )
    func stringEscapes(text: String, expected: String) {
        #expect(CanonicalJSON.serialize(.string(text)) == expected)
    }

    @Test("every control character below U+0020 is escaped, short forms where JSON has one, else lowercase \\u00xx")
    func allControlCharacters() {
        let short: [UInt32: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        for code in UInt32(0)..<0x20 {
            let text = String(Character(Unicode.Scalar(code)!))
            let hex = String(code, radix: 16)
            let expected = short[code] ?? "\\u00" + (hex.count == 1 ? "0" + hex : hex)
            #expect(CanonicalJSON.serialize(.string(text)) == "\"" + expected + "\"", "U+\(hex)")
        }
    }

    @Test("keys are escaped like string values")
    func keyEscapes() {
        let value: JSONValue = .object(["a\"b": .number(1), "\u{01}": .number(2), "c\\d": .number(3)])
        #expect(CanonicalJSON.serialize(value) == #"{"\u0001":2,"a\"b":1,"c\\d":3}"#)
    }

    @Test("non-ASCII text is written as literal UTF-8, not escaped")
    func nonASCIILiteral() {
        let serialized = CanonicalJSON.serialize(.object(["ключ": .string("значение €")]))
        #expect(serialized == #"{"ключ":"значение €"}"#)
        #expect(!serialized.contains("\\u"))
        #expect(Array(serialized.utf8).count == 35)
    }

    @Test("decomposed and precomposed text keep their own code points")
    func noNormalisation() {
        #expect(CanonicalJSON.serialize(.string("e\u{301}")).unicodeScalars.map(\.value) == [0x22, 0x65, 0x301, 0x22])
        #expect(CanonicalJSON.serialize(.string("\u{e9}")).unicodeScalars.map(\.value) == [0x22, 0xe9, 0x22])
        #expect(CanonicalJSON.sha256(of: .string("e\u{301}")) != CanonicalJSON.sha256(of: .string("\u{e9}")))
    }

    // MARK: Numbers

    @Test(
        "RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript form",
        arguments: [
            (0x0000_0000_0000_0000 as UInt64, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
            (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
            (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
            (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
            (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"),
            (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"),
            (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"),
            (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ]
    )
    func appendixB(bits: UInt64, expected: String) {
        #expect(CanonicalJSON.format(Double(bitPattern: bits)) == expected)
    }

    @Test(
        "ECMAScript Number-to-String for decimal literals",
        arguments: [
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("-1e21", "-1e+21"),
            ("1e-7", "1e-7"),
            ("1.2e-7", "1.2e-7"),
            ("0.000001", "0.000001"),
            ("0.0000015", "0.0000015"),
            ("333333333.33333329", "333333333.3333333"),
            ("1e23", "1e+23"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("9007199254740992", "9007199254740992"),
            ("9007199254740994", "9007199254740994"),
            ("295147905179352830000", "295147905179352830000"),
            ("123456789012345680000", "123456789012345680000"),
            ("18446744073709551616", "18446744073709552000"),
            ("4.5", "4.5"),
            ("4.50", "4.5"),
            ("-0.5", "-0.5"),
            ("0.1", "0.1"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("0.33333333333333331", "0.3333333333333333"),
            ("0.002", "0.002"),
            ("1e30", "1e+30"),
            ("1e-27", "1e-27"),
            ("1e100", "1e+100"),
            ("1.23e-18", "1.23e-18"),
            ("1234.5678", "1234.5678"),
            ("100", "100"),
            ("1", "1"),
            ("-1", "-1"),
            ("42", "42"),
            ("-42", "-42"),
            ("10", "10"),
            ("1.5", "1.5"),
        ]
    )
    func ecmaScriptFormatting(literal: String, expected: String) throws {
        let value = try #require(Double(literal))
        #expect(CanonicalJSON.format(value) == expected)
    }

    /// A sample of a larger random comparison (about 63,000 doubles) against Node's `String(x)`.
    @Test(
        "random doubles print as ECMAScript prints them",
        arguments: [
            (0xd331_3399_863c_1133, "-5.606431889661715e+92"),
            (0x4408_fc4d_cb47_3a01, "57612783568321260000"),
            (0x581a_db07_7195_010f, "2.645409553587904e+116"),
            (0xe483_360b_8a94_00b4, "-1.520477581139492e+176"),
            (0x8e58_ed4b_b680_5a80, "-1.4953138921952785e-239"),
            (0x5df6_eb3d_777e_3f9d, "4.471691477246104e+144"),
            (0x9ec4_bd00_f77c_93eb, "-1.8438491554567324e-160"),
            (0x261b_db49_7635_e823, "4.115188751186008e-125"),
            (0x6974_a771_891c_cc99, "9.88104580324428e+199"),
            (0xa1f6_b399_d14e_6aa3, "-4.545042116311942e-145"),
            (0xee8a_ce81_33b1_c1c2, "-3.100769448080508e+224"),
            (0xf8e5_5c81_0f21_42cb, "-2.311184663304213e+274"),
            (0xcaa4_62af_bc39_4363, "-3.813559407252987e+51"),
            (0x1b2b_e7c6_321a_1d9b, "8.607961680599913e-178"),
            (0x9d84_d2d7_b33f_a1ee, "-1.7656649625751492e-166"),
            (0x40da_c801_7d3a_d15b, "27424.023268417786"),
            (0x4360_9cba_a09f_1200, "37407400000000000"),
            (0x4301_8fbf_ac84_f000, "617891000000000"),
            (0x4041_69fb_e76c_8b44, "34.828"),
            (0x422d_463f_38c0_0000, "62866300000"),
            (0x45f2_9f31_1995_7992, "9.22109e+28"),
            (0x4191_8241_d000_0000, "73437300"),
            (0x45f1_21d5_ef71_3413, "8.48344e+28"),
            (0x4623_7ae2_6eeb_035e, "7.71683e+29"),
            (0x42b8_c849_29c5_0000, "27248500000000"),
            (0x3fb8_c1cb_e7ca_7f15, "0.0967071"),
            (0x3f33_b43c_de01_d36a, "0.00030066"),
            (0x40ea_6ba6_6666_6666, "54109.2"),
            (0x43a3_d28c_adda_9f66, "714179355077489400"),
            (0x64e8_5f77_892e_79a5, "1.23456789e+178"),
            (0xbedb_1df2_24db_41c9, "-0.000006465190905039329"),
            (0x43a1_fa34_0f85_75d6, "647702542045342500"),
            (0x451e_c087_c758_52d0, "9.294243406980466e+24"),
            (0x43af_26e0_6557_956e, "1122364095078250200"),
            (0x438f_b0ff_abd9_a830, "285450765579126270"),
            (0x451f_7658_a477_4dfd, "9.508893704384326e+24"),
            (0xbedb_4e50_f76d_74ad, "-0.000006510239351023892"),
            (0x3fbb_1c3a_dac9_5f70, "0.10589950410337479"),
            (0x451e_fed0_7a0b_07f2, "9.367775347996633e+24"),
            (0x4512_ceff_95ee_fe12, "5.684546743031294e+24"),
        ] as [(UInt64, String)]
    )
    func randomSampleAgainstECMAScript(bits: UInt64, expected: String) {
        #expect(CanonicalJSON.format(Double(bitPattern: bits)) == expected)
    }

    @Test("arithmetic results print their shortest round-trip digits")
    func arithmetic() {
        #expect(CanonicalJSON.format(0.1 + 0.2) == "0.30000000000000004")
        #expect(CanonicalJSON.format(1.0 / 3.0) == "0.3333333333333333")
        #expect(CanonicalJSON.format(-2.0 / 3.0) == "-0.6666666666666666")
    }

    @Test("negative zero is written as 0")
    func negativeZero() {
        #expect(CanonicalJSON.format(-0.0) == "0")
        #expect(CanonicalJSON.serialize(.number(-0.0)) == "0")
        #expect(CanonicalJSON.serialize(.array([.number(-0.0), .number(0.0)])) == "[0,0]")
    }

    @Test("integral values never get a fraction or exponent below 1e21")
    func integers() {
        #expect(CanonicalJSON.format(1_000_000) == "1000000")
        #expect(CanonicalJSON.format(123_456_789_012_345) == "123456789012345")
        #expect(CanonicalJSON.format(9_007_199_254_740_991) == "9007199254740991")
        #expect(CanonicalJSON.format(-9_007_199_254_740_991) == "-9007199254740991")
    }

    // MARK: Digests

    @Test(
        "sha256(of:) is the lowercase hex SHA-256 of the canonical UTF-8 text",
        arguments: [
            (
                #"{"service":"api","environment":"production","commit":"9f3c2e1","replicas":3,"canary":true,"notes":null}"#,
                #"{"canary":true,"commit":"9f3c2e1","environment":"production","notes":null,"replicas":3,"service":"api"}"#,
                "fd08b2de44e350c378906f28407b462700b1c9b2889fe67e522d5f69f7c4236e"
            ),
            (
                #"{"z":{"b":[3,2,1],"a":{"y":"x","x":"y"}},"a":[{"k":-1},[],{}],"m":"tab\there"}"#,
                #"{"a":[{"k":-1},[],{}],"m":"tab\there","z":{"a":{"x":"y","y":"x"},"b":[3,2,1]}}"#,
                "d79fa41db729e9ce42ae634190ac2f505d0dc8a5871febf0b73cf08684883109"
            ),
            ("{}", "{}", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
            (
                #"{"zero":0,"one":1,"neg":-42,"big":9007199254740991}"#,
                #"{"big":9007199254740991,"neg":-42,"one":1,"zero":0}"#,
                "5aa763085e94369b0e70e91b2dd5c457f464dc4228cc2917b025d92e9f1a296f"
            ),
        ]
    )
    func pinnedDigests(input: String, canonical: String, digest: String) throws {
        let value = try JSONValue.parse(input)
        #expect(CanonicalJSON.serialize(value) == canonical)
        #expect(CanonicalJSON.sha256(of: value) == digest)
    }

    @Test("white space and key order in the source text do not change the digest")
    func digestIgnoresLayout() throws {
        let compact = try JSONValue.parse(#"{"a":1,"b":[true,null]}"#)
        let spaced = try JSONValue.parse("{\n  \"b\" : [ true , null ],\n\t\"a\" : 1.0\n}")
        #expect(CanonicalJSON.sha256(of: compact) == CanonicalJSON.sha256(of: spaced))
    }

    @Test("any change of value changes the digest")
    func digestSensitivity() {
        let base = CanonicalJSON.sha256(of: .object(["replicas": .number(3)]))
        #expect(CanonicalJSON.sha256(of: .object(["replicas": .number(4)])) != base)
        #expect(CanonicalJSON.sha256(of: .object(["replicas": .string("3")])) != base)
        #expect(CanonicalJSON.sha256(of: .object(["Replicas": .number(3)])) != base)
        #expect(CanonicalJSON.sha256(of: .object(["replicas": .number(3)])) == base)
        #expect(base.count == 64 && base == base.lowercased())
    }
}

@Suite("Audit entry hashing")
struct AuditEntryHashTests {
    @Test("an entry's hash covers the previous hash and the entry's members as a canonical object, written the fast way")
    func hashIsCanonical() {
        let cases: [(seq: Int64, at: Int64, kind: String, approvalID: String?, actor: String, details: String)] = [
            (1, 1_795_310_563_000, "created", "apr_x", "key:ci", #"{"a":1}"#),
            (2, 0, "auth_refused", nil, "anonymous", "{}"),
            (9_007_199_254_740_991, -5, "weird \"kind\"\n", "apr_\u{E000}😀", "U1\t", #"{"nested":{"x":"é"}}"#),
        ]
        for entry in cases {
            let previous = String(repeating: "ab", count: 32)
            let object: JSONValue = .object([
                "seq": .number(Double(entry.seq)), "at": .number(Double(entry.at)), "kind": .string(entry.kind),
                "approval_id": entry.approvalID.map(JSONValue.string) ?? .null, "actor": .string(entry.actor),
                "details": .string(entry.details),
            ])
            let expected = SHA256.hash(Array((previous + "\n" + CanonicalJSON.serialize(object)).utf8)).hexString
            #expect(
                AuditEntry.hash(
                    seq: entry.seq, at: entry.at, kind: entry.kind, approvalID: entry.approvalID, actor: entry.actor,
                    details: entry.details, prevHash: previous) == expected)
        }
    }
}
