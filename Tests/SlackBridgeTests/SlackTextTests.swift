import SlackBridge
import Testing

@Suite("Slack user IDs and how people are named in messages")
struct SlackTextTests {
    @Test("user IDs are U or W followed by ASCII capitals and digits", arguments: ["U123", "W0ABC9", "U0123456789ABCDEF"])
    func userIDs(_ id: String) {
        #expect(SlackText.isUserID(id))
        #expect(SlackText.who(id) == "<@\(id)>")
    }

    @Test("anything else is not a user ID, and is never turned into a mention",
          arguments: ["", "U1", "u123", "C123", "S123", "U12-3", "U12٣", "U12½", "UÄBC", "agent:deploy-bot"])
    func notUserIDs(_ text: String) {
        #expect(!SlackText.isUserID(text))
        #expect(!SlackText.who(text).hasPrefix("<@"))
    }
}
