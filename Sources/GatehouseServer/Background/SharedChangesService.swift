import ApprovalCore
import Foundation
import Logging
import ServiceLifecycle

/// On a database several replicas share: what this replica must do about another replica's commits, which its own
/// commit observer never sees.
///
/// - A decision taken elsewhere answers the long-polls held here (read from the database, the truth, when any waits).
/// - A request filed or escalated elsewhere may bring an earlier deadline: the escalation timer looks again. Every
///   replica's timer works on every due request; a deadline is applied once, by the one whose compare-and-set commit
///   wins (`ApprovalRepository.commit`), the others finding it moved on.
struct SharedChangesService: Service {
    let feed: any SharedChangeFeed
    let repository: any ApprovalRepository
    let longPolls: LongPolls
    let deadlines: DeadlineAlarm
    let links: (any ApprovalLinkProvider)?
    let clock: any WallClock
    let logger: Logger
    /// How often the feed looks even without a notification: what a lost one costs at most.
    var interval: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await feed.followChanges(every: interval, listening: {}) { batch in await self.apply(batch) }
                } catch {
                    if Task.isCancelled { return }
                    logger.error("following other replicas' changes failed; retrying in 1 s", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    func apply(_ batch: [SharedChange]) async {
        if batch.contains(where: { !$0.decides }) { deadlines.deadlineAdded(clock.now) }
        for change in batch where change.decides && longPolls.isWaiting(for: change.approvalID) {
            do {
                guard let approval = try await repository.approval(change.approvalID), approval.status != .pending else { continue }
                var link: (@Sendable () async -> String?)?
                if let links {
                    let id = approval.id
                    link = { try? await links.link(for: id) }
                }
                longPolls.notify(approval, link: link)
            } catch {
                logger.warning("reading a decision another replica took failed", metadata: ["id": .string(change.approvalID.rawValue), "error": "\(error)"])
            }
        }
    }
}
