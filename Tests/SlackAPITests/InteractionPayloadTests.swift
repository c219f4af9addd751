import GatehouseTestSupport
import SlackAPI
import Testing

@Suite("Interaction payloads")
struct InteractionPayloadTests {
    static func decode(_ fixture: String) throws -> InteractionPayload {
        try InteractionPayload.decode(json: try Fixture.bytes(fixture))
    }

    @Test("a button click in a channel message")
    func buttonInMessage() throws {
        guard case .blockActions(let actions) = try Self.decode("block_actions_button_in_message.json") else {
            Issue.record("not block_actions")
            return
        }
        #expect(actions.user == PayloadUser(id: "U111", username: "test-test-test", name: "test-test-test", teamID: "T111"))
        #expect(actions.channel == BlockActions.Channel(id: "C111", name: "random"))
        #expect(
            actions.container
                == BlockActions.Container(type: "message", messageTS: "1605853634.000400", channelID: "C111", isEphemeral: false))
        #expect(actions.message == BlockActions.Message(ts: "1605853634.000400"))
        #expect(actions.responseURL == "https://hooks.slack.com/actions/T111/111/xxx")
        #expect(actions.triggerID == "111.222.xxx")
        #expect(
            actions.actions == [
                BlockActions.Action(actionID: "a", blockID: "b", type: "button", value: "underlying", actionTS: "1605853645.582706")
            ])
    }

    @Test("the payload inside a Socket Mode envelope is the same block_actions")
    func socketModeEnvelope() throws {
        let inner = try InteractionPayload.decode(
            json: try Fixture.member("payload", of: "block_actions_button_in_message.socket_mode_envelope.json"))
        #expect(inner == (try Self.decode("block_actions_button_in_message.json")))
    }

    @Test("the docs example: attachment container, user without name")
    func docsExample() throws {
        guard case .blockActions(let actions) = try Self.decode("block_actions_docs_example.json") else {
            Issue.record("not block_actions")
            return
        }
        #expect(actions.user == PayloadUser(id: "UA8RXUSPL", username: "jtorrance", teamID: "T9TK3CUKW"))
        #expect(actions.container?.type == "message_attachment")
        #expect(actions.message?.ts == "1548261231.000200")
        #expect(actions.actions.first?.blockID == "=qXel")
        #expect(actions.actions.first?.value == "click_me_123")
    }

    @Test("an ephemeral message has no message object")
    func ephemeral() throws {
        guard case .blockActions(let actions) = try Self.decode("block_actions_ephemeral_with_state.json") else {
            Issue.record("not block_actions")
            return
        }
        #expect(actions.container?.isEphemeral == true)
        #expect(actions.message == nil)
        #expect(actions.actions.map(\.actionID) == ["save"])
    }

    @Test("a click in a home tab view has no channel, message or response URL")
    func homeTab() throws {
        guard case .blockActions(let actions) = try Self.decode("block_actions_home_tab_real_payload.json") else {
            Issue.record("not block_actions")
            return
        }
        #expect(actions.container?.type == "view")
        #expect(actions.channel == nil)
        #expect(actions.message == nil)
        #expect(actions.responseURL == nil)
        #expect(actions.actions.first?.value == "create_task")
    }

    @Test("a view submission carries state values and unescaped private metadata")
    func viewSubmission() throws {
        guard case .viewSubmission(let submission) = try Self.decode("view_submission_real_payload.json") else {
            Issue.record("not view_submission")
            return
        }
        #expect(submission.user.id == "U123")
        #expect(submission.triggerID == "123.123.07ecad50d3e077e08742bafff5f7ab0c")
        #expect(submission.view.id == "V123")
        #expect(submission.view.callbackID == "request-modal")
        #expect(submission.view.privateMetadata == "https://hooks.slack.com/commands/T123/977578904577/NfI6RdDqrYDC8Pjzo01xgLQ3")
        #expect(submission.view.hash == "1583638467.cd05659d")
        #expect(
            submission.view.stateValues == ["request-block": ["request-action": StateValue(type: "plain_text_input", value: "test test test")]])
    }

    @Test("a closed view")
    func viewClosed() throws {
        guard case .viewClosed(let closed) = try Self.decode("view_closed_real_payload.json") else {
            Issue.record("not view_closed")
            return
        }
        #expect(closed.user.id == "U123")
        #expect(closed.isCleared == false)
        #expect(closed.view.callbackID == "request-modal")
        #expect(closed.view.stateValues.isEmpty)
    }

    @Test("select state values decode their selected option")
    func selectedOption() throws {
        let json = #"""
            {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "state": {"values": {"b": {
                "a": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "Reject"}, "value": "reject"}},
                "empty": {"type": "plain_text_input", "value": null}
            }}}}}
            """#
        guard case .viewSubmission(let submission) = try InteractionPayload.decode(json: Array(json.utf8)) else {
            Issue.record("not view_submission")
            return
        }
        #expect(submission.view.stateValues["b"]?["a"]?.selectedOption?.value == "reject")
        #expect(submission.view.stateValues["b"]?["empty"] == StateValue(type: "plain_text_input"))
        #expect(submission.view.callbackID == nil)
    }

    @Test("a whole interactivity body decodes from its form field")
    func formBody() throws {
        let json = try Fixture.text("block_actions_home_tab_real_payload.json")
        let body = SlackRequestSigner.interactionBody(json: json)
        #expect(try InteractionPayload.decode(formBody: Array(body.utf8)) == (try Self.decode("block_actions_home_tab_real_payload.json")))
    }

    @Test("other payload types are named, not refused")
    func otherType() throws {
        #expect(try InteractionPayload.decode(json: Array(#"{"type":"shortcut","callback_id":"x"}"#.utf8)) == .other(type: "shortcut"))
    }

    @Test("a body without payload, or with broken JSON, is refused with a reason")
    func refusals() {
        #expect(throws: SlackPayloadError.missingField("payload")) {
            try InteractionPayload.decode(formBody: Array("token=x".utf8))
        }
        #expect(throws: SlackPayloadError.self) {
            try InteractionPayload.decode(formBody: Array("payload=%7Bnot+json".utf8))
        }
        #expect(throws: SlackPayloadError.self) {
            try InteractionPayload.decode(json: Array(#"{"type":"block_actions","user":{"id":"U1"}}"#.utf8))
        }
    }
}
