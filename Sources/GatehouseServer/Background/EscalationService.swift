import ApprovalCore
import Foundation
import Logging
import ServiceLifecycle

/// Escalates, applies final actions and expires pending approvals at their deadlines. It sleeps until the earliest
/// deadline in the database and is re-armed when an earlier one is written; deadlines live in the database, so a
/// restart loses none, and the overdue ones fire at once, in order.
struct EscalationService: Service {
    let service: ApprovalService
    let alarm: DeadlineAlarm
    let logger: Logger

    func run() async throws {
        let clock = service.clock
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await service.escalateDue(asOf: clock.now)
                    await alarm.sleep(until: try await service.repository.nextDeadline(), on: clock)
                } catch {
                    if Task.isCancelled { break }
                    logger.error("escalation pass failed; retrying in 1 s", metadata: ["error": "\(error)"])
                    await alarm.sleep(until: clock.now.addingTimeInterval(1), on: clock)
                }
            }
        }
    }
}
