import SlackAPI
import Testing

@Suite("Slash commands")
struct SlashCommandTests {
    @Test("Bolt for JavaScript's body: empty text, Enterprise Grid fields ignored")
    func boltJS() throws {
        let command = try SlashCommand(formBody: try Fixture.bytes("slash_command_body_bolt_js.txt"))
        #expect(
            command
                == SlashCommand(
                    command: "/hello-bolt-js", text: "", userID: "W111", userName: "primary-owner", channelID: "C111",
                    channelName: "random", teamID: "T111", responseURL: "https://hooks.slack.com/commands/T111/111/xxx",
                    triggerID: "111.222.xxx"))
    }

    @Test("Bolt for Python's body")
    func boltPython() throws {
        let command = try SlashCommand(formBody: try Fixture.bytes("slash_command_body_bolt_python.txt"))
        #expect(command.command == "/hello-world")
        #expect(command.text == "Hi")
        #expect(command.responseURL == "https://hooks.slack.com/commands/T111/111/xxxxx")
    }

    @Test("the docs' /weather body with unencoded slashes and %20")
    func docsWeather() throws {
        let fields = FormBody.parse(try Fixture.bytes("slash_command_body_docs_weather.txt"))
        #expect(fields["enterprise_name"] == "Globular Construct Inc")
        let command = try SlashCommand(fields: fields)
        #expect(command.command == "/weather")
        #expect(command.text == "94070")
        #expect(command.userID == "U2147483697")
        #expect(command.userName == "Steve")
        #expect(command.channelID == "C2147483705")
        #expect(command.teamID == "T0001")
        #expect(command.responseURL == "https://hooks.slack.com/commands/1234/5678")
        #expect(!SlashCommand.isSSLCheck(fields))
    }

    @Test("an org-level install")
    func orgLevel() throws {
        let command = try SlashCommand(formBody: try Fixture.bytes("slash_command_body_org_level_app.txt"))
        #expect(command.command == "/org-level-command")
        #expect(command.text == "test")
        #expect(command.channelName == "dev")
    }

    @Test("an ssl_check post is recognised and is not a command")
    func sslCheck() {
        let fields = FormBody.parse("ssl_check=1&token=abc")
        #expect(SlashCommand.isSSLCheck(fields))
        #expect(throws: SlackPayloadError.missingField("command")) { try SlashCommand(fields: fields) }
    }

    @Test("missing required fields are named", arguments: ["command", "user_id", "channel_id", "team_id"])
    func missingField(_ name: String) {
        var fields = ["command": "/approve", "text": "x", "user_id": "U1", "channel_id": "C1", "team_id": "T1"]
        fields[name] = nil
        #expect(throws: SlackPayloadError.missingField(name)) { try SlashCommand(fields: fields) }
    }

    @Test("a missing text is empty text; mentions arrive escaped and stay as sent")
    func text() throws {
        let without = try SlashCommand(fields: ["command": "/approve", "user_id": "U1", "channel_id": "C1", "team_id": "T1"])
        #expect(without.text == "")
        let body = "command=%2Fapprove&text=%3C%40U012ABC%7Calice%3E+%3C%21subteam%5ES012AB%7C%40sre%3E&user_id=U1&channel_id=C1&team_id=T1"
        #expect(try SlashCommand(formBody: Array(body.utf8)).text == "<@U012ABC|alice> <!subteam^S012AB|@sre>")
    }
}
