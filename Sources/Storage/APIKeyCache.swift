import ApprovalCore
import Synchronization

/// Authenticated keys by the SHA-256 of their secret, so that most requests skip the database read that
/// authenticating costs (a hop to GRDB's reader pool and back).
///
/// Only active keys are kept, and they are forgotten when a key is revoked. Keys change only through this process
/// while it runs (the command line goes through the running service), so nothing stale can be kept: no entry needs a
/// lifetime.
final class APIKeyCache: Sendable {
    private struct State {
        var entries: [String: APIKey] = [:]
        /// Bumped by every `forgetAll`, so a read that began before a revocation cannot store its stale answer.
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The cached key for `digest`, if any.
    func key(for digest: String) -> APIKey? {
        state.withLock { $0.entries[digest] }
    }

    /// Pass to `store` what this returned before the database read.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Remembers `key`, unless keys were forgotten since `generation` was taken.
    func store(_ key: APIKey, for digest: String, readAt generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            state.entries[digest] = key
        }
    }

    /// Forgets every key; called after a revocation commits.
    func forgetAll() {
        state.withLock { state in
            state.entries.removeAll()
            state.generation &+= 1
        }
    }
}
