import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// The long-polls (`GET /v1/approvals/{id}?wait=N`) waiting for approvals to leave `pending`, woken in-process right
/// after the commit that decided them: no polling loop against the database. The one door to the long-poll fast path,
/// which lives in this folder; its work that outlives a request (the deadline sweeper, the link lookups of wake-ups)
/// runs in `run()`, a service of the application.
///
/// What the fast path buys, measured in BENCHMARKS.md:
/// - A held poll is *parked* at its connection (`park`): its request's task ends at once, and what waits is the slot
///   and the connection, which is all an answer needs. A task held through the middleware and the route kept about
///   32 KiB of frames per waiting poll; 10,000 polls then needed twice the memory they need parked.
/// - A decision is rendered once and its bytes shared by every poll it wakes; the polls are answered straight from
///   their connections' event loops, one pass per loop (`EarlyResponseHandler`), which cut the p99 of waking 1,000
///   polls by a third.
/// - One sweeper keeps every deadline instead of a sleeping task per poll.
///
/// Waits with no connection of their own (MCP's tools, the Cosignet-compatible API) hold their task (`approval`).
public final class LongPolls: Service, Sendable {
    /// How a held task's wait ended.
    enum Outcome: Sendable {
        /// Decided; the request answers with this.
        case decided(RenderedApproval)
        /// The wait ran out, the request was cancelled or the service is stopping: answer with the current state.
        case released
    }

    /// How `park` left a poll.
    enum Parked: Sendable {
        /// Parked at its connection, or answered there already: the request's own response is the placeholder
        /// (`placeholder`), which the connection drops.
        case parked
        /// Decided before it could park: the request answers with this approval itself.
        case decided(Approval)
    }

    /// Where a parked poll is answered, and how when nothing decided it.
    struct Connection: Sendable {
        let channel: any Channel
        let requestID: String?
        /// The answer from the approval's state when the poll is released: its deadline passed, or the service stops.
        let answers: any CurrentAnswers
    }

    /// A released parked poll's answer, from its approval's state now.
    protocol CurrentAnswers: AnyObject, Sendable {
        func current(_ id: ApprovalID, requestID: String?) async -> (status: HTTPResponse.Status, body: ByteBuffer)
    }

    final class Slot: Sendable {
        private enum State {
            case waiting(CheckedContinuation<Outcome, Never>?)
            case done(Outcome)
        }

        let approvalID: ApprovalID
        let deadline: Date
        /// Set for a parked poll, answered on its connection; nil for a held task.
        let connection: Connection?
        /// When the poll began waiting, for the wait's histogram.
        let since = ContinuousClock.now
        private let state = Mutex(State.waiting(nil))

        init(_ approvalID: ApprovalID, deadline: Date, connection: Connection?) {
            self.approvalID = approvalID
            self.deadline = deadline
            self.connection = connection
        }

        /// Ends the wait with `outcome` unless it has ended already; true when this call ended it. A held task is
        /// resumed with `outcome`; a parked poll's caller answers it on its connection.
        @discardableResult
        func end(_ outcome: Outcome) -> Bool {
            let (ended, continuation) = state.withLock { state -> (Bool, CheckedContinuation<Outcome, Never>?) in
                guard case .waiting(let continuation) = state else { return (false, nil) }
                state = .done(outcome)
                return (true, continuation)
            }
            continuation?.resume(returning: outcome)
            return ended
        }

