import ApprovalCore
import DomainTestSupport
import Foundation
import Synchronization
import Testing

@Suite("The system wall clock: sleeping through steps of the clock")
struct SystemWallClockTests {
    /// Monotonic pauses that last until the test ends them, so no test waits on real time.
    final class ManualPauses: Sendable {
        struct Pause: Sendable {
            let duration: Duration
            let end: @Sendable () -> Void
        }

        private struct State {
            var pending: [Pause] = []
            var waiters: [CheckedContinuation<Pause, Never>] = []
        }

        private let state = Mutex(State())

        func pause(_ duration: Duration) async {
            await withCheckedContinuation { (resume: CheckedContinuation<Void, Never>) in
                let pause = Pause(duration: duration, end: { resume.resume() })
                let waiter = state.withLock { state -> CheckedContinuation<Pause, Never>? in
                    if state.waiters.isEmpty {
                        state.pending.append(pause)
                        return nil
                    }
                    return state.waiters.removeFirst()
                }
                waiter?.resume(returning: pause)
            }
        }

        /// The next pause a sleeper asks for.
        func next() async -> Pause {
            await withCheckedContinuation { waiter in
                let ready = state.withLock { state -> Pause? in
                    if state.pending.isEmpty {
                        state.waiters.append(waiter)
                        return nil
                    }
                    return state.pending.removeFirst()
                }
                if let ready { waiter.resume(returning: ready) }
            }
        }
    }

    final class Jumps: Sendable {
        private let seen = Mutex<[Int]>([])
        var all: [Int] { seen.withLock { $0 } }
        func record(_ seconds: TimeInterval) { seen.withLock { $0.append(Int(seconds.rounded())) } }
    }

    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func clock(_ wall: SteppedWall, _ pauses: ManualPauses, _ jumps: Jumps) -> SystemWallClock {
        SystemWallClock(onJump: jumps.record, readWall: wall.read, pause: { await pauses.pause($0) })
    }

    @Test("a sleep reads the wall clock again every 2 s: a step forward past the deadline ends it at once, and is reported")
    func stepForward() async throws {
        let wall = SteppedWall(start)
        let pauses = ManualPauses()
        let jumps = Jumps()
        let clock = clock(wall, pauses, jumps)
        let sleeper = Task { try await clock.sleep(until: start.addingTimeInterval(1800)) }
        let pause = await pauses.next()
        #expect(pause.duration == .seconds(2))  // not the 30 minutes left
        wall.step(by: 3600)
        pause.end()
        try await withTimeout { try await sleeper.value }
        #expect(jumps.all == [3600])
    }

    @Test("after a step backward the sleep goes on until the wall clock reaches the deadline again; the step is reported")
    func stepBackward() async throws {
        let wall = SteppedWall(start)
        let pauses = ManualPauses()
        let jumps = Jumps()
        let clock = clock(wall, pauses, jumps)
        let done = Mutex(false)
        let sleeper = Task {
            try await clock.sleep(until: start.addingTimeInterval(30))
            done.withLock { $0 = true }
        }
        let first = await pauses.next()
        #expect(first.duration <= .seconds(2))
        wall.step(by: -3600)
        first.end()
        let second = await pauses.next()  // asked for another pause: it did not return
        #expect(second.duration == .seconds(2))
        #expect(!done.withLock { $0 })
        #expect(jumps.all == [-3600])
        wall.step(by: 3700)
        second.end()
        try await withTimeout { try await sleeper.value }
        #expect(jumps.all == [-3600, 3700])
    }

    @Test("steps under a minute are not reported; the sleep still ends when the wall clock passes the deadline")
    func smallStep() async throws {
        let wall = SteppedWall(start)
        let pauses = ManualPauses()
        let jumps = Jumps()
        let clock = clock(wall, pauses, jumps)
        let sleeper = Task { try await clock.sleep(until: start.addingTimeInterval(40)) }
        let pause = await pauses.next()
        wall.step(by: 50)
        pause.end()
        try await withTimeout { try await sleeper.value }
        #expect(jumps.all.isEmpty)
    }
}
