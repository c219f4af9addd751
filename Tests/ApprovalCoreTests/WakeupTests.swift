import DomainTestSupport
import Foundation
import Synchronization
import Testing

import ApprovalCore

/// A clock that moves only when a test moves it, and reports each sleep so a test can await it instead of sleeping.
final class ManualClock: WallClock {
    enum SleepOutcome: Equatable, Sendable {
        case reachedDeadline
        case cancelled
    }

    private struct Sleeper {
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
        var outcomes: [SleepOutcome] = []
    }

    private let state: Mutex<State>
    /// Yields once each time `sleep(until:)` is entered.
    let sleepStarted: AsyncStream<Void>
    private let sleepStartedContinuation: AsyncStream<Void>.Continuation

    init(now: Date) {
        state = Mutex(State(now: now))
        (sleepStarted, sleepStartedContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    var now: Date { state.withLock { $0.now } }

    /// How each finished sleep ended, in order.
    var outcomes: [SleepOutcome] { state.withLock { $0.outcomes } }

    func sleep(until deadline: Date) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let immediate: Result<Void, any Error>? = state.withLock { state in
                        if Task.isCancelled { return .failure(CancellationError()) }
                        if state.now >= deadline { return .success(()) }
                        state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                    sleepStartedContinuation.yield()
                }
            } onCancel: {
                let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
                sleeper?.continuation.resume(throwing: CancellationError())
            }
            state.withLock { $0.outcomes.append(.reachedDeadline) }
        } catch {
            state.withLock { $0.outcomes.append(.cancelled) }
            throw error
        }
    }

    /// Moves the clock to `date` and wakes every sleeper whose deadline has come.
    func advance(to date: Date) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now = date
            let keys = state.sleepers.filter { $0.value.deadline <= date }.map(\.key)
            return keys.compactMap { state.sleepers.removeValue(forKey: $0)?.continuation }
        }
        for continuation in due { continuation.resume() }
    }
}

@Suite("Wakeup", .timeLimit(.minutes(1)))
struct WakeupTests {
    @Test("a signal sent before anyone waits is not lost")
    func signalBeforeWait() async {
        let wakeup = Wakeup()
        wakeup.signal()
        await wakeup.wait()
    }

    @Test("a signal ends a wait that is already parked")
    func signalEndsParkedWait() async {
        let wakeup = Wakeup()
        let clock = ManualClock(now: Fixture.now)
        var started = clock.sleepStarted.makeAsyncIterator()
        let waiter = Task { await wakeup.wait(until: Fixture.deadline, on: clock) }
        await started.next()  // the wait is in place: its deadline sleep has begun
        wakeup.signal()
        await waiter.value
        #expect(clock.now == Fixture.now)
        #expect(clock.outcomes == [.cancelled])
    }

    @Test("wait(until:on:) returns at the deadline without a signal")
    func deadlineEndsWait() async {
        let wakeup = Wakeup()
        let clock = ManualClock(now: Fixture.now)
        var started = clock.sleepStarted.makeAsyncIterator()
        let waiter = Task { await wakeup.wait(until: Fixture.deadline, on: clock) }
        await started.next()
        clock.advance(to: Fixture.deadline)
        await waiter.value
        #expect(clock.outcomes == [.reachedDeadline])
    }

    @Test("wait(until:on:) with a deadline already past returns at once")
    func pastDeadline() async {
        let wakeup = Wakeup()
        let clock = ManualClock(now: Fixture.deadline)
        await wakeup.wait(until: Fixture.now, on: clock)
        #expect(clock.outcomes == [.reachedDeadline])
    }

    @Test("wait(until: nil) never consults the clock and ends on a signal")
    func noDeadline() async {
        let wakeup = Wakeup()
        let clock = ManualClock(now: Fixture.now)
        wakeup.signal()
        await wakeup.wait(until: nil, on: clock)
        #expect(clock.outcomes.isEmpty)
    }

    @Test("signals while nobody waits coalesce into one: the wait after the first does not end early")
    func signalsCoalesce() async {
        let wakeup = Wakeup()
        let clock = ManualClock(now: Fixture.now)
        wakeup.signal()
        wakeup.signal()
        await wakeup.wait()  // consumes the (single) pending signal

        var started = clock.sleepStarted.makeAsyncIterator()
        let waiter = Task { await wakeup.wait(until: Fixture.deadline, on: clock) }
        await started.next()
        clock.advance(to: Fixture.deadline)
        await waiter.value
        // Had a second signal been kept, the wait would have ended at once and cancelled the clock's sleep.
        #expect(clock.outcomes == [.reachedDeadline])
    }

    @Test("a signal wakes a later wait after a wait ended by its deadline")
    func signalAfterDeadlineWait() async {
        let wakeup = Wakeup()
        let clock = ManualClock(now: Fixture.deadline)
        await wakeup.wait(until: Fixture.now, on: clock)
        wakeup.signal()
        await wakeup.wait()
    }

    @Test("cancelling the waiting task ends wait()")
    func cancellationEndsWait() async {
        let wakeup = Wakeup()
        let waiter = Task { await wakeup.wait() }
        waiter.cancel()
        await waiter.value
        // The cancelled wait did not swallow a later signal.
        wakeup.signal()
        await wakeup.wait()
    }
}
