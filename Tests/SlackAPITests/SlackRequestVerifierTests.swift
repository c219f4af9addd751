import Foundation
import SlackAPI
import Testing

@Suite("Slack request verification")
struct SlackRequestVerifierTests {
    static func verifier(secret: String, now seconds: TimeInterval) -> SlackRequestVerifier {
        SlackRequestVerifier(signingSecret: secret, now: { Date(timeIntervalSince1970: seconds) })
    }

    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let secret: String
        let timestamp: String
        let body: String
        let signature: String

        var testDescription: String { name }
    }

    /// Computed independently with Python's `hmac`/`hashlib` and pinned here.
    static let pinned: [Vector] = [
        Vector(
            name: "secret that is not hex, with non-ASCII characters", secret: "gatehouse-sécret-not-hex!ZZ",
            timestamp: "1700000000", body: "payload=%7B%22type%22%3A%22block_actions%22%7D",
            signature: "v0=ccc662b5a842a328b253d07943d6bd55603dd2f61b5791c2e686099c6a5caca5"),
        Vector(
            name: "slash-command form body", secret: "8f742231b10e8888abcd99yyyzzz85a5", timestamp: "1700000000",
            body: "command=%2Fapprove&text=deploy+to+prod+%26+more&user_id=U0123ABC&channel_id=C0APPROVALS",
            signature: "v0=344b58db39bf31da81e6721aa36c4d68bea1f303290c1d6d7245ea426b17f0a5"),
        Vector(
            name: "JSON body with Slack's escaped slashes", secret: "e6b19c573432dcc6b075501d51b51bb8",
            timestamp: "1700000300",
            body: #"{"type":"event_callback","event_id":"Ev0001","event":{"type":"app_mention","text":"see https:\/\/example.com\/runbook"}}"#,
            signature: "v0=7ec747d6c621db3d929d86237f2ba48465318cfe7491afbaab5e4bb5179f1975"),
        Vector(
            name: "the same JSON with plain slashes", secret: "e6b19c573432dcc6b075501d51b51bb8", timestamp: "1700000300",
            body: #"{"type":"event_callback","event_id":"Ev0001","event":{"type":"app_mention","text":"see https://example.com/runbook"}}"#,
            signature: "v0=21e54c1691071d73153e056c6eef7e8ec320e67401d5c682aa77c36225f2cfc3"),
        Vector(
            name: "empty body", secret: "abcdef0123456789", timestamp: "1700000000", body: "",
            signature: "v0=9ca28a9d0cca1b6c285cdf621be5c0eec971d6c2c6bfb66bb1811079aae0377f"),
        Vector(
            name: "secret that looks like hex is still used as characters",
            secret: "0123456789abcdef0123456789abcdef", timestamp: "1700000000", body: "text=hello",
            signature: "v0=0479b6b97a4b84b1df90949ed5240859d393211391511fb1cebac657d062f48b"),
    ]

    static func fixtureVectors() throws -> [Vector] {
        try ["signature_docs_example_vector.json", "signature_slack_go_vector.json"].map { name in
            let vector = try Fixture.object(name)
            return Vector(
                name: name,
                secret: try #require(vector["signing_secret"] as? String),
                timestamp: try #require(vector["timestamp"] as? String),
                body: try Fixture.text(try #require(vector["body_file"] as? String)),
                signature: try #require(vector["expected_signature"] as? String))
        }
    }

    @Test("published vectors verify with their raw body files")
    func publishedVectors() throws {
        for vector in try Self.fixtureVectors() {
            let object = try Fixture.object(vector.name)
            #expect(vector.body == object["body"] as? String, "body file and inline body agree for \(vector.name)")
            #expect(SlackSignature.compute(secret: vector.secret, timestamp: vector.timestamp, body: Array(vector.body.utf8)) == vector.signature)
            let verifier = Self.verifier(secret: vector.secret, now: TimeInterval(vector.timestamp)!)
            #expect(throws: Never.self) {
                try verifier.verify(timestamp: vector.timestamp, signature: vector.signature, body: Array(vector.body.utf8))
            }
        }
    }

    @Test("the docs example has the documented signature")
    func docsExample() throws {
        let body = try Fixture.bytes("signature_docs_example_body.txt")
        #expect(
            SlackSignature.compute(secret: "8f742231b10e8888abcd99yyyzzz85a5", timestamp: "1531420618", body: body)
                == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
    }

    @Test("published vectors are stale against today's clock")
    func publishedVectorsAreStaleNow() throws {
        for vector in try Self.fixtureVectors() {
            let verifier = SlackRequestVerifier(signingSecret: vector.secret, now: { Date() })
            #expect(throws: SlackVerificationError.stale) {
                try verifier.verify(timestamp: vector.timestamp, signature: vector.signature, body: Array(vector.body.utf8))
            }
        }
    }

    @Test("pinned vectors verify", arguments: pinned)
    func pinnedVectors(_ vector: Vector) throws {
        #expect(SlackSignature.compute(secret: vector.secret, timestamp: vector.timestamp, body: Array(vector.body.utf8)) == vector.signature)
        let verifier = Self.verifier(secret: vector.secret, now: TimeInterval(vector.timestamp)!)
        try verifier.verify(timestamp: vector.timestamp, signature: vector.signature, body: Array(vector.body.utf8))
    }

    @Test("a signature over escaped slashes does not verify the re-serialised body")
    func reserialisedJSONIsRefused() {
        let escaped = Self.pinned[2]
        let plain = Self.pinned[3]
        let verifier = Self.verifier(secret: escaped.secret, now: 1_700_000_300)
        #expect(throws: SlackVerificationError.badSignature) {
            try verifier.verify(timestamp: escaped.timestamp, signature: escaped.signature, body: Array(plain.body.utf8))
        }
    }

    @Test("the signature with the secret hex-decoded as key is refused")
    func hexDecodedKeyIsRefused() {
        let vector = Self.pinned[5]
        let verifier = Self.verifier(secret: vector.secret, now: 1_700_000_000)
        #expect(throws: SlackVerificationError.badSignature) {
            try verifier.verify(
                timestamp: vector.timestamp,
                signature: "v0=2f3bd71986e89f6af0acb9f8ba6a2d01f6cc5be9ce5e436e6b7ad03b5f46be7a",
                body: Array(vector.body.utf8))
        }
    }

    @Test("a body altered by one byte is refused")
    func alteredBodyIsRefused() {
        let vector = Self.pinned[1]
        var body = Array(vector.body.utf8)
        let index = body.firstIndex(of: UInt8(ascii: "d"))!
        body[index] = UInt8(ascii: "e")
        let verifier = Self.verifier(secret: vector.secret, now: 1_700_000_000)
        #expect(throws: SlackVerificationError.badSignature) {
            try verifier.verify(timestamp: vector.timestamp, signature: vector.signature, body: body)
        }
        var appended = Array(vector.body.utf8)
        appended.append(UInt8(ascii: " "))
        #expect(throws: SlackVerificationError.badSignature) {
            try verifier.verify(timestamp: vector.timestamp, signature: vector.signature, body: appended)
        }
    }

    @Test("a wrong secret, another timestamp or a mangled signature is refused")
    func otherMismatches() {
        let vector = Self.pinned[1]
        let body = Array(vector.body.utf8)
        let wrongSecret = Self.verifier(secret: vector.secret + "x", now: 1_700_000_000)
        #expect(throws: SlackVerificationError.badSignature) {
            try wrongSecret.verify(timestamp: vector.timestamp, signature: vector.signature, body: body)
        }
        let verifier = Self.verifier(secret: vector.secret, now: 1_700_000_000)
        #expect(throws: SlackVerificationError.badSignature) {
            try verifier.verify(timestamp: "1700000001", signature: vector.signature, body: body)
        }
        for signature in [
            vector.signature.uppercased(), String(vector.signature.dropFirst(3)), String(vector.signature.dropLast()),
            "v1=" + vector.signature.dropFirst(3), "", vector.signature + "0",
        ] {
            #expect(throws: SlackVerificationError.badSignature) {
                try verifier.verify(timestamp: vector.timestamp, signature: signature, body: body)
            }
        }
    }

    @Test("timestamps 300 s away are accepted, 301 s refused, both directions", arguments: [
        (300.0, true), (-300.0, true), (301.0, false), (-301.0, false), (0.0, true), (300.5, false),
    ])
    func window(offset: TimeInterval, accepted: Bool) throws {
        let vector = Self.pinned[1]
        let verifier = Self.verifier(secret: vector.secret, now: 1_700_000_000 + offset)
        let verify = { try verifier.verify(timestamp: vector.timestamp, signature: vector.signature, body: Array(vector.body.utf8)) }
        if accepted {
            try verify()
        } else {
            #expect(throws: SlackVerificationError.stale) { try verify() }
        }
    }

    @Test("a custom tolerance moves the window")
    func customTolerance() {
        let vector = Self.pinned[1]
        let verifier = SlackRequestVerifier(
            signingSecret: vector.secret, tolerance: 60, now: { Date(timeIntervalSince1970: 1_700_000_061) })
        #expect(throws: SlackVerificationError.stale) {
            try verifier.verify(timestamp: vector.timestamp, signature: vector.signature, body: Array(vector.body.utf8))
        }
    }

    @Test("missing headers are refused before anything else")
    func missingHeaders() {
        let vector = Self.pinned[1]
        let verifier = Self.verifier(secret: vector.secret, now: 1_700_000_000)
        let body = Array(vector.body.utf8)
        #expect(throws: SlackVerificationError.missingHeaders) {
            try verifier.verify(timestamp: nil, signature: vector.signature, body: body)
        }
        #expect(throws: SlackVerificationError.missingHeaders) {
            try verifier.verify(timestamp: vector.timestamp, signature: nil, body: body)
        }
        #expect(throws: SlackVerificationError.missingHeaders) {
            try verifier.verify(timestamp: nil, signature: nil, body: body)
        }
    }

    @Test("timestamps that are not decimal integers are refused", arguments: [
        "12a", "", " 1", "1 ", "1.5", "-1", "+1700000000", "0x10", "1e9", "１７００", "99999999999999999999",
    ])
    func malformedTimestamp(_ timestamp: String) {
        let vector = Self.pinned[1]
        let verifier = Self.verifier(secret: vector.secret, now: 1_700_000_000)
        let signature = SlackSignature.compute(secret: vector.secret, timestamp: timestamp, body: Array(vector.body.utf8))
        #expect(throws: SlackVerificationError.malformedTimestamp) {
            try verifier.verify(timestamp: timestamp, signature: signature, body: Array(vector.body.utf8))
        }
    }

    @Test("each refusal has a short human description")
    func descriptions() {
        let errors: [SlackVerificationError] = [.missingHeaders, .malformedTimestamp, .stale, .badSignature]
        let descriptions = Set(errors.map(\.description))
        #expect(descriptions.count == errors.count)
        #expect(descriptions.allSatisfy { !$0.isEmpty && $0.count < 80 })
    }
}
