import Foundation

/// Where configuration lives: escalation chains by name, and the admins added from Slack. Each change is one
/// transaction with its `config_changed` audit entries (see `ChainChange.auditEvent(by:)`).
public protocol ConfigurationStore: Sendable {
    /// Every configured chain, by name.
    func chains() async throws -> [EscalationChain]
    /// The chain named `name`, if one is configured.
    func chain(named name: String) async throws -> EscalationChain?
    /// In one transaction: reads the stored chains, asks `plan` (pure) what to change, writes every change that is not
    /// `unchanged` with its audit entry by `actor`, and returns the plan. Nothing is written if `plan` throws.
    func changeChains(
        by actor: String, _ plan: @escaping @Sendable ([EscalationChain]) throws -> [ChainChange]
    ) async throws -> [ChainChange]
    /// How many pending requests use a snapshot of the chain named `name`.
    func pendingCount(gate name: String) async throws -> Int
    /// Admins added from Slack (those from `GATEHOUSE_ADMINS` are not stored), in the order they were added.
    func storedAdmins() async throws -> [String]
    /// Adds admins; returns those that were not admins yet. Audited with the list before and after.
    func addAdmins(_ users: [String], by actor: String) async throws -> [String]
    /// Removes admins; returns those that were stored admins. Audited with the list before and after.
    func removeAdmins(_ users: [String], by actor: String) async throws -> [String]
}

/// API keys: only their SHA-256 is kept.
public protocol KeyStore: Sendable {
    /// Creates a key and returns it in plain text: the only time it exists outside its holder.
    func createKey(name: String, scope: APIKeyScope, boundTo: String?, breakGlass: Bool, by actor: String) async throws -> String
    func listKeys() async throws -> [APIKey]
    func revokeKey(name: String, by actor: String) async throws
    /// The active key whose SHA-256 matches `secret`, if any.
    func authenticate(_ secret: String) async throws -> APIKey?
    /// Records when keys were last used (by id); an earlier time never replaces a later one.
    func recordKeyUse(_ uses: [Int64: Date]) async throws
}

/// Reading the audit log back: its entries, and the check of its hash chain.
public protocol AuditArchive: Sendable {
    /// Entries in order, optionally from a time on, or of one approval.
    func auditEntries(since: Date?, approvalID: ApprovalID?) async throws -> [AuditEntry]
    /// Checks the whole hash chain, and that nothing was cut from its end.
    func verifyAuditLog(expectedHead: String?) async throws -> AuditVerification
    /// The newest entry's number and hash.
    func auditHead() async throws -> (seq: Int64, hash: String)?
}

/// The audit entries of API keys, the same from every storage engine.
extension AuditEvent {
    public static func keyCreated(
        _ name: String, id: Int64, scope: APIKeyScope, boundTo: String?, breakGlass: Bool, by actor: String
    ) -> AuditEvent {
        var details: [String: JSONValue] = ["name": .string(name), "scope": .string(scope.rawValue), "key_id": .number(Double(id))]
        if let boundTo { details["for"] = .string(boundTo) }
        if breakGlass { details["break_glass"] = .bool(true) }
        return AuditEvent(.keyCreated, actor: actor, details: details)
    }

    public static func keyRevoked(_ name: String, by actor: String) -> AuditEvent {
        AuditEvent(.keyRevoked, actor: actor, details: ["name": .string(name)])
    }
}
