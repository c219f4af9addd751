import ApprovalCore
import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization

/// The long-polls (`GET /v1/approvals/{id}?wait=N`) waiting for approvals to leave `pending`, woken in-process right
/// after the commit that decided them: no polling loop against the database. The one door to the long-poll fast path,
/// which lives in this folder; its work that outlives a request (the deadline sweeper, the link lookups of wake-ups)
/// runs in `run()`, a service of the application.
///
/// What the fast path buys, measured in BENCHMARKS.md: a decision is rendered once and its bytes shared by every poll it
/// wakes; polls are answered straight from their connections' event loops, one pass per loop, before their tasks are
/// resumed (`EarlyResponseHandler`), which cut the p99 of waking 1,000 polls by a third; one sweeper keeps every
/// deadline instead of a sleeping task per poll.
public final class LongPolls: Service, Sendable {
    /// How a wait ended.
    enum Outcome: Sendable {
        /// Decided, and already answered on the connection: the request's own response will be dropped.
        case answered
        /// Decided; the request answers with this.
        case decided(RenderedApproval)
        /// The wait ran out, the request was cancelled or the service is stopping: answer with the current state.
        case released
    }

    /// Where and how to answer a poll early: its connection, and the headers only it has.
    struct Connection: Sendable {
        let channel: any Channel
        let requestID: String?
    }

    final class Slot: Sendable {
        private enum State {
            case waiting(CheckedContinuation<Outcome, Never>?)
            /// Answered early on the connection; the task is resumed once the answer is written.
            case claimed(CheckedContinuation<Outcome, Never>?)
            case done(Outcome)
        }

        let deadline: Date
        let connection: Connection?
        private let state = Mutex(State.waiting(nil))

        init(deadline: Date, connection: Connection?) {
            self.deadline = deadline
            self.connection = connection
        }

        /// Ends the wait with `outcome` unless it has ended (or been claimed) already.
        func finish(_ outcome: Outcome) {
            let continuation = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
                guard case .waiting(let continuation) = state else { return nil }
                state = .done(outcome)
                return continuation
            }
            continuation?.resume(returning: outcome)
        }

        /// Claims a waiting slot for an early answer; the caller writes it, then calls `resume()`.
        func claim() -> Bool {
            state.withLock { state in
                guard case .waiting(let continuation) = state else { return false }
                state = .claimed(continuation)
                return true
            }
        }

