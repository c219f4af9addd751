import Foundation
import GatehouseServer
import ServerTestSupport
import Logging
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("with nothing set, serve uses the contract's defaults and Slack is off")
    func defaults() throws {
        let configuration = try GatehouseConfiguration.load(environment: [:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.databasePath == "./gatehouse.sqlite")
        #expect(configuration.slackApprovalsChannel == "#approvals")
        #expect(configuration.slackAPIURL.absoluteString == "https://slack.com/api/")
        #expect(!configuration.slackEnabled)
    }

    @Test("flag beats environment beats config file beats default")
    func precedence() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path("g.conf")
        try "port = 7000\nhost = 0.0.0.0\ndb = \"/tmp/file.sqlite\"\n# comment\nlog_level = debug # trailing\n".write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try GatehouseConfiguration.load(
            flags: ["port": "9000"], environment: ["GATEHOUSE_PORT": "8000", "GATEHOUSE_DB": "/tmp/env.sqlite", "GATEHOUSE_CONFIG": file])
        #expect(configuration.port == 9000)
        #expect(configuration.databasePath == "/tmp/env.sqlite")
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.logLevel == .debug)
    }

    @Test(
        "bad configuration names the setting and never echoes a secret",
        arguments: [
            (["GATEHOUSE_PORT": "eighty"], "port"),
            (["GATEHOUSE_PORT": "70000"], "port"),
            (["SLACK_BOT_TOKEN": "xoxp-user-token-secret"], "slack_bot_token"),
            (["SLACK_API_URL": "not a url"], "slack_api_url"),
            (["GATEHOUSE_ADMINS": "U123,alice"], "admins"),
            (["GATEHOUSE_WEBHOOK_SECRET": "short"], "webhook_secret"),
            (["GATEHOUSE_LOG_LEVEL": "loud"], "log_level"),
            (["SLACK_PACING": "fast"], "slack_pacing"),
            (["SLACK_PACING": "-1"], "slack_pacing"),
            (["GATEHOUSE_DB": "postgres://gatehouse:hunter2secret@db.internal/"], "db"),
            (["GATEHOUSE_CONFIG": "/nonexistent/gatehouse.conf"], "config"),
        ])
    func badConfiguration(environment: [String: String], setting: String) {
        #expect {
            try GatehouseConfiguration.load(environment: environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            let secrets = ["SLACK_BOT_TOKEN", "GATEHOUSE_WEBHOOK_SECRET"].compactMap { environment[$0] }
                + (environment["GATEHOUSE_DB"] == nil ? [] : ["hunter2secret"])
            // Values from the environment name their variable too.
            let variable = environment.keys.first!
            let expected = variable == "GATEHOUSE_CONFIG" ? setting : "\(variable) (\(setting))"
            return error.setting == expected && secrets.allSatisfy { !error.description.contains($0) }
        }
        #expect(ConfigurationError.exitCode == 78)
    }

    /// What loading a config file holding `text` (written to `dir`) is refused with, `nil` if nothing, and its path.
    static func fileRefusal(_ text: String, in dir: TemporaryDirectory) throws -> (file: String, error: ConfigurationError?) {
        let file = dir.path("g.conf")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try GatehouseConfiguration.load(environment: [:], configFile: file)
            return (file, nil)
        } catch {
            return (file, error)
        }
    }

    @Test("an unknown key in the config file stops start-up with its line, and a typo gets a did-you-mean")
    func unknownKeyInFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (file, error) = try Self.fileRefusal("port = 8080\nslack_tokn = xoxb-1\n", in: dir)
        #expect(error?.setting == "\(file):2: slack_tokn")
        #expect(error?.problem == "unknown setting")
        // A typo of a real setting names it.
        let (_, typo) = try Self.fileRefusal("port = 8080\nslack_signing_secert = abc\n", in: dir)
        #expect(typo?.problem == "unknown setting; did you mean 'slack_signing_secret'?")
        #expect(typo.map { "\($0)" }?.contains("abc") == false)
    }

    @Test("a bad value in the config file stops start-up with its file and line, and never echoes a secret")
    func badValueInFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (file, port) = try Self.fileRefusal("# Gatehouse\nhost = 0.0.0.0\n\nport = eighty\n", in: dir)
        #expect(port?.setting == "\(file):4: port")
        #expect(port?.problem == "'eighty' is not a port number (0–65535)")
        let (_, secret) = try Self.fileRefusal("webhook_secret = short-secret\n", in: dir)
        let text = try #require(secret).description
        #expect(text.contains("\(file):1: webhook_secret"))
        #expect(!text.contains("short-secret"))
    }

    @Test("the commented example in config/ is a valid configuration")
    func exampleParses() throws {
        let path = Self.repositoryRoot.appendingPathComponent("config/gatehouse.example.conf").path
        let configuration = try GatehouseConfiguration.load(environment: [:], configFile: path)
        #expect(configuration.port == 8080)
        #expect(configuration.logLevel == .info)
    }

    @Test("the Slack app manifest asks for exactly the scopes and URLs the service uses")
    func manifest() throws {
        let text = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("manifests/slack-app.yaml"), encoding: .utf8)
        let scopes = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("- ") && !$0.hasPrefix("- command:") }.map { String($0.dropFirst(2)) }
        #expect(Set(scopes) == ["chat:write", "chat:write.public", "commands", "users:read", "im:write", "usergroups:read"])
        #expect(text.contains("should_escape: true"))
        #expect(text.contains("request_url: https://gatehouse.example.com/slack/interactions"))
        #expect(text.contains("url: https://gatehouse.example.com/slack/commands"))
        #expect(text.contains("socket_mode_enabled: false"))
    }
}
