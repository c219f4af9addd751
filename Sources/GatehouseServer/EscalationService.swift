import ApprovalCore
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Escalates, applies final actions and expires pending approvals at their deadlines. It sleeps until the earliest
/// deadline in the database and is re-armed when an earlier one is written; deadlines live in the database, so a
/// restart loses none, and the overdue ones fire at once, in order.
public final class EscalationService: Service, Sendable {
    let service: ApprovalService
    let database: GatehouseDatabase
    let logger: Logger
    private let wakeup = Wakeup()
    private let armedFor = Mutex<Date?>(nil)

    init(service: ApprovalService, database: GatehouseDatabase, logger: Logger) {
        self.service = service
        self.database = database
        self.logger = logger
    }

    /// Called when a new deadline is written; wakes the loop only if it is earlier than the one it sleeps for.
    func deadlineAdded(_ deadline: Date) {
        let earlier = armedFor.withLock { armed in
            guard armed.map({ deadline < $0 }) ?? true else { return false }
            armed = deadline
            return true
        }
        if earlier { wakeup.signal() }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.service.escalateDue(asOf: self.service.clock.now)
                    let next = try await self.database.nextDeadline()
                    self.armedFor.withLock { $0 = next }
                    await self.wakeup.wait(until: next, on: self.service.clock)
                } catch {
                    if Task.isCancelled { break }
                    self.logger.error("escalation pass failed; retrying in 1 s", metadata: ["error": "\(error)"])
                    await self.wakeup.wait(until: self.service.clock.now.addingTimeInterval(1), on: self.service.clock)
                }
            }
        }
    }
}
