import ApprovalCore
import Foundation
import Synchronization

/// What the escalation service sleeps on: re-armed when a new deadline is earlier than the one it sleeps towards.
/// Shared by the commit observer (which learns of new deadlines) and the service (which sleeps), so neither needs the
/// other.
final class DeadlineAlarm: Sendable {
    private let wakeup = Wakeup()
    private let armedFor = Mutex<Date?>(nil)

    /// A new deadline was written; wakes the sleeper only if it is earlier than the one it sleeps towards.
    func deadlineAdded(_ deadline: Date) {
        let earlier = armedFor.withLock { armed in
            guard armed.map({ deadline < $0 }) ?? true else { return false }
            armed = deadline
            return true
        }
        if earlier { wakeup.signal() }
    }

    /// Sleeps until `deadline` on `clock` (until woken, when `nil`), or until an earlier deadline is added.
    func sleep(until deadline: Date?, on clock: any WallClock) async {
        armedFor.withLock { $0 = deadline }
        await wakeup.wait(until: deadline, on: clock)
    }
}
