import Foundation
import Synchronization

/// The source of time for deadlines and decisions. Production uses the system clock; tests move a
/// test clock by hand so no test sleeps through a deadline.
public protocol WallClock: Sendable {
    var now: Date { get }
    /// Returns once `now >= deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Date) async throws
}

/// Wall-clock time from the system.
///
/// A sleep until a wall-clock time cannot simply sleep the difference on a monotonic clock: if the wall clock is then
/// stepped (by NTP, an operator, a resumed virtual machine), deadlines would fire late, all at once. So a sleep reads
/// the wall clock again every `recheck` (2 s) and returns as soon as the deadline has passed on it. Each such reading
/// also compares the wall clock with the monotonic clock: a step of more than `jumpThreshold` (a minute) is reported to
/// `onJump` once, with its size in seconds (negative: backwards).
public struct SystemWallClock: WallClock {
    public static let jumpThreshold: TimeInterval = 60

    private let readWall: @Sendable () -> Date
    private let pause: @Sendable (Duration) async throws -> Void
    private let recheck: Duration
    private let jumps: ClockJumps?

    /// `readWall` and `pause` (a sleep on a monotonic clock) are the system's unless a test passes its own.
    public init(
        recheck: Duration = .seconds(2), onJump: (@Sendable (_ seconds: TimeInterval) -> Void)? = nil,
        readWall: @escaping @Sendable () -> Date = { Date() },
        pause: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.readWall = readWall
        self.pause = pause
        self.recheck = recheck
        self.jumps = onJump.map { ClockJumps(threshold: Self.jumpThreshold, report: $0) }
        jumps?.observe(wall: readWall())
    }

    public var now: Date { readWall() }

    public func sleep(until deadline: Date) async throws {
        while true {
            let remaining = deadline.timeIntervalSince(now)
            guard remaining > 0 else {
                try Task.checkCancellation()
                return
            }
            try await pause(min(.seconds(remaining), recheck))
            jumps?.observe(wall: now)
        }
    }
}

/// Notices steps of the wall clock: the difference between wall and monotonic time stays put while neither is
/// stepped (NTP's slow slewing moves it by far less than the threshold between two readings).
final class ClockJumps: Sendable {
    private let threshold: TimeInterval
    private let report: @Sendable (TimeInterval) -> Void
    private let origin = ContinuousClock.now
    /// Wall minus monotonic seconds at the last reading.
    private let offset = Mutex<TimeInterval?>(nil)

    init(threshold: TimeInterval, report: @escaping @Sendable (TimeInterval) -> Void) {
        self.threshold = threshold
        self.report = report
    }

    func observe(wall: Date) {
        let elapsed = ContinuousClock.now - origin
        let monotonic = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let current = wall.timeIntervalSince1970 - monotonic
        let jump = offset.withLock { offset -> TimeInterval? in
            defer { offset = current }
            guard let previous = offset, abs(current - previous) > threshold else { return nil }
            return current - previous
        }
        if let jump { report(jump) }
    }
}

extension Date {
    /// Whole milliseconds since 1970, the precision at which times are stored.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(millisecondsSince1970 ms: Int64) {
        self.init(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// Truncated to the millisecond, so values survive a round trip through the database unchanged.
    public var truncatedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
