import DomainTestSupport
import Foundation
import Testing

import ApprovalCore

@Suite("ApprovalRequest")
struct ApprovalRequestTests {
    static func request(
        action: String = "Deploy api to production", payload: JSONValue = Fixture.payload, reasoning: String? = nil,
        gate: String = "default", requester: String? = nil, expiresIn: Int? = nil, callbackURL: String? = nil
    ) -> ApprovalRequest {
        ApprovalRequest(
            action: action, payload: payload, reasoning: reasoning, gate: gate, requester: requester, expiresIn: expiresIn,
            callbackURL: callbackURL
        )
    }

    /// The name of the field `validate()` refuses, or `nil` when it accepts the request.
    static func refusedField(_ request: ApprovalRequest) -> String? {
        do {
            try request.validate()
            return nil
        } catch {
            guard case .invalidField(let field, let sentence) = error else { return "unexpected \(error)" }
            return sentence.isEmpty ? "empty sentence" : field
        }
    }

    @Test("a complete, ordinary request is accepted")
    func validRequest() {
        let request = ApprovalRequest(
            action: "Deploy api to production", payload: Fixture.payload, reasoning: "Release 42", consequences: "Downtime",
            onReject: "Wait", risk: .critical, gate: "deploy-prod", requester: "agent:deploy-bot", expiresIn: 3600,
            callbackURL: "https://ci.example.com/hook"
        )
        #expect(Self.refusedField(request) == nil)
    }

    @Test(
        "action must be one non-blank line of at most 150 characters",
        arguments: [
            "", " ", "   \t ", "\n", String(repeating: "a", count: 151), "Deploy api\nto production", "Deploy api\r\nto production",
            "Deploy\u{2028}api",
        ]
    )
    func actionRefused(action: String) {
        #expect(Self.refusedField(Self.request(action: action)) == "action")
    }

    @Test(
        "action of 1 to 150 characters is accepted, counted as characters not bytes",
        arguments: ["x", String(repeating: "a", count: 150), String(repeating: "é", count: 150), " padded "]
    )
    func actionAccepted(action: String) {
        #expect(Self.refusedField(Self.request(action: action)) == nil)
    }

    @Test("payload must be a JSON object", arguments: [JSONValue.array([]), .string("x"), .number(1), .null, .bool(false)])
    func payloadRefused(payload: JSONValue) {
        #expect(Self.refusedField(Self.request(payload: payload)) == "payload")
    }

    @Test("an empty object is an acceptable payload")
    func emptyPayload() {
        #expect(Self.refusedField(Self.request(payload: .object([:]))) == nil)
    }

    @Test("free text is limited to 20,000 characters")
    func textLimit() {
        #expect(Self.refusedField(Self.request(reasoning: String(repeating: "r", count: 20_000))) == nil)
        #expect(Self.refusedField(Self.request(reasoning: String(repeating: "r", count: 20_001))) == "reasoning")
        var request = Self.request()
        request.consequences = String(repeating: "c", count: 20_001)
        #expect(Self.refusedField(request) == "consequences")
        request.consequences = nil
        request.onReject = String(repeating: "o", count: 20_001)
        #expect(Self.refusedField(request) == "on_reject")
    }

    @Test("expires_in outside 60 s … 30 days is refused", arguments: [59, 2_592_001, 0, -60])
    func expiresInRefused(seconds: Int) {
        #expect(Self.refusedField(Self.request(expiresIn: seconds)) == "expires_in")
    }

    @Test("expires_in at both bounds is accepted", arguments: [60, 2_592_000, 86_400])
    func expiresInAccepted(seconds: Int) {
        #expect(Self.refusedField(Self.request(expiresIn: seconds)) == nil)
    }

    @Test(
        "gate names outside 1–64 of a–z 0–9 - _ . are refused",
        arguments: ["", "Deploy", "deploy prod", "deploy/prod", "déploiement", "gate!", String(repeating: "g", count: 65)]
    )
    func gateRefused(gate: String) {
        #expect(Self.refusedField(Self.request(gate: gate)) == "gate")
        #expect(!ApprovalRequest.isValidGateName(gate))
    }

