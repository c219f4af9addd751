/// The user who clicked, submitted or closed, as interaction payloads carry it.
public struct PayloadUser: Sendable, Hashable, Decodable {
    public var id: String
    public var username: String?
    public var name: String?
    public var teamID: String?

    /// A user as an interaction payload would name them.
    public init(id: String, username: String? = nil, name: String? = nil, teamID: String? = nil) {
        self.id = id
        self.username = username
        self.name = name
        self.teamID = teamID
    }

    enum CodingKeys: String, CodingKey {
        case id, username, name
        case teamID = "team_id"
    }
}
