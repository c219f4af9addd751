import SlackAPI
import Testing

@Suite("Events API envelopes")
struct EventEnvelopeTests {
    @Test("the URL check carries its challenge")
    func urlVerification() throws {
        let envelope = try EventEnvelope.decode(json: try Fixture.bytes("url_verification_docs_example.json"))
        #expect(envelope == .urlVerification(challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
    }

    @Test("an event callback carries its ID and inner type")
    func eventCallback() throws {
        let envelope = try EventEnvelope.decode(json: try Fixture.bytes("signature_slack_go_json_body.txt"))
        #expect(
            envelope
                == .eventCallback(EventCallback(eventID: "TvBP7LRED7", eventType: "app_mention", teamID: "XXXXXXXXX", eventTime: 1_531_431_954)))
    }

    @Test("the events_api payload of a Socket Mode envelope")
    func socketModePayload() throws {
        let envelope = try EventEnvelope.decode(json: try Fixture.member("payload", of: "socket_mode_events_api_envelope.json"))
        #expect(envelope == .eventCallback(EventCallback(eventID: "Ev111", eventType: "app_mention", teamID: "T111", eventTime: 1_610_241_741)))
    }

    @Test("other envelope types are named, broken ones refused")
    func others() throws {
        #expect(
            try EventEnvelope.decode(json: Array(#"{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1}"#.utf8))
                == .other(type: "app_rate_limited"))
        #expect(throws: SlackPayloadError.self) { try EventEnvelope.decode(json: Array(#"{"type":"url_verification"}"#.utf8)) }
        #expect(throws: SlackPayloadError.self) { try EventEnvelope.decode(json: Array("[]".utf8)) }
    }
}
