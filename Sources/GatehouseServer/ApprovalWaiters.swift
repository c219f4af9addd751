import ApprovalCore
import Foundation
import Synchronization

/// Long-polls waiting for approvals to leave `pending`, woken in-process right after the commit that
/// decided them: no polling loop against the database.
public final class ApprovalWaiters: Sendable {
    final class Slot: Sendable {
        private enum State {
            case waiting(CheckedContinuation<Approval?, Never>?)
            case done(Approval?)
        }

        private let state = Mutex(State.waiting(nil))

        func deliver(_ approval: Approval?) {
            let continuation = state.withLock { state -> CheckedContinuation<Approval?, Never>? in
                guard case .waiting(let continuation) = state else { return nil }
                state = .done(approval)
                return continuation
            }
            continuation?.resume(returning: approval)
        }

        func wait() async -> Approval? {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Approval?, Never>) in
                    let ready = state.withLock { state -> Approval?? in
                        switch state {
                        case .done(let approval): return .some(approval)
                        case .waiting:
                            state = .waiting(continuation)
                            return .none
                        }
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                self.deliver(nil)
            }
        }
    }

    private let slots = Mutex<[ApprovalID: [ObjectIdentifier: Slot]]>([:])

    public init() {}

    /// How many requests are waiting now.
    public var count: Int { slots.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Waits until `id` is decided or `deadline` passes on `clock`. `current` is read *after* registering,
    /// so a decision committed in between is never missed. Returns the decided approval, or `nil` on timeout.
    func wait(
        for id: ApprovalID, until deadline: Date, clock: any WallClock, current: () async throws -> Approval
    ) async throws -> Approval {
        let slot = Slot()
        slots.withLock { $0[id, default: [:]][ObjectIdentifier(slot)] = slot }
        defer {
            slots.withLock { all in
                all[id]?[ObjectIdentifier(slot)] = nil
                if all[id]?.isEmpty == true { all[id] = nil }
            }
        }
        let approval = try await current()
        if approval.status != .pending { return approval }
        let woken = await withTaskGroup(of: Approval?.self) { group in
            group.addTask { await slot.wait() }
            group.addTask {
                try? await clock.sleep(until: deadline)
                slot.deliver(nil)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let woken { return woken }
        return try await current()
    }

    /// Answers every waiter on `approval`.
    public func notify(_ approval: Approval) {
        let waiting = slots.withLock { $0[approval.id].map { Array($0.values) } ?? [] }
        for slot in waiting { slot.deliver(approval) }
    }
}
