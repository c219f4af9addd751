import ApprovalCore
import Synchronization

/// Recently authenticated keys by the SHA-256 of their secret, so that most requests skip the database
/// read that authenticating costs (a hop to GRDB's reader pool and back).
///
/// Only active keys are kept, each for `lifetime`. A key revoked through this process is forgotten at
/// once (see `forgetAll`); one revoked by another process (`gatehouse keys revoke` on the same file)
/// stops working here within `lifetime`.
final class APIKeyCache: Sendable {
    static let lifetime: Duration = .seconds(2)

    private struct Entry {
        let key: APIKey
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Bumped by every `forgetAll`, so a read that began before a revocation cannot store its stale answer.
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The cached key for `digest`, if it was read from the database less than `lifetime` ago.
    func key(for digest: String) -> APIKey? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[digest] else { return nil }
            if entry.expires > now { return entry.key }
            state.entries[digest] = nil
            return nil
        }
    }

    /// Pass to `store` what this returned before the database read.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Remembers `key`, unless keys were forgotten since `generation` was taken.
    func store(_ key: APIKey, for digest: String, readAt generation: UInt64) {
        let expires = ContinuousClock.now + Self.lifetime
        state.withLock { state in
            guard state.generation == generation else { return }
            state.entries[digest] = Entry(key: key, expires: expires)
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
