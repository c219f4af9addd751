import Foundation

/// An approval some process sharing the database changed: its id and the kind of audit entry that recorded it.
public struct SharedChange: Sendable, Equatable {
    public var approvalID: ApprovalID
    public var kind: String

    public init(approvalID: ApprovalID, kind: String) {
        self.approvalID = approvalID
        self.kind = kind
    }

    /// Whether the change decided the approval one way or another (a held long-poll answers it).
    public var decides: Bool { ["decided", "expired", "cancelled"].contains(kind) }
}

/// What a replica hears of the changes every process sharing the database commits (several `serve` replicas on one
/// PostgreSQL): enough to answer its own long-polls and re-arm its own timers when another replica made the change.
/// A single SQLite process hears its own commits through `ApprovalObserver` and needs none of this.
public protocol SharedChangeFeed: Sendable {
    /// Calls `changed` with each batch of changes committed after the call began, in commit order, until the task is
    /// cancelled. Woken by the database's notifications, and every `interval` regardless, so that a lost notification
    /// delays a change by at most `interval`. `listening` is called once notifications are being received.
    func followChanges(
        every interval: Duration, listening: @escaping @Sendable () -> Void,
        _ changed: @escaping @Sendable ([SharedChange]) async -> Void
    ) async throws
}
