import ApprovalCore
import Foundation
@_spi(Benchmark) import Storage

/// The commit floor of a click, in process, on a throwaway database file (WAL, `synchronous = FULL`): what an Approve
/// click's durable writes cost with no HTTP, no Slack payload to parse and no domain to run. Each of `connections`
/// writers takes its own approvals and, per "click", records a signature (as the replay guard does) and commits the
/// decision prepared beforehand (the approval's row, the vote, the audit entries, the Slack update in the outbox),
/// through the same storage code and group commit the service uses. Its p99 is what the click benchmark's p99 is set
/// against (`scripts/bench-slack` runs both).
struct CommitFloorBenchmark: Sendable {
    let connections: Int
    let seconds: Int
    let approvals: Int

    struct Result: Sendable {
        let connections: Int
        let seconds: Double
        let committed: Int
        let latency: LatencySummary
        var perSecond: Double { seconds > 0 ? Double(committed) / seconds : 0 }
    }

    func run() async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-bench-floor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = SystemWallClock()
        let database = try GatehouseDatabase(path: directory.appendingPathComponent("floor.sqlite").path, clock: clock)

        // The approvals, stored pending, and each one's decision prepared outside the timing.
        let now = clock.now
        let pending = (0..<approvals).map { n in
            Approval(
                id: ApprovalID.random(at: now), action: "bench click \(n)", payload: .object(["n": .number(Double(n))]),
                requester: "agent:bench", createdAt: now, expiresAt: now.addingTimeInterval(86_400))
        }
        try await database.bulkInsertForBenchmark(pending)
        let changes = try pending.enumerated().map { index, approval in
            let transition = try approval.deciding(
                DecisionCommand(.approve, by: .slackUser("U0BENCH\(index % connections)", name: "bench")), at: now)
            return PlannedChange(transition, outbox: [
                NewOutboxItem(kind: "slack.update", approvalID: approval.id, orderingKey: "slack:\(approval.id.rawValue)", payload: .object([:]))
            ])
        }
        let slices = (0..<connections).map { index in stride(from: index, to: changes.count, by: connections).map { changes[$0] } }
        let start = ContinuousClock.now
        let end = start + .seconds(seconds)
        let latencies = try await withThrowingTaskGroup(of: [Int64].self) { tasks in
            for slice in slices {
                tasks.addTask {
                    var mine: [Int64] = []
                    for change in slice {
                        guard ContinuousClock.now < end else { break }
                        let began = ContinuousClock.now
                        _ = try await database.recordSlackSignature(
                            "v0=" + UUID().uuidString, expiresAt: clock.now.addingTimeInterval(600), now: clock.now)
                        guard try await database.commit(change) else { throw BenchError.failed("a prepared decision did not commit") }
                        mine.append(LatencySummary.nanoseconds(ContinuousClock.now - began))
                    }
                    return mine
                }
            }
            var all: [Int64] = []
            for try await some in tasks { all += some }
            return all
        }
        let seconds = Double(LatencySummary.nanoseconds(ContinuousClock.now - start)) / 1e9
        return Result(
            connections: connections, seconds: min(seconds, Double(self.seconds)), committed: latencies.count,
            latency: LatencySummary(nanoseconds: latencies))
    }
}

extension CommitFloorBenchmark.Result {
    func printReport() {
        print("commit floor: \(connections) writers, a click's durable writes (signature, decision, vote, audit, outbox) without HTTP")
        print("  committed          \(committed) in \(String(format: "%.1f", seconds)) s  =  \(Int(perSecond.rounded())) /s")
        print("  time per click     p50 \(LatencySummary.ms(latency.p50)) ms   p90 \(LatencySummary.ms(latency.p90)) ms   "
            + "p99 \(LatencySummary.ms(latency.p99)) ms   max \(LatencySummary.ms(latency.max)) ms")
        print(
            #"{"bench":"commit-floor","connections":\#(connections),"committed":\#(committed),"#
                + #""per_s":\#(Int(perSecond.rounded())),"p50_ms":\#(LatencySummary.ms(latency.p50)),"#
                + #""p99_ms":\#(LatencySummary.ms(latency.p99)),"max_ms":\#(LatencySummary.ms(latency.max))}"#)
    }
}
