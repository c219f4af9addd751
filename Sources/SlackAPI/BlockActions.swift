/// A `block_actions` payload: someone clicked a button or changed an element.
public struct BlockActions: Sendable, Hashable, Decodable {
    public var user: PayloadUser
    public var channel: Channel?
    public var container: Container?
    /// The message holding the element; absent for ephemeral messages and views.
    public var message: Message?
    public var responseURL: String?
    public var triggerID: String?
    public var actions: [Action]

    /// The conversation the message is in.
    public struct Channel: Sendable, Hashable, Decodable {
        public var id: String
        public var name: String?

        /// A channel reference.
        public init(id: String, name: String? = nil) {
            self.id = id
            self.name = name
        }
    }

    /// Where the element lives: a message (with its `ts`) or a view.
    public struct Container: Sendable, Hashable, Decodable {
        public var type: String
        public var messageTS: String?
        public var channelID: String?
        public var isEphemeral: Bool?
        public var threadTS: String?

        /// A container reference.
        public init(
            type: String, messageTS: String? = nil, channelID: String? = nil, isEphemeral: Bool? = nil,
            threadTS: String? = nil
        ) {
            self.type = type
            self.messageTS = messageTS
            self.channelID = channelID
            self.isEphemeral = isEphemeral
            self.threadTS = threadTS
        }

        enum CodingKeys: String, CodingKey {
            case type
            case messageTS = "message_ts"
            case channelID = "channel_id"
            case isEphemeral = "is_ephemeral"
            case threadTS = "thread_ts"
        }
    }

    /// The message the element is in.
    public struct Message: Sendable, Hashable, Decodable {
        public var ts: String
        public var threadTS: String?

        /// A message reference.
        public init(ts: String, threadTS: String? = nil) {
            self.ts = ts
            self.threadTS = threadTS
        }

        enum CodingKeys: String, CodingKey {
            case ts
            case threadTS = "thread_ts"
        }
    }

    /// One element interaction; a button's `value` comes back as it was set.
    public struct Action: Sendable, Hashable, Decodable {
        public var actionID: String
        public var blockID: String?
        public var type: String
        public var value: String?
        public var actionTS: String?

        /// An action as Slack would send it.
        public init(actionID: String, blockID: String? = nil, type: String, value: String? = nil, actionTS: String? = nil) {
            self.actionID = actionID
            self.blockID = blockID
            self.type = type
            self.value = value
            self.actionTS = actionTS
        }

        enum CodingKeys: String, CodingKey {
            case type, value
            case actionID = "action_id"
            case blockID = "block_id"
            case actionTS = "action_ts"
        }
    }

    /// A `block_actions` payload as Slack would send it.
    public init(
        user: PayloadUser, channel: Channel? = nil, container: Container? = nil, message: Message? = nil,
        responseURL: String? = nil, triggerID: String? = nil, actions: [Action]
    ) {
        self.user = user
        self.channel = channel
        self.container = container
        self.message = message
        self.responseURL = responseURL
        self.triggerID = triggerID
        self.actions = actions
    }

    enum CodingKeys: String, CodingKey {
        case user, channel, container, message, actions
        case responseURL = "response_url"
        case triggerID = "trigger_id"
    }
}
