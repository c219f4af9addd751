/// Request and response bodies of the Web API methods, as Slack names their fields.
enum WebAPIWire {
    struct Status: Decodable {
        var ok: Bool
        var error: String?
    }

    struct PostMessage: Encodable {
        var channel: String
        var text: String
        var blocks: [Block]?
        var threadTS: String?

        enum CodingKeys: String, CodingKey {
            case channel, text, blocks
            case threadTS = "thread_ts"
        }
    }

    struct PostMessageAnswer: Decodable {
        var channel: String
        var ts: String
    }

    struct Update: Encodable {
        var channel: String
        var ts: String
        var text: String
        var blocks: [Block]?
    }

    struct PostEphemeral: Encodable {
        var channel: String
        var user: String
        var text: String
        var blocks: [Block]?
        var threadTS: String?

        enum CodingKeys: String, CodingKey {
            case channel, user, text, blocks
            case threadTS = "thread_ts"
        }
    }

    struct PostEphemeralAnswer: Decodable {
        var messageTS: String

        enum CodingKeys: String, CodingKey {
            case messageTS = "message_ts"
        }
    }

    struct PermalinkAnswer: Decodable {
        var permalink: String
    }

    struct OpenView: Encodable {
        var triggerID: String
        var view: View

        enum CodingKeys: String, CodingKey {
            case view
            case triggerID = "trigger_id"
        }
    }

    struct OpenViewAnswer: Decodable {
        struct Opened: Decodable {
            var id: String
        }

        var view: Opened
    }

    struct OpenConversation: Encodable {
        /// Comma-separated user IDs.
        var users: String
    }

    struct OpenConversationAnswer: Decodable {
        struct Channel: Decodable {
            var id: String
        }

        var channel: Channel
    }

    struct UserInfoAnswer: Decodable {
        struct User: Decodable {
            struct Profile: Decodable {
                var realName: String?

                enum CodingKeys: String, CodingKey {
                    case realName = "real_name"
                }
            }

            var id: String
            var name: String
            var realName: String?
            var tz: String?
            var isAdmin: Bool?
            var profile: Profile?

            enum CodingKeys: String, CodingKey {
                case id, name, tz, profile
                case realName = "real_name"
                case isAdmin = "is_admin"
            }
        }

        var user: User

        var slackUser: SlackUser {
            // Slack sends an empty real name for bots and unfinished profiles.
            let realName = [user.realName, user.profile?.realName].compactMap { $0 }.first { !$0.isEmpty }
            return SlackUser(id: user.id, name: user.name, realName: realName, tz: user.tz, isAdmin: user.isAdmin ?? false)
        }
    }

    struct UsergroupMembersAnswer: Decodable {
        var users: [String]
    }
}
