/// Who acts on an approval, as the domain checks authority: a person in Slack (with the user groups an adapter found
/// them in), an API key (acting for a named person when it decides), someone at the server's terminal, a policy rule,
/// or Gatehouse itself. Adapters establish the identity (a verified signature, a key, a session); the domain decides
/// what it may do.
public enum Actor: Sendable, Equatable {
    /// A Slack user ID (`U…`, `W…`), their user name when known, and the user groups (`S…`) they were found in among
    /// those the request's chain names (see ``Approval/groupsToResolve(for:at:)``).
    case slackUser(String, name: String? = nil, groups: Set<String> = [])
    /// A call with an API key; `actingFor` names the person a decision is made for (the API's `as`).
    case key(APIKey, actingFor: String? = nil)
    /// Someone with access to the server machine, by their account name: the command line on the database.
    case cli(String)
    /// A person signed in to the web page with a link made on the server machine (`gatehouse login-link --as NAME`);
    /// `admin` when the link was made with `--scope admin`.
    case local(String, admin: Bool = false)
    /// A policy rule deciding by itself (`policy:then-approve`).
    case policy(String)
    /// Gatehouse itself: `system:timeout`, `system:escalation`, `system:slack`, `system:outbox`.
    case system(String)

    /// As written in `decision.by` and in the audit log's `actor`: `U012ABC`, `key:NAME`, `cli:NAME`, `local:NAME`, `policy:NAME`,
    /// `system:NAME`.
    public var id: String {
        switch self {
        case .slackUser(let id, _, _): id
        case .key(let key, _): key.actor
        case .cli(let name): "cli:\(name)"
        case .local(let name, _): "local:\(name)"
        case .policy(let rule): "policy:\(rule)"
        case .system(let name): "system:\(name)"
        }
    }

    /// The name shown beside the id (`decision.by_name`): Slack's user name, or the person a key acts for (the one it
    /// was created for, when it was).
    public var name: String? {
        switch self {
        case .slackUser(_, let name, _): name
        case .key(let key, let actingFor): actingFor ?? key.boundTo
        case .local(let name, _): name
        case .cli, .policy, .system: nil
        }
    }

    /// A key by name, for tests and tools: scope `decide` unless given.
    public static func key(named name: String, scope: APIKeyScope = .decide, actingFor: String? = nil) -> Actor {
        .key(APIKey(name: name, scope: scope), actingFor: actingFor)
    }
}
