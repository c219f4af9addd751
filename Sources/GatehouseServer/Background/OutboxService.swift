import ApprovalCore
import Foundation
import Logging
import ServiceLifecycle

/// Claims due outbox items and hands them to their handlers, retrying with exponential backoff and
/// jitter until they succeed or grow too old. Items survive restarts: they are rows, not tasks.
final class OutboxService: Service, Sendable {
    let database: any OutboxStore
    let clock: any WallClock
    let handlers: [String: any OutboxHandler]
    let logger: Logger
    /// How long an item is retried before it is given up (CONTRACT.md §6: 24 h).
    let giveUpAfter: TimeInterval
    let maxBackoff: TimeInterval = 3600

    init(database: any OutboxStore, clock: any WallClock, handlers: [any OutboxHandler], logger: Logger, giveUpAfter: TimeInterval = 86_400) {
        self.database = database
        self.clock = clock
        self.handlers = Dictionary(handlers.flatMap { handler in handler.kinds.map { ($0, handler) } }, uniquingKeysWith: { a, _ in a })
        self.logger = logger
        self.giveUpAfter = giveUpAfter
    }

    /// The delay before attempt `attempts + 1`: 2 s doubling to an hour, with jitter so retries spread out.
    static func backoff(afterAttempts attempts: Int, maximum: TimeInterval) -> TimeInterval {
        let base = min(maximum, 2 * pow(2, Double(max(0, attempts - 1))))
        return base * Double.random(in: 0.5...1.0)
    }

    func run() async throws {
        try await database.releaseOutboxClaims(now: clock.now)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let items = try await self.database.claimDueOutboxItems(
                        now: self.clock.now, limit: 32, kinds: Array(self.handlers.keys))
                    if items.isEmpty {
                        let next = try await self.database.nextOutboxAttempt()
                        await self.database.outboxEnqueued.wait(until: next, on: self.clock)
                        continue
                    }
                    await withTaskGroup(of: Void.self) { group in
                        for item in items {
                            group.addTask { await self.process(item) }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.error("outbox pass failed; retrying in 1 s", metadata: ["error": "\(error)"])
                    await self.database.outboxEnqueued.wait(until: self.clock.now.addingTimeInterval(1), on: self.clock)
                }
            }
        }
    }

    func process(_ item: OutboxItem) async {
        guard let handler = handlers[item.kind] else { return }
        do {
            do {
                try await handler.deliver(item)
                if item.attempts > 1 {
                    // Its failures were logged one by one as warnings; this closes them.
                    var metadata: Logger.Metadata = ["kind": .string(item.kind), "item": .stringConvertible(item.id), "attempts": .stringConvertible(item.attempts)]
                    if let id = item.approvalID { metadata["approval_id"] = .string(id.rawValue) }
                    logger.notice("delivered after retries", metadata: metadata)
                }
                try await database.completeOutboxItem(item.id, at: clock.now, audit: nil)
            } catch let failure as OutboxFailure {
                try await handleFailure(failure, of: item)
            }
        } catch {
            logger.error("outbox bookkeeping failed", metadata: ["item": "\(item.id)", "error": "\(error)"])
        }
    }

    private func handleFailure(_ failure: OutboxFailure, of item: OutboxItem) async throws {
        let now = clock.now
        switch failure {
        case .retry(let reason, let retryAfter):
            if now.timeIntervalSince(item.createdAt) >= giveUpAfter {
                try await giveUp(item, reason: "gave up after \(Int(giveUpAfter / 3600)) h: \(reason)", at: now)
                return
            }
            let delay = retryAfter ?? Self.backoff(afterAttempts: item.attempts, maximum: maxBackoff)
            logger.warning(
                "delivery failed; will retry",
                metadata: ["kind": .string(item.kind), "item": .stringConvertible(item.id), "attempt": .stringConvertible(item.attempts),
                           "approval_id": .string(item.approvalID?.rawValue ?? "none"),
                           "retry_in_s": .stringConvertible(Int(delay.rounded(.up))), "reason": .string(reason)])
            try await database.rescheduleOutboxItem(item.id, error: reason, retryAt: now.addingTimeInterval(delay))
        case .permanent(let reason):
            try await giveUp(item, reason: reason, at: now)
        }
    }

    private func giveUp(_ item: OutboxItem, reason: String, at now: Date) async throws {
        logger.error("delivery abandoned", metadata: ["kind": .string(item.kind), "item": "\(item.id)", "reason": .string(reason)])
        try await database.failOutboxItem(
            item.id, error: reason, at: now,
            audit: AuditEvent(.deliveryFailed, approvalID: item.approvalID, actor: "system:outbox", details: [
                "kind": .string(item.kind), "reason": .string(reason), "attempts": .number(Double(item.attempts)),
            ]))
    }
}
