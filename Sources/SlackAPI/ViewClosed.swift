/// A `view_closed` payload: someone dismissed a modal opened with `notify_on_close`.
public struct ViewClosed: Sendable, Hashable, Decodable {
    public var user: PayloadUser
    public var view: PayloadView
    public var isCleared: Bool?

    /// A close notice as Slack would send it.
    public init(user: PayloadUser, view: PayloadView, isCleared: Bool? = nil) {
        self.user = user
        self.view = view
        self.isCleared = isCleared
    }

    enum CodingKeys: String, CodingKey {
        case user, view
        case isCleared = "is_cleared"
    }
}
