import ApprovalCore
import Foundation
@_spi(Benchmark) import Storage
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The escalation scheduler at scale, in process, on a throwaway database file (WAL, `synchronous = FULL`, the
/// default planners, so firing an escalation is one commit: the row update and its audit entry).
///
/// 1. Loads `pending` pending approvals under a three-level chain; `due` of them per round fall due at the same
///    instant, the rest over the following three days.
/// 2. Checks the plans of the scheduler's two reads (`EXPLAIN QUERY PLAN`) and counts the work SQLite does for them.
/// 3. Per round: times `nextDeadline()` and one `escalateDue(asOf:)` at that instant, then checks that exactly the
///    due approvals moved to level 2, each with one audit entry, and nothing else changed.
/// 4. Times one wake-up pass with nothing due (what the loop does each time it wakes), then runs the loop of
///    `EscalationService` idle for `idleSeconds` and reads the process's CPU time.
struct EscalationsBenchmark: Sendable {
    let pending: Int
    let due: Int
    let rounds: Int
    let idleSeconds: Int
    let passes: Int

    /// Between two rounds' due instants; far below the 1 h SLA of level 2, so a round never re-fires an earlier one.
    static let roundSpacing: TimeInterval = 60
    /// The first due instant is this far ahead of the system clock, so nothing is due on the system clock for at
    /// least this long (the idle measurement relies on it).
    static let leadTime: TimeInterval = 2 * 3_600
    /// The approvals not due in any round fall due over this span, starting 5 minutes after the last round.
    static let spreadSpan: TimeInterval = 3 * 86_400
    /// Wake-up passes stop after this long even if fewer than `passes` ran.
    static let passTimeLimit: Duration = .seconds(60)

    static let chain = EscalationChain(
        name: "bench-escalations",
        levels: [
            .init(approvers: [.user("U0BENCH1")], sla: 30 * 60),
            .init(approvers: [.user("U0BENCH2"), .user("U0BENCH3")], sla: 3_600),
            .init(approvers: [.group("S0BENCH4")], sla: 2 * 3_600),
        ],
        finalAction: .reject)

    /// Runs everything and prints the figures; returns the checks that failed (the figures are printed regardless).
    func run() async throws -> [String] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-bench-escalations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bench.sqlite").path

        let clock = SystemWallClock()
        let database = try GatehouseDatabase(path: path, clock: clock)
        let failures: [String]
        do {
            failures = try await measure(database, path: path, clock: clock)
        } catch {
            try? database.close()
            throw error
        }
        try database.close()
        fflush(nil)  // the figures before the error that main prints on stderr
        return failures
    }

    private func measure(_ database: GatehouseDatabase, path: String, clock: SystemWallClock) async throws -> [String] {
        var failures: [String] = []
        func fail(_ text: String) {
            failures.append(text)
            print("  FAIL: \(text)")
        }

        let chain = Self.chain
        _ = try await ConfigurationService(store: database, audit: database).setChain(chain, by: .system("bench"))
        print("== escalations: \(Self.grouped(pending)) pending, \(Self.grouped(due)) due per round, \(rounds) rounds")
        print("  chain \(chain)")
        print("  database \(path) (WAL, synchronous FULL, default planners)")

        // Whole seconds, so every instant survives the round trip through milliseconds exactly.
        let base = Date(timeIntervalSince1970: (clock.now.timeIntervalSince1970 + Self.leadTime).rounded(.down))
        let dueAt = (0..<rounds).map { base.addingTimeInterval(Double($0) * Self.roundSpacing) }

        // MARK: Load
        let loadStart = ContinuousClock.now
        let plan = Self.layout(pending: pending, due: due, rounds: rounds)
        let spreadStart = dueAt[rounds - 1].addingTimeInterval(300)
        var generator = SplitMix64(seed: 0x6761_7465_686f_7573)
        var dueIDs = [Set<String>](repeating: [], count: rounds)
        var approvals: [Approval] = []
        approvals.reserveCapacity(pending)
        for (index, round) in plan.enumerated() {
            let deadline: Date
            if let round {
                deadline = dueAt[round]
            } else {
                deadline = spreadStart.addingTimeInterval((Double(generator.next() % UInt64(Self.spreadSpan)) + 1))
            }
            let request = ApprovalRequest(
                action: "bench escalation \(index)",
                payload: .object(["bench": .string("escalations"), "n": .number(Double(index))]),
                risk: .medium, gate: chain.name, requester: "bench")
            let approval = request.approval(
                id: .random(), ownerKey: "bench", at: deadline.addingTimeInterval(-chain.levels[0].sla), chain: chain)
            guard approval.nextDeadline == deadline else {
                throw BenchError.failed("approval \(index): first deadline \(approval.nextDeadline), expected \(deadline)")
            }
            if let round { dueIDs[round].insert(approval.id.rawValue) }
            approvals.append(approval)
        }
        let built = ContinuousClock.now
        try await database.bulkInsertForBenchmark(approvals)
        approvals = []
        let loaded = ContinuousClock.now
        let fileBytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
            + ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0)
        print("  built \(Self.grouped(pending)) approvals in \(Self.seconds(built - loadStart)) s, inserted in one transaction in "
            + "\(Self.seconds(loaded - built)) s; file + WAL \(fileBytes / 1_048_576) MiB")
        let pendingCount = try await database.int64ForBenchmark("SELECT COUNT(*) FROM approval WHERE status = 'pending'") ?? 0
        if pendingCount != Int64(pending) { fail("\(pendingCount) pending after the load, expected \(pending)") }

        // MARK: Query plans
        print("== query plans (\(Self.grouped(pending)) pending, \(Self.grouped(due)) due at the first instant)")
        let firstDue = dueAt[0].millisecondsSince1970
        var plansUseIndex = true
        for (name, sql, arguments) in [
            ("due", SchedulerSQLForBenchmark.due, [firstDue, 500]), ("next", SchedulerSQLForBenchmark.nextDeadline, []),
        ] {
            let lines = try await database.queryPlanForBenchmark(sql, arguments: arguments)
            let cost = try await database.statementCostForBenchmark(sql, arguments: arguments)
            let usesIndex = Self.usesDeadlineIndex(lines) && cost.fullScanSteps == 0 && cost.sorts == 0
            plansUseIndex = plansUseIndex && usesIndex
            let label = name == "due" ? "due query (LIMIT 500)" : "MIN(next_deadline)"
            print("  \(label): \(lines.joined(separator: " | "))")
            print("      \(Self.grouped(cost.rows)) rows, \(Self.grouped(cost.vmSteps)) VM steps, "
                + "\(cost.fullScanSteps) full-scan steps, \(cost.sorts) sort(s) → "
                + (usesIndex ? "reads the partial index only" : "READS EVERY PENDING APPROVAL"))
            print(#"{"bench":"escalations-plan","query":"\#(name)","#
                + #""plan":"\#(lines.joined(separator: " | "))","rows":\#(cost.rows),"vm_steps":\#(cost.vmSteps),"#
                + #""full_scan_steps":\#(cost.fullScanSteps),"sorts":\#(cost.sorts),"uses_index":\#(usesIndex)}"#)
        }
        if !plansUseIndex {
            fail("the scheduler queries do not read through approval_pending_next_deadline alone: "
                + "every pass visits all \(Self.grouped(pending)) pending approvals (see the plans above)")
        }

        let observer = CountingObserver()
        let service = ApprovalService(repository: database, clock: clock, observer: observer)

        // MARK: Rounds
        print("== firing: \(rounds) rounds, each \(Self.grouped(due)) approvals due at the same instant")
        var fireTimes: [Int64] = []
        var nextTimes: [Int64] = []
        for round in 0..<rounds {
            let instant = dueAt[round]
            let before = try await database.schedulerStateForBenchmark()
            let auditBefore = try await escalatedAuditCount(database)
            let observedBefore = observer.count

            let start = ContinuousClock.now
            let next = try await database.nextDeadline()
            let afterNext = ContinuousClock.now
            let fired = try await service.escalateDue(asOf: instant)
            let end = ContinuousClock.now

            let nextNanoseconds = LatencySummary.nanoseconds(afterNext - start)
            let fireNanoseconds = LatencySummary.nanoseconds(end - afterNext)
            nextTimes.append(nextNanoseconds)
            fireTimes.append(fireNanoseconds)
            let perSecond = Double(fired.count) / (Double(fireNanoseconds) / 1e9)

            // Checks, outside the timed part.
            var problems: [String] = []
            if next != instant { problems.append("nextDeadline() gave \(next.map { RFC3339.string(from: $0) } ?? "nil"), expected \(RFC3339.string(from: instant))") }
            let expected = dueIDs[round]
            let firedIDs = Set(fired.map(\.after.id.rawValue))
            if fired.count != due || firedIDs != expected {
                problems.append("fired \(fired.count) transitions (\(firedIDs.intersection(expected).count) of the due set), expected \(due)")
            }
            let after = try await database.schedulerStateForBenchmark()
            let changed = Set(after.keys.filter { before[$0] != after[$0] })
            let levelStart = instant.millisecondsSince1970
            let levelEnd = instant.addingTimeInterval(chain.levels[1].sla).millisecondsSince1970
            let wrong = expected.filter { id in
                after[id] != SchedulerStateForBenchmark(status: "pending", level: 2, levelStartedAt: levelStart, nextDeadline: levelEnd)
            }
            if after.count != before.count { problems.append("\(after.count) approvals after, \(before.count) before") }
            if changed != expected {
                problems.append("\(changed.count) approvals changed, \(changed.subtracting(expected).count) of them not due, "
                    + "\(expected.subtracting(changed).count) due ones unchanged")
            }
            if !wrong.isEmpty { problems.append("\(wrong.count) due approvals are not at level 2 from the due instant for 1 h") }
            let auditAdded = try await escalatedAuditCount(database) - auditBefore
            if auditAdded != due { problems.append("\(auditAdded) `escalated` audit entries added, expected \(due)") }
            if observer.count - observedBefore != due { problems.append("observer told of \(observer.count - observedBefore) commits") }
            let levels = try await levelCounts(database)

            print("  round \(round + 1): due at \(RFC3339.string(from: instant)); nextDeadline() \(Self.ms(nextNanoseconds)) ms; "
                + "escalateDue \(Self.ms(fireNanoseconds)) ms, fired \(Self.grouped(fired.count)) = \(Self.grouped(Int(perSecond.rounded())))/s")
            if problems.isEmpty {
                print("      checked: exactly the \(Self.grouped(due)) due moved to level 2 (now \(levels)), \(Self.grouped(auditAdded)) audit entries, nothing else changed")
            } else {
                for problem in problems { fail("round \(round + 1): \(problem)") }
            }
            print(#"{"bench":"escalations-round","round":\#(round + 1),"#
                + #""pending":\#(pending),"due":\#(due),"fired":\#(fired.count),"escalate_ms":\#(Self.ms(fireNanoseconds)),"#
                + #""fired_per_s":\#(Int(perSecond.rounded())),"next_deadline_ms":\#(Self.ms(nextNanoseconds)),"#
                + #""checked":\#(problems.isEmpty)}"#)
        }
        let fire = Spread(fireTimes)
        let nextSpread = Spread(nextTimes)
        let rate = { (nanoseconds: Int64) in Int((Double(due) / (Double(nanoseconds) / 1e9)).rounded()) }
        print("  escalateDue for \(due) due, \(rounds) rounds: median \(Self.ms(fire.median)) ms, min \(Self.ms(fire.min)) ms, "
            + "max \(Self.ms(fire.max)) ms  (\(Self.grouped(rate(fire.median)))/s median, "
            + "\(Self.grouped(rate(fire.max)))–\(Self.grouped(rate(fire.min)))/s)")
        print("  nextDeadline(): median \(Self.ms(nextSpread.median)) ms, min \(Self.ms(nextSpread.min)) ms, max \(Self.ms(nextSpread.max)) ms")
        print(#"{"bench":"escalations","pending":\#(pending),"due":\#(due),"rounds":\#(rounds),"#
            + #""escalate_median_ms":\#(Self.ms(fire.median)),"escalate_min_ms":\#(Self.ms(fire.min)),"#
            + #""escalate_max_ms":\#(Self.ms(fire.max)),"fired_per_s_median":\#(rate(fire.median)),"#
            + #""next_deadline_median_ms":\#(Self.ms(nextSpread.median))}"#)

        // MARK: One wake-up pass with nothing due
        let earliest = try await database.nextDeadline()
        let quiet = earliest.map { $0.timeIntervalSince(clock.now) } ?? .infinity
        print("== wake-up pass with nothing due (earliest deadline in \(String(format: "%.1f", quiet / 3_600)) h, system clock)")
        if quiet < 3_600 { fail("the earliest deadline is only \(Int(quiet)) s away; the idle figures need an hour") }
        var passTimes: [Int64] = []
        passTimes.reserveCapacity(passes)
        let passesStart = ContinuousClock.now
        for _ in 0..<passes {
            let start = ContinuousClock.now
            let fired = try await service.escalateDue(asOf: clock.now)
            _ = try await database.nextDeadline()
            passTimes.append(LatencySummary.nanoseconds(ContinuousClock.now - start))
            if !fired.isEmpty { fail("a pass with nothing due fired \(fired.count)") }
            if ContinuousClock.now - passesStart > Self.passTimeLimit { break }
        }
        let pass = LatencySummary(nanoseconds: passTimes)
        print("  \(pass.count) passes (escalateDue + nextDeadline): p50 \(Self.ms(pass.p50)) ms, p90 \(Self.ms(pass.p90)) ms, "
            + "p99 \(Self.ms(pass.p99)) ms, max \(Self.ms(pass.max)) ms")
        print(#"{"bench":"escalations-pass","pending":\#(pending),"passes":\#(pass.count),"#
            + #""p50_ms":\#(Self.ms(pass.p50)),"p90_ms":\#(Self.ms(pass.p90)),"p99_ms":\#(Self.ms(pass.p99)),"#
            + #""max_ms":\#(Self.ms(pass.max))}"#)

        // MARK: The idle loop
        let idle = try await idleLoop(service: service, database: database, clock: clock)
        let perSecond = idle.cpuMilliseconds / idle.wallSeconds
        print("== idle scheduler loop, \(Self.grouped(pending)) pending, nothing due: \(String(format: "%.1f", idle.wallSeconds)) s window")
        print("  process CPU \(String(format: "%.1f", idle.cpuMilliseconds)) ms (user \(String(format: "%.1f", idle.userMilliseconds)), "
            + "sys \(String(format: "%.1f", idle.systemMilliseconds))) = \(String(format: "%.3f", perSecond)) ms per second = "
            + "\(String(format: "%.4f", perSecond / 10)) % of one core; loop passes in the window: \(idle.passesInWindow) "
            + "(\(idle.passesBefore) before it)")
        if let error = idle.error { fail("the idle loop failed: \(error)") }
        print(#"{"bench":"escalations-idle","pending":\#(pending),"#
            + #""wall_s":\#(String(format: "%.2f", idle.wallSeconds)),"cpu_ms":\#(String(format: "%.2f", idle.cpuMilliseconds)),"#
            + #""cpu_ms_per_s":\#(String(format: "%.4f", perSecond)),"core_pct":\#(String(format: "%.5f", perSecond / 10)),"#
            + #""passes_in_window":\#(idle.passesInWindow)}"#)

        if !failures.isEmpty {
            print("== FAILED: \(failures.count) check(s); first: \(failures[0])")
        }
        return failures
    }

    // MARK: - Idle

    struct Idle: Sendable {
        var wallSeconds: Double
        var userMilliseconds: Double
        var systemMilliseconds: Double
        var cpuMilliseconds: Double { userMilliseconds + systemMilliseconds }
        var passesBefore: Int
        var passesInWindow: Int
        var error: String?
    }

    /// `EscalationService.run()`'s loop (escalate what is due, read the next deadline, sleep until it or a signal),
    /// started, given time to settle, then watched for `idleSeconds` through the process's CPU time.
    private func idleLoop(service: ApprovalService, database: GatehouseDatabase, clock: SystemWallClock) async throws -> Idle {
        let wakeup = Wakeup()
        let passCount = Mutex(0)
        let failure = Mutex<String?>(nil)
        let loop = Task {
            while !Task.isCancelled {
                do {
                    try await service.escalateDue(asOf: clock.now)
                    let next = try await database.nextDeadline()
                    passCount.withLock { $0 += 1 }
                    await wakeup.wait(until: next, on: clock)
                } catch {
                    if Task.isCancelled { break }
                    failure.withLock { $0 = $0 ?? "\(error)" }
                    await wakeup.wait(until: clock.now.addingTimeInterval(1), on: clock)
                }
            }
        }
        // Settle: the first pass has run and the loop sleeps.
        let settleLimit = ContinuousClock.now + .seconds(30)
        while passCount.withLock({ $0 }) == 0, failure.withLock({ $0 }) == nil, ContinuousClock.now < settleLimit {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(500))

        let passesBefore = passCount.withLock { $0 }
        let usageBefore = Self.processUsage()
        let start = ContinuousClock.now
        try await Task.sleep(for: .seconds(idleSeconds))
        let usageAfter = Self.processUsage()
        let wall = ContinuousClock.now - start
        let passesAfter = passCount.withLock { $0 }
        loop.cancel()
        await loop.value
        return Idle(
            wallSeconds: Double(LatencySummary.nanoseconds(wall)) / 1e9,
            userMilliseconds: (usageAfter.user - usageBefore.user) * 1_000,
            systemMilliseconds: (usageAfter.system - usageBefore.system) * 1_000,
            passesBefore: passesBefore, passesInWindow: passesAfter - passesBefore,
            error: failure.withLock { $0 })
    }

    /// User and system CPU seconds of the whole process so far.
    static func processUsage() -> (user: Double, system: Double) {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }

    // MARK: - Helpers

    /// For each position in insertion order: the round it falls due in, or `nil` for one due later. The due ones are
    /// scattered over the table (a fixed seed), so each sits on its own page rather than in one run of rows.
    static func layout(pending: Int, due: Int, rounds: Int) -> [Int?] {
        var roles = Array(0..<pending)
        var generator = SplitMix64(seed: 42)
        roles.shuffle(using: &generator)
        return roles.map { $0 < due * rounds ? $0 / due : nil }
    }

    static func usesDeadlineIndex(_ plan: [String]) -> Bool {
        let text = plan.joined(separator: "\n")
        return text.contains("approval_pending_next_deadline") && !text.contains("SCAN approval") && !text.contains("TEMP B-TREE")
    }

    private func escalatedAuditCount(_ database: GatehouseDatabase) async throws -> Int {
        Int(try await database.int64ForBenchmark("SELECT COUNT(*) FROM audit_log WHERE kind = 'escalated'") ?? 0)
    }

    private func levelCounts(_ database: GatehouseDatabase) async throws -> String {
        var parts: [String] = []
        for level in 1...Self.chain.levels.count {
            let count = try await database.int64ForBenchmark(
                "SELECT COUNT(*) FROM approval WHERE status = 'pending' AND escalation_level = ?", arguments: [Int64(level)]) ?? 0
            parts.append("level \(level): \(Self.grouped(Int(count)))")
        }
        return parts.joined(separator: ", ")
    }

    static func ms(_ nanoseconds: Int64) -> String {
        String(format: nanoseconds < 1_000_000 ? "%.3f" : "%.2f", Double(nanoseconds) / 1_000_000)
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", Double(LatencySummary.nanoseconds(duration)) / 1e9)
    }

    /// `100000` → `100,000`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }
}

/// Median, min and max of a few samples.
struct Spread {
    let median: Int64
    let min: Int64
    let max: Int64

    init(_ samples: [Int64]) {
        let sorted = samples.sorted()
        median = sorted.isEmpty ? 0 : sorted[(sorted.count - 1) / 2]
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}

/// Counts commits; otherwise does nothing (the server's observer re-arms timers and wakes long-polls).
final class CountingObserver: ApprovalObserver {
    private let commits = Mutex(0)

    var count: Int { commits.withLock { $0 } }

    func didCommit(_ transition: ApprovalTransition) {
        commits.withLock { $0 += 1 }
    }
}

/// A small, fast, seeded generator, so every run lays out the same table.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
