import Foundation

/// Work to do outside the transaction that asked for it (a callback delivery, a Slack call).
public struct OutboxItem: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var approvalID: ApprovalID?
    /// Items sharing an ordering key are delivered one at a time, in the order they were written.
    public var orderingKey: String?
    public var payload: JSONValue
    /// Attempts so far, this one included once claimed.
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var lastError: String?

    public init(
        id: Int64, kind: String, approvalID: ApprovalID?, orderingKey: String?, payload: JSONValue, attempts: Int,
        createdAt: Date, nextAttemptAt: Date, lastError: String?
    ) {
        self.id = id
        self.kind = kind
        self.approvalID = approvalID
        self.orderingKey = orderingKey
        self.payload = payload
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

/// An outbox row to write together with a change.
public struct NewOutboxItem: Sendable, Equatable {
    public var kind: String
    public var approvalID: ApprovalID?
    public var orderingKey: String?
    public var payload: JSONValue
    public var notBefore: Date?

    public init(kind: String, approvalID: ApprovalID?, orderingKey: String? = nil, payload: JSONValue, notBefore: Date? = nil) {
        self.kind = kind
        self.approvalID = approvalID
        self.orderingKey = orderingKey
        self.payload = payload
        self.notBefore = notBefore
    }
}

/// Turns a committed transition into the outbox rows that go with it, in the same transaction.
public protocol OutboxPlanner: Sendable {
    func outboxItems(for transition: ApprovalTransition) -> [NewOutboxItem]
}

/// Plans a signed callback delivery for every decided approval that has a `callback_url`.
public struct CallbackOutboxPlanner: OutboxPlanner {
    public static let kind = "callback"

    public init() {}

    public func outboxItems(for transition: ApprovalTransition) -> [NewOutboxItem] {
        transition.effects.compactMap { effect in
            guard case .deliverCallback(let url) = effect else { return nil }
            return NewOutboxItem(kind: Self.kind, approvalID: transition.after.id, payload: .object(["url": .string(url)]))
        }
    }
}

/// Delivers one kind of outbox item. `deliver` returns normally on success and throws `OutboxFailure` otherwise.
public protocol OutboxHandler: Sendable {
    var kinds: [String] { get }
    func deliver(_ item: OutboxItem) async throws(OutboxFailure)
}

/// Why a delivery failed, and what to do about it.
public enum OutboxFailure: Error, Sendable {
    /// Try again later; after `retryAfter` when the other side said when.
    case retry(String, retryAfter: TimeInterval? = nil)
    /// It will never work (bad URL, permanent error): stop and record why.
    case permanent(String)

    /// Runs a handler's database work: a failure there is retried, as the database is expected back.
    public static func retryingDatabase<T>(_ work: () async throws -> T) async throws(OutboxFailure) -> T {
        do {
            return try await work()
        } catch {
            throw .retry("database: \(error)")
        }
    }
}

/// Adds outbox items outside any approval change: follow-up work planned by a delivery, a reply to a click.
public protocol OutboxQueue: Sendable {
    func enqueueOutboxItems(_ items: [NewOutboxItem]) async throws
}

/// The outbox as its worker sees it: claims with a lease, completion, retries, and what is left.
public protocol OutboxStore: OutboxQueue {
    /// Signalled after every commit that added outbox items.
    var outboxEnqueued: Wakeup { get }
    /// Claims items that are due, oldest first, skipping any whose ordering key has an earlier unfinished item.
    func claimDueOutboxItems(now: Date, limit: Int, kinds: [String]?) async throws -> [OutboxItem]
    /// The item was delivered; `audit` is appended with it.
    func completeOutboxItem(_ id: Int64, at now: Date, audit: AuditEvent?) async throws
    /// The attempt failed; try again at `retryAt`.
    func rescheduleOutboxItem(_ id: Int64, error: String, retryAt: Date) async throws
    /// The item will never succeed; it stays for inspection, and `audit` is appended with it.
    func failOutboxItem(_ id: Int64, error: String, at now: Date, audit: AuditEvent?) async throws
    /// Makes items claimed by a process that is gone available again; called once at start.
    func releaseOutboxClaims(now: Date) async throws
    /// When the next unfinished, unclaimed item is due.
    func nextOutboxAttempt() async throws -> Date?
    /// Unfinished items, by kind.
    func outboxBacklog() async throws -> [String: Int]
}
