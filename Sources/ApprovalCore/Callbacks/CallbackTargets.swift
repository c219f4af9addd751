import Foundation

/// Where `callback_url` deliveries may go: by default any public address and what `allow` names; with `allowlistOnly`,
/// only what `allow` names (how tests, fuzzers and benchmarks run, with loopback allowed, so nothing they do reaches
/// another machine). Loopback, link-local, private and multicast addresses are refused unless allowed: a callback must
/// not become a way to reach the service's own network.
public struct CallbackTargets: Sendable, Equatable {
    /// Address ranges allowed whatever they are.
    public var networks: [IPNetwork]
    /// Host names allowed whatever they resolve to, lowercased.
    public var hosts: Set<String>
    public var allowlistOnly: Bool

    public init(networks: [IPNetwork] = [], hosts: Set<String> = [], allowlistOnly: Bool = false) {
        self.networks = networks
        self.hosts = hosts
        self.allowlistOnly = allowlistOnly
    }

    /// Public addresses only.
    public static let publicOnly = CallbackTargets()

    /// Loopback only, and nothing public: what every test runs with.
    public static let loopbackOnly = CallbackTargets(
        networks: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!], hosts: ["localhost"], allowlistOnly: true)

    /// Reads `callback_allow`: comma-separated CIDRs, addresses or host names. Throws the first entry that is none.
    public static func allowList(_ text: String) throws(CallbackTargetError) -> (networks: [IPNetwork], hosts: Set<String>) {
        var networks: [IPNetwork] = []
        var hosts: Set<String> = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            if let network = IPNetwork(entry) {
                networks.append(network)
            } else if entry.contains("/") || !Self.isHostName(entry) {
                throw .notAnEntry(entry)
            } else {
                hosts.insert(entry.lowercased())
            }
        }
        return (networks, hosts)
    }

    static func isHostName(_ text: String) -> Bool {
        (1...253).contains(text.count)
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                (1...63).contains(label.count) && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }

    /// Whether a host name is allowed as it is, whatever it resolves to.
    public func allows(host: String) -> Bool { hosts.contains(host.lowercased()) }

    /// Why `address` may not be reached, or `nil` when it may.
    public func refusal(of address: IPAddress) -> String? {
        if networks.contains(where: { $0.contains(address) }) { return nil }
        if allowlistOnly { return "\(address) is not in callback_allow, and only what it lists is reached" }
        if address.isPublic { return nil }
        return "\(address) is not a public address (loopback, link-local, private or multicast); allow it with callback_allow"
    }

    /// The refusal of a callback URL whose host is an address, checked when a request is filed; a name is checked when
    /// the callback is delivered, on what it resolves to then.
    public func refusal(ofURL text: String) -> String? {
        guard let host = URL(string: text)?.host, !allows(host: host), let address = IPAddress(host) else { return nil }
        return refusal(of: address)
    }
}

public enum CallbackTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnEntry(String)

    public var description: String {
        switch self {
        case .notAnEntry(let entry): "'\(entry)' is not an address, a CIDR range or a host name"
        }
    }
}