        /// Resumes the task of a claimed slot.
        func resume() {
            let continuation = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
                guard case .claimed(let continuation) = state else { return nil }
                state = .done(.answered)
                return continuation
            }
            continuation?.resume(returning: .answered)
        }

        func wait() async -> Outcome {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                    let ready = state.withLock { state -> Outcome? in
                        switch state {
                        case .done(let outcome): return outcome
                        case .waiting:
                            state = .waiting(continuation)
                            return nil
                        case .claimed:
                            state = .claimed(continuation)
                            return nil
                        }
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                self.finish(.released)
            }
        }
    }

    private struct State {
        var slots: [ApprovalID: [ObjectIdentifier: Slot]] = [:]
        /// The deadline the sweeper sleeps towards (`nil`: none, it sleeps until told).
        var armedDeadline: Date?
    }

    private let state = Mutex(State())
    /// Tells the sweeper to look again: an earlier deadline arrived, or the last waiter left.
    private let rearm = Wakeup()
    /// Decisions whose answers wait for their Slack link, looked up by `run()` off the committing task.
    private let linkLookups = Mutex<[(rendered: RenderedApproval, slots: [Slot], link: @Sendable () async -> String?)]>([])
    private let linkLookupAdded = Wakeup()
    /// Those who wait for the number of held polls to reach a condition (`whenCount`).
    private let countWatchers = Mutex<[(condition: @Sendable (Int) -> Bool, continuation: CheckedContinuation<Void, Never>)]>([])
    let clock: any WallClock
    /// The `Server` header of early answers, as the application writes it on the others.
    let serverName: String?

    public init(clock: any WallClock = SystemWallClock(), serverName: String? = LongPolls.serverName) {
        self.clock = clock
        self.serverName = serverName
    }

    /// The application's `Server` header.
    public static let serverName = "gatehouse"

    /// The channel handler that lets answers go out from the event loop; one per connection.
    static func channelHandler() -> any RemovableChannelHandler { EarlyResponseHandler() }

    /// How many requests are waiting now.
    public var count: Int { state.withLock { $0.slots.values.reduce(0) { $0 + $1.count } } }

    /// Whether any request waits on `id` here.
    public func isWaiting(for id: ApprovalID) -> Bool { state.withLock { $0.slots[id]?.isEmpty == false } }

    /// Returns once the number of held polls satisfies `condition` (at once if it does): tests wait on it instead of
    /// polling.
    public func whenCount(_ condition: @escaping @Sendable (Int) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = count
            if condition(now) { return continuation.resume() }
            countWatchers.withLock { $0.append((condition, continuation)) }
            countChanged()  // a change between the read and the append
        }
    }

    private func countChanged() {
        let now = count
        let ready = countWatchers.withLock { watchers -> [CheckedContinuation<Void, Never>] in
            let ready = watchers.filter { $0.condition(now) }.map(\.continuation)
            watchers.removeAll { $0.condition(now) }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// The sweeper of deadlines and the link lookups of wake-ups, until the service stops.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.sweep() }
                group.addTask {
                    while !Task.isCancelled {
                        await self.linkLookupAdded.wait()
                        for job in self.linkLookups.withLock({ jobs in defer { jobs = [] }; return jobs }) {
                            self.answer(job.slots, with: job.rendered, slackLink: await job.link())
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Waits until `id` is decided or `deadline` passes. `current` is read *after* registering, so a decision
    /// committed in between is never missed. With a `connection`, a decision may be answered on it directly
    /// (`.answered`); the caller must then still return a response, which the connection drops.
    func wait(
        for id: ApprovalID, until deadline: Date, connection: Connection? = nil, current: () async throws -> Approval
    ) async throws -> Outcome {
        let slot = Slot(deadline: deadline, connection: connection)
        let signal = state.withLock { state -> Bool in
            state.slots[id, default: [:]][ObjectIdentifier(slot)] = slot
            if let armed = state.armedDeadline, armed <= deadline { return false }
            state.armedDeadline = deadline
            return true
        }
        if signal { rearm.signal() }
        countChanged()
        defer { remove(slot, for: id) }
        let approval = try await current()
        if approval.status != .pending {
            // Decided in between: unless a wake-up got to the slot first, this request answers it.
            slot.finish(.decided(RenderedApproval(approval)))
        }
        return await slot.wait()
    }

    /// For a wait with no connection of its own to answer on (MCP's tools, the Cosignet-compatible API): the approval
    /// `id` once it leaves `pending`, as the decision that woke the wait brought it, or, when `deadline` passes or the
    /// waits are released, as `read` finds it then.
    func approval(_ id: ApprovalID, decidedBefore deadline: Date, read: () async throws -> Approval) async throws -> Approval {
        let outcome = try await wait(for: id, until: deadline, current: read)
        if case .decided(let rendered) = outcome { return rendered.approval }
        return try await read()
    }

    /// Answers every waiting request with its approval's current state (used when the service stops).
    public func releaseAll() {
        let all = state.withLock { $0.slots.values.flatMap { Array($0.values) } }
        for slot in all { slot.finish(.released) }
    }

    /// Answers every waiter on `approval`, all with one shared rendering. With `link`, the answers carry the Slack link
    /// it looks up, off the committing task; without, they go out at once.
    public func notify(_ approval: Approval, link: (@Sendable () async -> String?)? = nil) {
        // Taken out now: every one of them is answered below, and none may be counted as waiting once its answer is out.
        let (waiting, noneLeft) = state.withLock { state in
            let waiting = state.slots.removeValue(forKey: approval.id).map { Array($0.values) } ?? []
            return (waiting, state.slots.isEmpty)
        }
        guard !waiting.isEmpty else { return }
        if noneLeft { rearm.signal() }
        countChanged()
        let rendered = RenderedApproval(approval)
        guard let link else { return answer(waiting, with: rendered, slackLink: nil) }
        linkLookups.withLock { $0.append((rendered, waiting, link)) }
        linkLookupAdded.signal()
    }

    /// Early answers on each event loop in one pass, then the tasks; polls without a connection are resumed at once.
    private func answer(_ slots: [Slot], with rendered: RenderedApproval, slackLink: String?) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, slots: [Slot])] = [:]
        for slot in slots {
            guard let connection = slot.connection else {
                slot.finish(.decided(rendered))
                continue
            }
            let loop = connection.channel.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].slots.append(slot)
        }
        guard !byLoop.isEmpty else { return }
        let response = EarlyAnswer(body: rendered.body(slackLink: slackLink), serverName: serverName)
        // The tasks are resumed once every loop has written its answers: their bookkeeping must not compete with them.
        let written = Mutex((loopsLeft: byLoop.count, claimed: [Slot]()))
        for (_, group) in byLoop {
            group.loop.execute { [group] in
                Self.answer(group.slots[...], with: response, rendered: rendered, claimed: []) { claimed in
                    let all = written.withLock { state -> [Slot]? in
                        state.loopsLeft -= 1
                        state.claimed += claimed
                        return state.loopsLeft == 0 ? state.claimed : nil
                    }
                    for slot in all ?? [] { slot.resume() }
                }
            }
        }
    }

    /// Answers so many polls per turn of the event loop that other work on it (the decision's own answer among it)
    /// waits for one chunk, not for all of them.
    static let answersPerTurn = 64

    /// Answers the polls of one event loop, a chunk per turn, then calls `done` with the claimed slots.
    private static func answer(
        _ slots: ArraySlice<Slot>, with response: EarlyAnswer, rendered: RenderedApproval, claimed: [Slot],
        done: @escaping @Sendable ([Slot]) -> Void
    ) {
        var claimed = claimed
        for slot in slots.prefix(answersPerTurn) {
            guard let connection = slot.connection, let handler = EarlyResponseHandler.on(connection.channel) else {
                slot.finish(.decided(rendered))
                continue
            }
            guard slot.claim() else { continue }
            // A connection that is gone gets nothing; its task is resumed all the same.
            handler.answer(response.bytes(requestID: connection.requestID))
            claimed.append(slot)
        }
        let rest = slots.dropFirst(answersPerTurn)
        guard let next = rest.first?.connection?.channel.eventLoop else { return done(claimed) }
        next.execute { [claimed] in answer(rest, with: response, rendered: rendered, claimed: claimed, done: done) }
    }

    private func remove(_ slot: Slot, for id: ApprovalID) {
        let (removed, lastOne) = state.withLock { state -> (Bool, Bool) in
            guard state.slots[id]?.removeValue(forKey: ObjectIdentifier(slot)) != nil else { return (false, false) }
            if state.slots[id]?.isEmpty == true { state.slots[id] = nil }
            return (true, state.slots.isEmpty)
        }
        // Lets the sweeper sleep until told rather than until a deadline nobody waits for.
        if lastOne { rearm.signal() }
        if removed { countChanged() }
    }

    /// Answers waiters whose deadline has passed (they then read the approval once more), sleeping until the
    /// earliest deadline in between, or until a new one is earlier.
    private func sweep() async {
        while !Task.isCancelled {
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
                return (expired, next)
            }
            for slot in expired { slot.finish(.released) }
            if !expired.isEmpty { countChanged() }
            await rearm.wait(until: next, on: clock)
        }
    }
}
