/// An Events API `event_callback`: the envelope's identity and the inner event's type.
public struct EventCallback: Sendable, Hashable, Decodable {
    /// Unique per event; Slack retries with the same ID, so de-duplicate on it.
    public var eventID: String
    /// The inner `event.type`, e.g. `app_mention`.
    public var eventType: String
    public var teamID: String?
    public var eventTime: Int?

    /// A callback as Slack would send it.
    public init(eventID: String, eventType: String, teamID: String? = nil, eventTime: Int? = nil) {
        self.eventID = eventID
        self.eventType = eventType
        self.teamID = teamID
        self.eventTime = eventTime
    }

    enum CodingKeys: String, CodingKey {
        case event
        case eventID = "event_id"
        case teamID = "team_id"
        case eventTime = "event_time"
    }

    private struct Event: Decodable {
        var type: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventID = try container.decode(String.self, forKey: .eventID)
        eventType = try container.decode(Event.self, forKey: .event).type
        teamID = try container.decodeIfPresent(String.self, forKey: .teamID)
        eventTime = try container.decodeIfPresent(Int.self, forKey: .eventTime)
    }
}