        /// A held task's wait, until `end`.
        func wait() async -> Outcome {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                    let ended = state.withLock { state -> Outcome? in
                        switch state {
                        case .done(let outcome): return outcome
                        case .waiting:
                            state = .waiting(continuation)
                            return nil
                        }
                    }
                    if let ended { continuation.resume(returning: ended) }
                }
            } onCancel: {
                self.end(.released)
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
    /// Told how long each parked poll waited, as its answer goes out. (The metrics themselves rather than a closure that
    /// records into them: a closure read out of a `Mutex` comes back wrapped in one more thunk each time.)
    private let metrics = Mutex<GatehouseMetrics?>(nil)
    let clock: any WallClock
    /// The `Server` header of early answers, as the application writes it on the others.
    let serverName: String?

    public init(clock: any WallClock = SystemWallClock(), serverName: String? = LongPolls.serverName) {
        self.clock = clock
        self.serverName = serverName
    }

    /// The application's `Server` header.
    public static let serverName = "gatehouse"

    /// The channel handler that parks polls and lets answers go out from the event loop; one per connection.
    func channelHandler() -> any RemovableChannelHandler { EarlyResponseHandler(owner: self) }

    /// The response a parked poll's request returns: the connection drops it, and the poll's answer comes later.
    static var placeholder: Response {
        Response(status: .ok, headers: [EarlyResponseHandler.parkedField: "1"])
    }

    /// Records in `metrics` how long each parked poll waited, once its answer is out.
    func recordWaits(in metrics: GatehouseMetrics) {
        self.metrics.withLock { $0 = metrics }
    }

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

    /// Holds the calling task until `id` is decided or `deadline` passes. `current` is read *after* registering, so
    /// a decision committed in between is never missed.
    func wait(for id: ApprovalID, until deadline: Date, current: () async throws -> Approval) async throws -> Outcome {
        let slot = register(Slot(id, deadline: deadline, connection: nil), for: id)
        defer { remove(slot, for: id) }
        let approval = try await current()
        if approval.status != .pending {
            // Decided in between: unless a wake-up got to the slot first, this request answers it.
            slot.end(.decided(RenderedApproval(approval)))
        }
        return await slot.wait()
    }

    /// Parks a poll on `id` at its connection until a decision or `deadline`, and lets the request's task finish: the
    /// answer goes out on the connection. `current` is read *after* registering, so a decision committed in between
    /// is never missed; then the request answers itself (`.decided`), unless a wake-up answered it already.
    func park(for id: ApprovalID, until deadline: Date, on connection: Connection, current: () async throws -> Approval)
        async throws -> Parked
    {
        let slot = register(Slot(id, deadline: deadline, connection: connection), for: id)
        let approval: Approval
        do {
            approval = try await current()
        } catch {
            if slot.end(.released) {
                remove(slot, for: id)
                throw error
            }
            return .parked
        }
        if approval.status != .pending {
            guard slot.end(.decided(RenderedApproval(approval))) else { return .parked }
            remove(slot, for: id)
            return .decided(approval)
        }
        let channel = connection.channel
        channel.eventLoop.execute { EarlyResponseHandler.on(channel)?.waits(slot) }
        return .parked
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
        release(all)
    }

    /// Releases parked poll `slot` now (its connection is asked to close): it is answered with the current state.
    func release(_ slot: Slot) {
        remove(slot, for: slot.approvalID)
        release([slot])
    }

    /// Forgets parked poll `slot`: its connection is gone.
    func abandon(_ slot: Slot) {
        if slot.end(.released) { remove(slot, for: slot.approvalID) }
    }

    /// Ends each slot's wait with the current state: a held task reads it itself; a parked poll is answered with it
    /// on its connection, read off the caller's task.
    private func release(_ slots: [Slot]) {
        for slot in slots where slot.end(.released) {
            guard let connection = slot.connection else { continue }
            Task {
                let (status, body) = await connection.answers.current(slot.approvalID, requestID: connection.requestID)
                let response = EarlyAnswer(status: status, body: body, serverName: serverName)
                connection.channel.eventLoop.execute {
                    self.answerOnLoop(slot, connection: connection, bytes: response.bytes(requestID: connection.requestID))
                }
            }
        }
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

    /// Answers parked polls on each event loop in one pass; held tasks are resumed at once.
    private func answer(_ slots: [Slot], with rendered: RenderedApproval, slackLink: String?) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, slots: [Slot])] = [:]
        for slot in slots {
            guard let connection = slot.connection else {
                slot.end(.decided(rendered))
                continue
            }
            let loop = connection.channel.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].slots.append(slot)
        }
        guard !byLoop.isEmpty else { return }
        let response = EarlyAnswer(body: rendered.body(slackLink: slackLink), serverName: serverName)
        for (_, group) in byLoop {
            group.loop.execute { [group] in self.answer(group.slots[...], with: response, rendered: rendered) }
        }
    }

    /// Answers so many polls per turn of the event loop that other work on it (the decision's own answer among it)
    /// waits for one chunk, not for all of them.
    static let answersPerTurn = 64

    /// Answers the parked polls of one event loop, a chunk per turn.
    private func answer(_ slots: ArraySlice<Slot>, with response: EarlyAnswer, rendered: RenderedApproval) {
        for slot in slots.prefix(Self.answersPerTurn) {
            guard let connection = slot.connection, slot.end(.decided(rendered)) else { continue }
            answerOnLoop(slot, connection: connection, bytes: response.bytes(requestID: connection.requestID))
        }
        let rest = slots.dropFirst(Self.answersPerTurn)
        guard let next = rest.first?.connection?.channel.eventLoop else { return }
        next.execute { self.answer(rest, with: response, rendered: rendered) }
    }

    /// Writes a parked poll's answer on its connection, from its event loop; a connection that is gone gets nothing.
    private func answerOnLoop(_ slot: Slot, connection: Connection, bytes: ByteBuffer) {
        metrics.withLock { $0 }?.recordLongPollWait(ContinuousClock.now - slot.since)
        EarlyResponseHandler.on(connection.channel)?.answer(bytes)
    }

    private func register(_ slot: Slot, for id: ApprovalID) -> Slot {
        let signal = state.withLock { state -> Bool in
            state.slots[id, default: [:]][ObjectIdentifier(slot)] = slot
            if let armed = state.armedDeadline, armed <= slot.deadline { return false }
            state.armedDeadline = slot.deadline
            return true
        }
        if signal { rearm.signal() }
        countChanged()
        return slot
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
            release(expired)
            if !expired.isEmpty { countChanged() }
            await rearm.wait(until: next, on: clock)
        }
    }
}
