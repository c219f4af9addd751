import ApprovalCore
import Synchronization

/// Waits until `condition` holds, checking it again each time one of `signals` counts a change: no polling loop, and
/// no sleep. Bound it with a timeout; a condition that never holds waits for ever.
public func waitUntil(
    _ signals: [ChangeCounter], _ condition: @escaping @Sendable () async throws -> Bool
) async throws {
    while true {
        let seen = signals.map(\.count)
        if try await condition() { return }
        try Task.checkCancellation()
        await withTaskGroup(of: Void.self) { group in
            for (signal, count) in zip(signals, seen) {
                group.addTask { await signal.wait(after: count) }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
