/// A `view_submission` payload: someone pressed a modal's submit button.
public struct ViewSubmission: Sendable, Hashable, Decodable {
    public var user: PayloadUser
    public var view: PayloadView
    public var triggerID: String?

    /// A submission as Slack would send it.
    public init(user: PayloadUser, view: PayloadView, triggerID: String? = nil) {
        self.user = user
        self.view = view
        self.triggerID = triggerID
    }

    enum CodingKeys: String, CodingKey {
        case user, view
        case triggerID = "trigger_id"
    }
}
