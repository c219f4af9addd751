import ApprovalCore
import Foundation
import PostgresStorage
import SlackRecords
import Storage

/// Everything the service keeps, as the ports it uses: approvals, the audit log, the outbox, keys, configuration and
/// Slack's messages. One value implements them all: `GatehouseDatabase` on SQLite, `PostgresDatabase` on PostgreSQL.
public protocol GatehouseStore:
    ApprovalRepository, AuditArchive, OutboxStore, KeyStore, ConfigurationStore, SlackMessageStore, SlackSignatureStore,
    WriteHealthProbe, PolicyStore, BreakGlassPosts, WebSessionStore, ContactStore, ContactPosts, FunctionCallIndex
{
    /// Counts the store's commits: what the web page's live updates wait on.
    var commits: ChangeCounter { get }
    /// Closes the store when the service stops; later calls fail.
    func close() throws
    /// Every approval filed at or after `since` that left `pending`, oldest first (for `policies suggest`).
    func decidedApprovals(since: Date) async throws -> [Approval]
}

extension GatehouseDatabase: GatehouseStore {}
extension PostgresDatabase: GatehouseStore {}
