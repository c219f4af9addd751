import Foundation
import Testing

@testable import SlackAPI

@Suite("Web API answers as Slack documents them")
struct WebAPIAnswerTests {
    static func decode<T: Decodable>(_ type: T.Type, _ fixture: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(try Fixture.bytes("web_api/\(fixture)")))
    }

    @Test("success examples decode into what the client returns")
    func successes() throws {
        let posted = try Self.decode(WebAPIWire.PostMessageAnswer.self, "chat.postMessage.success.json")
        #expect(posted.channel == "C123ABC456")
        #expect(posted.ts == "1503435956.000247")
        #expect(try Self.decode(WebAPIWire.Status.self, "chat.update.success.json").ok)
        #expect(try Self.decode(WebAPIWire.PostEphemeralAnswer.self, "chat.postEphemeral.success.json").messageTS == "1502210682.580145")
        #expect(
            try Self.decode(WebAPIWire.PermalinkAnswer.self, "chat.getPermalink.success.json").permalink
                == "https://ghostbusters.slack.com/archives/C1H9RESGA/p135854651500008")
        #expect(
            try Self.decode(WebAPIWire.PermalinkAnswer.self, "chat.getPermalink.success_with_thread.json").permalink
                .hasSuffix("?thread_ts=1358546515.000008&cid=C1H9RESGL"))
        #expect(try Self.decode(WebAPIWire.OpenViewAnswer.self, "views.open.success.json").view.id == "VMHU10V25")
        #expect(try Self.decode(WebAPIWire.OpenConversationAnswer.self, "conversations.open.success.json").channel.id == "D069C7QFK")
        #expect(
            try Self.decode(WebAPIWire.OpenConversationAnswer.self, "conversations.open.success_with_return_im.json").channel.id
                == "D069C7QFK")
        #expect(try Self.decode(WebAPIWire.UsergroupMembersAnswer.self, "usergroups.users.list.success.json").users == ["U060R4BJ4", "W123A4BC5"])
        #expect(
            try Self.decode(WebAPIWire.UserInfoAnswer.self, "users.info.success.json").slackUser
                == SlackUser(id: "W012A3CDE", name: "spengler", realName: "Egon Spengler", tz: "America/Los_Angeles", isAdmin: true))
    }

    @Test(
        "error examples carry ok:false and Slack's code",
        arguments: [
            ("chat.postMessage.error.json", "too_many_attachments"), ("chat.update.error.json", "cant_update_message"),
            ("chat.postEphemeral.error.json", "user_not_in_channel"), ("chat.getPermalink.error.json", "channel_not_found"),
            ("views.open.error.json", "invalid_arguments"), ("conversations.open.error.json", "channel_not_found"),
            ("users.info.error.json", "user_not_found"), ("usergroups.users.list.error.json", "invalid_auth"),
        ])
    func errors(fixture: String, code: String) throws {
        let status = try Self.decode(WebAPIWire.Status.self, fixture)
        #expect(!status.ok)
        #expect(status.error == code)
        #expect(SlackAPIError.api(code).isPermanent)
    }

    @Test("users.info falls back to the profile's real name, treats an empty one as none, and defaults to non-admin")
    func userFallbacks() throws {
        let json = #"{"ok":true,"user":{"id":"U1","name":"ann","profile":{"real_name":"Ann Example"}}}"#
        let user = try JSONDecoder().decode(WebAPIWire.UserInfoAnswer.self, from: Data(json.utf8)).slackUser
        #expect(user == SlackUser(id: "U1", name: "ann", realName: "Ann Example", tz: nil, isAdmin: false))
        let empty = #"{"ok":true,"user":{"id":"B1","name":"bot","real_name":"","profile":{"real_name":""}}}"#
        #expect(try JSONDecoder().decode(WebAPIWire.UserInfoAnswer.self, from: Data(empty.utf8)).slackUser.realName == nil)
    }
}
