/// A modal as `view_submission` and `view_closed` payloads carry it.
public struct PayloadView: Sendable, Hashable, Decodable {
    public var id: String
    public var callbackID: String?
    public var privateMetadata: String?
    public var hash: String?
    /// `state.values`: block ID → action ID → value.
    public var stateValues: [String: [String: StateValue]]

    /// A view as Slack would send it.
    public init(
        id: String, callbackID: String? = nil, privateMetadata: String? = nil, hash: String? = nil,
        stateValues: [String: [String: StateValue]] = [:]
    ) {
        self.id = id
        self.callbackID = callbackID
        self.privateMetadata = privateMetadata
        self.hash = hash
        self.stateValues = stateValues
    }

    enum CodingKeys: String, CodingKey {
        case id, hash, state
        case callbackID = "callback_id"
        case privateMetadata = "private_metadata"
    }

    private struct State: Decodable {
        var values: [String: [String: StateValue]]?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        callbackID = try container.decodeIfPresent(String.self, forKey: .callbackID)
        privateMetadata = try container.decodeIfPresent(String.self, forKey: .privateMetadata)
        hash = try container.decodeIfPresent(String.self, forKey: .hash)
        stateValues = try container.decodeIfPresent(State.self, forKey: .state)?.values ?? [:]
    }
}
