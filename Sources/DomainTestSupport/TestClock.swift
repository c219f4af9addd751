import ApprovalCore
import Foundation
import Synchronization

/// A clock that moves only when a test moves it; sleepers wake when it passes their deadline. Each sleep that starts
/// is announced (`sleepStarted`) and each one that ends is recorded (`outcomes`), so a test awaits them instead of
/// sleeping.
public final class TestClock: WallClock, Sendable {
    public enum SleepOutcome: Equatable, Sendable {
        case reachedDeadline
        case cancelled
    }

    private struct Sleeper {
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        var cancelled: Set<UInt64> = []
        var outcomes: [SleepOutcome] = []
    }

    private let state: Mutex<State>
    /// Yields once each time a sleep begins (`sleep(until:)` is entered).
    public let sleepStarted: AsyncStream<Void>
    private let sleepStartedContinuation: AsyncStream<Void>.Continuation

    /// Starts at 2026-11-22T01:00:00Z unless told otherwise.
    public init(now: Date = Date(timeIntervalSince1970: 1_795_309_200)) {
        state = Mutex(State(now: now))
        (sleepStarted, sleepStartedContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    public var now: Date { state.withLock { $0.now } }

    /// How many tasks are asleep on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// How each finished sleep ended, in order.
    public var outcomes: [SleepOutcome] { state.withLock { $0.outcomes } }

    public func advance(by seconds: TimeInterval) {
        set(to: now.addingTimeInterval(seconds))
    }

    /// Moves the clock to `date` and wakes every sleeper whose deadline has come.
    public func advance(to date: Date) {
        set(to: date)
    }

    public func set(to date: Date) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now = date
            let ready = state.sleepers.filter { $0.value.deadline <= date }
            for id in ready.keys { state.sleepers[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let immediate = state.withLock { state -> (any Error)?? in
                        if state.cancelled.remove(id) != nil || Task.isCancelled { return .some(CancellationError()) }
                        if deadline <= state.now { return .some(nil) }
                        state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                        return .none
                    }
                    switch immediate {
                    case .some(.some(let error)): continuation.resume(throwing: error)
                    case .some(.none): continuation.resume()
                    case .none: break
                    }
                    sleepStartedContinuation.yield()
                }
            } onCancel: {
                let sleeper = state.withLock { state -> Sleeper? in
                    guard let sleeper = state.sleepers.removeValue(forKey: id) else {
                        state.cancelled.insert(id)
                        return nil
                    }
                    return sleeper
                }
                sleeper?.continuation.resume(throwing: CancellationError())
            }
            state.withLock {
                $0.cancelled.remove(id)
                $0.outcomes.append(.reachedDeadline)
            }
        } catch {
            state.withLock {
                $0.cancelled.remove(id)
                $0.outcomes.append(.cancelled)
            }
            throw error
        }
    }
}
