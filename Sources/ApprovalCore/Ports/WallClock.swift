import Foundation

/// The source of time for deadlines and decisions. Production uses the system clock; tests move a
/// test clock by hand so no test sleeps through a deadline.
public protocol WallClock: Sendable {
    var now: Date { get }
    /// Returns once `now >= deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Date) async throws
}

/// Wall-clock time from the system.
public struct SystemWallClock: WallClock {
    public init() {}

    public var now: Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 {
            try await Task.sleep(for: .nanoseconds(Int64(min(seconds, 86_400 * 365) * 1e9)))
        } else {
            try Task.checkCancellation()
        }
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
