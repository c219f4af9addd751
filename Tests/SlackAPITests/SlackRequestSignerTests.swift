import Foundation
import GatehouseTestSupport
import SlackAPI
import Testing

@Suite("Signing test requests")
struct SlackRequestSignerTests {
    @Test("signed headers pass the verifier")
    func roundTrip() throws {
        let signer = SlackRequestSigner(secret: "gatehouse-sécret-not-hex!ZZ")
        let body = SlackRequestSigner.interactionBody(json: #"{"type":"block_actions"}"#)
        #expect(body == "payload=%7B%22type%22%3A%22block_actions%22%7D")
        let headers = Dictionary(uniqueKeysWithValues: signer.headers(body: body, timestamp: Date(timeIntervalSince1970: 1_700_000_000.9)))
        #expect(headers["X-Slack-Request-Timestamp"] == "1700000000")
        #expect(headers["X-Slack-Signature"] == "v0=ccc662b5a842a328b253d07943d6bd55603dd2f61b5791c2e686099c6a5caca5")
        let verifier = SlackRequestVerifier(signingSecret: signer.secret, now: { Date(timeIntervalSince1970: 1_700_000_100) })
        try verifier.verify(timestamp: headers["X-Slack-Request-Timestamp"], signature: headers["X-Slack-Signature"], body: Array(body.utf8))
    }

    @Test("form bodies keep field order and decode back")
    func formBody() {
        let body = SlackRequestSigner.formBody([("command", "/approve"), ("text", "apr_1 looks good"), ("user_id", "U1")])
        #expect(body == "command=%2Fapprove&text=apr_1+looks+good&user_id=U1")
        #expect(FormBody.parse(body) == ["command": "/approve", "text": "apr_1 looks good", "user_id": "U1"])
    }
}
