import ApprovalCore
import Foundation
import ServiceLifecycle
import Synchronization

/// When each API key was last used (`gatehouse keys list`), kept in memory and written to the database once a minute
/// and at shutdown: authenticating stays a read, and a busy key costs one row update a minute, not one per request.
final class KeyUsage: Service, Sendable {
    let keys: any KeyStore
    let clock: any WallClock
    private let unwritten = Mutex<[Int64: Date]>([:])

    init(keys: any KeyStore, clock: any WallClock) {
        self.keys = keys
        self.clock = clock
    }

    func used(_ key: APIKey) {
        let now = clock.now
        unwritten.withLock { $0[key.id] = now }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await self.clock.sleep(until: self.clock.now.addingTimeInterval(60))
                await self.flush()
            }
        }
        await flush()
    }

    /// Writes what was used since the last flush; a failed write is tried again at the next.
    func flush() async {
        let uses = unwritten.withLock { uses in
            defer { uses = [:] }
            return uses
        }
        guard !uses.isEmpty else { return }
        do {
            try await keys.recordKeyUse(uses)
        } catch {
            unwritten.withLock { pending in pending.merge(uses) { newer, _ in newer } }
        }
    }
}
