import ApprovalCore
import Foundation
import Synchronization

/// Long-polls waiting for approvals to leave `pending`, woken in-process right after the commit that
/// decided them: no polling loop against the database.
///
/// A wake-up costs each waiter one continuation resume: the decided approval is rendered once and shared,
/// and deadlines are kept by one sweeper for all waiters instead of a sleeping child task per poll (which
/// had to be woken and cancelled for every answer).
public final class ApprovalWaiters: Sendable {
    final class Slot: Sendable {
        private enum State {
            case waiting(CheckedContinuation<RenderedApproval?, Never>?)
            case done(RenderedApproval?)
        }

        let deadline: Date
        private let state = Mutex(State.waiting(nil))

        init(deadline: Date) {
            self.deadline = deadline
        }

        func deliver(_ approval: RenderedApproval?) {
            let continuation = state.withLock { state -> CheckedContinuation<RenderedApproval?, Never>? in
                guard case .waiting(let continuation) = state else { return nil }
                state = .done(approval)
                return continuation
            }
            continuation?.resume(returning: approval)
        }

        func wait() async -> RenderedApproval? {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<RenderedApproval?, Never>) in
                    let ready = state.withLock { state -> RenderedApproval?? in
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

    private struct State {
        var slots: [ApprovalID: [ObjectIdentifier: Slot]] = [:]
        /// Whether a sweeper task is running, and the deadline it sleeps towards.
        var sweeping = false
        var armedDeadline: Date?
    }

    private let state = Mutex(State())
    /// Tells the sweeper to look again: an earlier deadline arrived, or the last waiter left.
    private let rearm = Wakeup()

    public init() {}

    /// How many requests are waiting now.
    public var count: Int { state.withLock { $0.slots.values.reduce(0) { $0 + $1.count } } }

    /// Waits until `id` is decided or `deadline` passes on `clock`. `current` is read *after* registering,
    /// so a decision committed in between is never missed. Returns the decided approval, or the current one on timeout.
    func wait(
        for id: ApprovalID, until deadline: Date, clock: any WallClock, current: () async throws -> Approval
    ) async throws -> RenderedApproval {
        let slot = Slot(deadline: deadline)
        let (startSweeper, signal) = state.withLock { state -> (Bool, Bool) in
            state.slots[id, default: [:]][ObjectIdentifier(slot)] = slot
            if !state.sweeping {
                state.sweeping = true
                state.armedDeadline = deadline
                return (true, false)
            }
            if let armed = state.armedDeadline, armed <= deadline { return (false, false) }
            return (false, true)
        }
        if startSweeper {
            // Unstructured because it outlives this request; it ends by itself once no request is waiting.
            Task { await self.sweep(clock: clock) }
        } else if signal {
            rearm.signal()
        }
        defer { remove(slot, for: id) }
        let approval = try await current()
        if approval.status != .pending { return RenderedApproval(approval) }
        if let woken = await slot.wait() { return woken }
        return RenderedApproval(try await current())
    }

    /// Answers every waiting request with its approval's current state (used when the service stops).
    public func releaseAll() {
        let all = state.withLock { $0.slots.values.flatMap { Array($0.values) } }
        for slot in all { slot.deliver(nil) }
    }

    /// Answers every waiter on `approval`, all with one shared rendering.
    public func notify(_ approval: Approval) {
        let waiting = state.withLock { $0.slots[approval.id].map { Array($0.values) } ?? [] }
        guard !waiting.isEmpty else { return }
        let rendered = RenderedApproval(approval)
        for slot in waiting { slot.deliver(rendered) }
    }

    private func remove(_ slot: Slot, for id: ApprovalID) {
        let lastOne = state.withLock { state -> Bool in
            guard state.slots[id]?.removeValue(forKey: ObjectIdentifier(slot)) != nil else { return false }
            if state.slots[id]?.isEmpty == true { state.slots[id] = nil }
            return state.slots.isEmpty
        }
        // Lets the sweeper end now rather than sleep on until a deadline nobody waits for.
        if lastOne { rearm.signal() }
    }

    /// Answers waiters whose deadline has passed (they then read the approval once more), sleeping until the
    /// earliest deadline in between. Returns when nobody waits.
    private func sweep(clock: any WallClock) async {
        while true {
            let now = clock.now
            let (expired, next) = state.withLock { state -> ([Slot], Date?) in
                var expired: [Slot] = []
                var next: Date?
                for (id, slots) in state.slots {
                    for (key, slot) in slots {
                        if slot.deadline <= now {
                            expired.append(slot)
                            state.slots[id]?[key] = nil
                        } else if next.map({ slot.deadline < $0 }) ?? true {
                            next = slot.deadline
                        }
                    }
                    if state.slots[id]?.isEmpty == true { state.slots[id] = nil }
                }
                state.armedDeadline = next
                if next == nil { state.sweeping = false }
                return (expired, next)
            }
            for slot in expired { slot.deliver(nil) }
            guard let next else { return }
            await rearm.wait(until: next, on: clock)
        }
    }
}
