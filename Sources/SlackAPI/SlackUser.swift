/// A workspace member, from `users.info`.
public struct SlackUser: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var realName: String?
    /// IANA time zone, e.g. `Europe/Berlin`.
    public var tz: String?
    /// A workspace admin.
    public var isAdmin: Bool

    /// A user.
    public init(id: String, name: String, realName: String? = nil, tz: String? = nil, isAdmin: Bool = false) {
        self.id = id
        self.name = name
        self.realName = realName
        self.tz = tz
        self.isAdmin = isAdmin
    }
}