    @Test("good gate names are accepted", arguments: ["default", "deploy-prod", "a", "db_migrations.v2", String(repeating: "g", count: 64)])
    func gateAccepted(gate: String) {
        #expect(Self.refusedField(Self.request(gate: gate)) == nil)
        #expect(ApprovalRequest.isValidGateName(gate))
    }

    @Test("requester, when given, is 1–200 characters")
    func requester() {
        #expect(Self.refusedField(Self.request(requester: "")) == "requester")
        #expect(Self.refusedField(Self.request(requester: String(repeating: "r", count: 201))) == "requester")
        #expect(Self.refusedField(Self.request(requester: String(repeating: "r", count: 200))) == nil)
        #expect(Self.refusedField(Self.request(requester: "pipeline:gitlab/123")) == nil)
    }

    @Test(
        "callback_url must be an absolute http or https URL",
        arguments: ["ftp://example.com/hook", "/hooks/approval", "hooks/approval", "example.com/hook", "https://", "mailto:a@example.com",
            "javascript:alert(1)", "file:///etc/passwd", "", "https://example.com/" + String(repeating: "p", count: 2048)]
    )
    func callbackRefused(url: String) {
        #expect(Self.refusedField(Self.request(callbackURL: url)) == "callback_url")
    }

    @Test(
        "http and https callback URLs are accepted",
        arguments: ["https://ci.example.com/hook", "http://localhost:8080/cb?x=1", "HTTPS://CI.EXAMPLE.COM/hook"]
    )
    func callbackAccepted(url: String) {
        #expect(Self.refusedField(Self.request(callbackURL: url)) == nil)
    }

    // MARK: approval(id:ownerKey:at:)

    @Test("approval(id:ownerKey:at:) is pending, carries every field, and expires after 24 hours by default")
    func approvalDefaults() {
        let request = ApprovalRequest(
            action: "Deploy api to production", payload: Fixture.payload, reasoning: "Release 42", consequences: "Downtime",
            onReject: "Wait", risk: .critical, gate: "deploy-prod", requester: "agent:deploy-bot",
            callbackURL: "https://ci.example.com/hook"
        )
        let id = ApprovalID(rawValue: "apr_abc")
        let approval = request.approval(id: id, ownerKey: "ci", at: Fixture.now)
        #expect(approval.id == id)
        #expect(approval.status == .pending)
        #expect(approval.decision == nil)
        #expect(approval.consumedAt == nil)
        #expect(approval.escalationLevel == 1)
        #expect(approval.createdAt == Fixture.now)
        #expect(approval.expiresAt == Fixture.now.addingTimeInterval(86_400))
        #expect(RFC3339.string(from: approval.expiresAt) == "2026-11-23T01:22:43Z")
        #expect(approval.action == request.action)
        #expect(approval.payload == Fixture.payload)
        #expect(approval.payloadSHA256 == Fixture.payloadDigest)
        #expect(approval.reasoning == "Release 42")
        #expect(approval.consequences == "Downtime")
        #expect(approval.onReject == "Wait")
        #expect(approval.risk == .critical)
        #expect(approval.gate == "deploy-prod")
        #expect(approval.requester == "agent:deploy-bot")
        #expect(approval.callbackURL == "https://ci.example.com/hook")
        #expect(approval.ownerKey == "ci")
    }

    @Test("approval(id:ownerKey:at:) honours expires_in")
    func approvalExpiresIn() {
        let approval = Self.request(expiresIn: 60).approval(id: ApprovalID(rawValue: "apr_x"), ownerKey: nil, at: Fixture.now)
        #expect(approval.expiresAt == Fixture.now.addingTimeInterval(60))
        #expect(approval.ownerKey == nil)
    }

    @Test("approval(id:ownerKey:at:) truncates the creation time to the millisecond, as stored")
    func approvalTruncatesToMilliseconds() {
        let at = Date(timeIntervalSince1970: 1_795_310_563.123_789)
        let approval = Self.request().approval(id: ApprovalID(rawValue: "apr_x"), ownerKey: nil, at: at)
        #expect(approval.createdAt == Date(millisecondsSince1970: 1_795_310_563_123))
        #expect(approval.createdAt.millisecondsSince1970 == 1_795_310_563_123)
        #expect(approval.expiresAt.millisecondsSince1970 == 1_795_310_563_123 + 86_400_000)
    }
}
