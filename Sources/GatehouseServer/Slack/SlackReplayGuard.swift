import Foundation
import SlackRecords
import Synchronization

/// Refuses a Slack request whose signature was accepted before: a captured request sent again within Slack's window
/// (a replayed `admin add` or `chain set` would undo later changes). Every signature accepted is kept until it leaves
/// the window, in memory for the check and in the store so that a restart does not forget it.
final class SlackReplayGuard: Sendable {
    let store: any SlackSignatureStore
    /// How long a signature stays valid on either side of its timestamp (Slack's window).
    let window: TimeInterval
    /// Whether other processes (replicas on one PostgreSQL) accept signatures into the same store: then the store's
    /// answer, not this process's memory, says whether a signature is new, and it is asked before the request is
    /// handled. Alone on its database, a process asks its memory and keeps the signature while it handles the request.
    let shared: Bool

    private struct State {
        var loaded = false
        var seen: [String: Date] = [:]
        var claims = 0
    }

    private let state = Mutex(State())

    init(store: any SlackSignatureStore, window: TimeInterval = 300, shared: Bool = false) {
        self.store = store
        self.window = window
        self.shared = shared
    }

    /// Whether `signature`, made at `timestamp`, is new: it is then held as seen, so a concurrent copy is refused too.
    /// The first call reads the signatures a previous run accepted.
    func claim(_ signature: String, timestamp: Date, now: Date) async throws -> Bool {
        if !state.withLock({ $0.loaded }) {
            let accepted = try await store.acceptedSlackSignatures(at: now)
            state.withLock { state in
                state.seen.merge(accepted) { mine, _ in mine }
                state.loaded = true
            }
        }
        return state.withLock { state in
            state.claims += 1
            // Forget what has left the window now and then: the set holds at most a few minutes of requests.
            if state.claims % 256 == 0 { state.seen = state.seen.filter { $0.value >= now } }
            guard state.seen[signature] == nil else { return false }
            state.seen[signature] = expiry(of: timestamp)
            return true
        }
    }

    /// Keeps `signature` in the store (durably) until it leaves the window; `false` when the store had it already
    /// (another replica accepted it).
    @discardableResult
    func record(_ signature: String, timestamp: Date, now: Date) async throws -> Bool {
        try await store.recordSlackSignature(signature, expiresAt: expiry(of: timestamp), now: now)
    }

    /// When a signature made at `timestamp` can no longer be accepted, with a second to spare.
    private func expiry(of timestamp: Date) -> Date { timestamp.addingTimeInterval(window + 1) }
}
