import ApprovalCore
import Foundation
import Logging
import ServiceLifecycle

/// Every 10 minutes, reminds admins (by DM) of break-glass approvals left unreviewed past `review_within`, once a day
/// each until reviewed. Whether one is due is read from the database, so a restart neither loses nor repeats one.
struct BreakGlassReminderService: Service {
    let review: BreakGlassReview
    let policies: any PolicyStore
    let clock: any WallClock
    let logger: Logger
    static let period: TimeInterval = 600

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                // The next pass is due a period after this one began: when the clock moved on during the pass (a long
                // pass, a wall-clock step), the next one runs at once instead of a period after the jump.
                let began = clock.now
                do {
                    if let glass = try await policies.policies().breakGlass {
                        let reminded = try await review.remindDue(reviewWithin: glass.reviewWithin)
                        if !reminded.isEmpty {
                            logger.notice("reminded the admins of unreviewed break-glass approvals", metadata: ["count": "\(reminded.count)"])
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.error("break-glass reminder pass failed", metadata: ["error": "\(error)"])
                }
                do { try await clock.sleep(until: began.addingTimeInterval(Self.period)) } catch { break }
            }
        }
    }
}
