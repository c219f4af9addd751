/// Where a posted message landed: the channel ID and the message's `ts`, which together address it.
public struct PostedMessage: Sendable, Hashable, Codable {
    public var channel: String
    public var ts: String

    /// A message address.
    public init(channel: String, ts: String) {
        self.channel = channel
        self.ts = ts
    }
}
