import DomainTestSupport
import Foundation
import Synchronization
import Testing

import ApprovalCore

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
        let clock = TestClock(now: Fixture.now)
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
        let clock = TestClock(now: Fixture.now)
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
        let clock = TestClock(now: Fixture.deadline)
        await wakeup.wait(until: Fixture.now, on: clock)
        #expect(clock.outcomes == [.reachedDeadline])
    }

    @Test("wait(until: nil) never consults the clock and ends on a signal")
    func noDeadline() async {
        let wakeup = Wakeup()
        let clock = TestClock(now: Fixture.now)
        wakeup.signal()
        await wakeup.wait(until: nil, on: clock)
        #expect(clock.outcomes.isEmpty)
    }

    @Test("signals while nobody waits coalesce into one: the wait after the first does not end early")
    func signalsCoalesce() async {
        let wakeup = Wakeup()
        let clock = TestClock(now: Fixture.now)
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
        let clock = TestClock(now: Fixture.deadline)
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
