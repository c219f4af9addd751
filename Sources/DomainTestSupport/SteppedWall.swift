import Foundation
import Synchronization

/// A wall-clock reading for `SystemWallClock(readWall:)` that runs with real time and that the test steps by hand: the
/// system's clock as NTP or an operator might step it.
public final class SteppedWall: Sendable {
    private let origin = ContinuousClock.now
    private let start: Date
    private let offset = Mutex<TimeInterval>(0)

    public init(_ start: Date = Date()) { self.start = start }

    public func read() -> Date {
        let elapsed = ContinuousClock.now - origin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return start.addingTimeInterval(seconds + offset.withLock { $0 })
    }

    public func step(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }
}
