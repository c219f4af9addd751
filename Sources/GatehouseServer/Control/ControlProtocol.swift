import ApprovalCore

/// What goes over the control socket between the command line and the service: JSON, snake_case keys.
public enum ControlProtocol {
    public static let keys = "keys"
    public static let revokeKey = "keys/revoke"
    public static let chains = "chains"
    public static let policies = "policies"

    /// `POST /policies`: a whole policies file, as `policies apply` read it.
    public struct PoliciesRequest: Codable, Sendable {
        public var policies: PolicySet
        public var dryRun: Bool
        public var user: String

        public init(policies: PolicySet, dryRun: Bool, user: String) {
            self.policies = policies
            self.dryRun = dryRun
            self.user = user
        }
    }

    /// `POST /keys` (create; `scope` defaults to `request`) and `POST /keys/revoke`.
    public struct KeyRequest: Codable, Sendable {
        public var name: String
        public var scope: APIKeyScope?
        /// The person a decide key decides for.
        public var boundTo: String?
        /// Whether the key may break the glass.
        public var breakGlass: Bool?
        /// The account at the terminal, for the audit log (`cli:NAME`).
        public var user: String

        public init(name: String, scope: APIKeyScope?, boundTo: String? = nil, breakGlass: Bool? = nil, user: String) {
            self.breakGlass = breakGlass
            self.name = name
            self.scope = scope
            self.boundTo = boundTo
            self.user = user
        }
    }

    public struct KeyCreated: Codable, Sendable {
        public var key: String

        public init(key: String) { self.key = key }
    }

    /// `POST /chains`: a whole chains file, as `chains apply` read it.
    public struct ChainsRequest: Codable, Sendable {
        public var chains: [EscalationChain]
        public var prune: Bool
        public var dryRun: Bool
        public var user: String

        public init(chains: [EscalationChain], prune: Bool, dryRun: Bool, user: String) {
            self.chains = chains
            self.prune = prune
            self.dryRun = dryRun
            self.user = user
        }
    }
}
