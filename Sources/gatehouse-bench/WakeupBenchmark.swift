import Foundation
import NIOCore
import NIOPosix

/// Wake-up latency: many long-polls on one approval, each on its own connection, then one decision.
/// For each poller: the time from just before the decision is written to the last byte of its answer.
struct WakeupBenchmark: Sendable {
    let target: BenchTarget
    let requestKey: String
    let decideKey: String
    let pollers: Int
    let rounds: Int
    /// The `wait` of each long-poll, in seconds (0–60).
    let wait: Int
    /// Pause between the last long-poll being written and the decision.
    let settle: TimeAmount
    /// How long after the decision a poller may take before it counts as not answered.
    let collect: TimeAmount
    /// A server on this machine whose resident memory is read (from `/proc`) with no poll held and with all of them.
    let serverPID: Int32?
    let group: any EventLoopGroup

    /// Connections opened at once, to stay well inside the server's listen backlog.
    static let connectBatch = 100
    /// A read of the approval this fast means the server has no backlog of long-polls to register.
    static let quietLatency = TimeAmount.milliseconds(3)
    static let maxProbes = 200
    static let maxQuietWait = TimeAmount.seconds(15)

    struct Round: Sendable {
        let round: Int
        let pollers: Int
        /// Answers that arrived after the decision was sent.
        let answered: Int
        /// Of those, how many show the approval as approved: the latencies are theirs.
        let approved: Int
        /// Answers that arrived before the decision was sent (the poll did not hold).
        let early: Int
        let failed: Int
        let latency: LatencySummary
        let decisionStatus: UInt
        let decisionNanoseconds: Int64
        /// From the last long-poll written to the decision: the settle delay plus the probes.
        let settledNanoseconds: Int64
        /// Whether the probes found the server idle before the decision (false: it was sent anyway, after the bound).
        let quiet: Bool
        let probes: Int
        let firstError: String?
        /// The server's resident memory before any poll was opened, and with this round's polls held (KiB).
        var residentBefore: Int?
        /// With every connection open and no request on them yet (KiB).
        var residentConnected: Int?
        var residentHolding: Int?
    }

    /// `VmRSS` of `pid`, in KiB.
    static func residentKiB(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    func run() async throws -> [Round] {
        let control = try await HTTPConnection.connect(to: target, on: group)
        let decider = try await HTTPConnection.connect(to: target, on: group)
        let residentBefore = serverPID.flatMap(Self.residentKiB(of:))
        var polls = try await open(pollers)
        // Let the server take in every connection before reading its memory with all of them open and none polling.
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let residentConnected = serverPID.flatMap(Self.residentKiB(of:))
        var results: [Round] = []
        do {
            for round in 1...rounds {
                // Connections closed by a failed round are replaced; the rest are reused (keep-alive).
                let dead = polls.indices.filter { !polls[$0].channel.isActive }
                if !dead.isEmpty {
                    let fresh = try await open(dead.count)
                    for (slot, connection) in zip(dead, fresh) { polls[slot] = connection }
                }
                var result = try await runRound(round, control: control, decider: decider, polls: polls)
                result.residentBefore = residentBefore
                result.residentConnected = residentConnected
                results.append(result)
            }
        } catch {
            await closeAll(polls + [control, decider])
            throw error
        }
        await closeAll(polls + [control, decider])
        return results
    }

    private func runRound(_ round: Int, control: HTTPConnection, decider: HTTPConnection, polls: [HTTPConnection]) async throws -> Round {
        let runID = UInt32.random(in: 0...UInt32.max)
        let created = try await control.request(BenchRequest(
            method: .POST, path: "/v1/approvals", key: requestKey,
            body: ByteBuffer(string: #"{"action":"bench wakeup round \#(round)","payload":{"bench":\#(runID),"round":\#(round)}}"#),
            keepBody: true))
        guard created.status == 201, let id = Self.approvalID(in: created.body) else {
            throw BenchError.failed("creating the approval for round \(round) answered \(created.status)")
        }

        // A poll gives up once settling, probing and collecting have all run out (at least `collect` after the decision).
        let poll = BenchRequest(
            method: .GET, path: "/v1/approvals/\(id)?wait=\(wait)", key: requestKey, keepBody: true,
            timeout: settle + Self.maxQuietWait + .seconds(2) + collect)
        let sent = polls.map { $0.send(poll) }
        let loop = group.next()
        _ = try? await EventLoopFuture.whenAllComplete(sent.map(\.written), on: loop).get()
        let allWritten = NIODeadline.now()
        try await Task.sleep(nanoseconds: UInt64(settle.nanoseconds))
        let probes = try await waitUntilQuiet(control: control, id: id)
        let holdingAfter = NIODeadline.now() - allWritten
        let residentHolding = serverPID.flatMap(Self.residentKiB(of:))

        let decisionBody = ByteBuffer(string: #"{"outcome":"approve","as":"bench"}"#)
        let decisionStart = NIODeadline.now()
        let decision = decider.send(BenchRequest(
            method: .POST, path: "/v1/approvals/\(id)/decision", key: decideKey, body: decisionBody, timeout: .seconds(10)))
        let answers = try await EventLoopFuture.whenAllComplete(sent.map(\.response), on: loop).get()
        var decisionStatus: UInt = 0
        var decisionNanoseconds: Int64 = 0
        var firstError: String?
        do {
            let answer = try await decision.response.get()
            decisionStatus = answer.status
            decisionNanoseconds = (answer.receivedAt - decisionStart).nanoseconds
        } catch {
            firstError = "decision: \(error)"
        }

        var latencies: [Int64] = []
        latencies.reserveCapacity(answers.count)
        var answered = 0
        var early = 0
        var failed = 0
        for answer in answers {
            switch answer {
            case .success(let response) where response.receivedAt < decisionStart:
                early += 1
            case .success(let response):
                answered += 1
                // Only answers that carry the decision count: a fast error is no wake-up.
                if response.status == 200, response.bodyContains(#""status":"approved""#) {
                    latencies.append((response.receivedAt - decisionStart).nanoseconds)
                }
            case .failure(let error):
                failed += 1
                firstError = firstError ?? "poll: \(error)"
            }
        }
        return Round(
            round: round, pollers: polls.count, answered: answered, approved: latencies.count, early: early, failed: failed,
            latency: LatencySummary(nanoseconds: latencies), decisionStatus: decisionStatus,
            decisionNanoseconds: decisionNanoseconds, settledNanoseconds: holdingAfter.nanoseconds, quiet: probes.quiet,
            probes: probes.count, firstError: firstError, residentHolding: residentHolding)
    }

    /// After the fixed settle delay, the server may still be registering long-polls (each one authenticates and
    /// reads the approval twice). Plain reads of the approval on the control connection go through the same path;
    /// once two in a row answer within `quietLatency`, the backlog is gone and the polls are held.
    /// Bounded: at most `maxProbes` probes and `maxQuietWait` in all.
    private func waitUntilQuiet(control: HTTPConnection, id: String) async throws -> (quiet: Bool, count: Int) {
        let deadline = NIODeadline.now() + Self.maxQuietWait
        var fastInARow = 0
        var count = 0
        // A server that tells how many polls it holds (`gatehouse_long_polls_waiting` in /metrics) is asked until it
        // holds them all; an older build is only probed.
        while NIODeadline.now() < deadline {
            let metrics = try await control.request(BenchRequest(method: .GET, path: "/metrics", key: requestKey, keepBody: true, timeout: .seconds(10)))
            guard let held = metrics.body.flatMap({ Self.waitingGauge(String(buffer: $0)) }) else { break }
            if held >= pollers { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        while count < Self.maxProbes, NIODeadline.now() < deadline {
            count += 1
            let probe = try await control.request(BenchRequest(
                method: .GET, path: "/v1/approvals/\(id)", key: requestKey, keepBody: true, timeout: .seconds(10)))
            guard probe.status == 200, probe.bodyContains(#""status":"pending""#) else {
                throw BenchError.failed("probing the approval \(id) answered \(probe.status), not a pending approval")
            }
            fastInARow = probe.latencyNanoseconds <= Self.quietLatency.nanoseconds ? fastInARow + 1 : 0
            if fastInARow >= 2 { return (true, count) }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return (false, count)
    }

    /// `gatehouse_long_polls_waiting` in a /metrics answer, if it is there.
    static func waitingGauge(_ body: String) -> Int? {
        guard let line = body.split(separator: "\n").first(where: { $0.hasPrefix("gatehouse_long_polls_waiting ") }) else { return nil }
        return line.split(separator: " ").last.flatMap { Double($0) }.map { Int($0) }
    }

    /// Opens `count` connections, `connectBatch` at a time.
    private func open(_ count: Int) async throws -> [HTTPConnection] {
        var opened: [HTTPConnection] = []
        opened.reserveCapacity(count)
        while opened.count < count {
            let batch = min(Self.connectBatch, count - opened.count)
            try await withThrowingTaskGroup(of: HTTPConnection.self) { tasks in
                for _ in 0..<batch {
                    tasks.addTask { try await HTTPConnection.connect(to: target, on: group) }
                }
                for try await connection in tasks { opened.append(connection) }
            }
        }
        return opened
    }

    private func closeAll(_ connections: [HTTPConnection]) async {
        for connection in connections { await connection.close() }
    }

    /// The `id` of an approval object.
    static func approvalID(in body: ByteBuffer?) -> String? {
        guard let body, let data = body.getBytes(at: body.readerIndex, length: body.readableBytes),
            let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any],
            let id = object["id"] as? String, !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        else { return nil }
        return id
    }
}

extension WakeupBenchmark.Round {
    func printReport() {
        let ms = LatencySummary.ms
        print("wake-up round \(round): \(pollers) pollers held (\(quiet ? "server idle" : "server NOT idle") after \(ms(settledNanoseconds)) ms, "
            + "\(probes) probes); decision answered \(decisionStatus) in \(ms(decisionNanoseconds)) ms")
        print("  answered \(answered)/\(pollers) (approved \(approved), early \(early), failed \(failed))"
            + "   p50 \(ms(latency.p50)) ms   p90 \(ms(latency.p90)) ms   p99 \(ms(latency.p99)) ms   max \(ms(latency.max)) ms"
            + (firstError.map { "   first error: \($0)" } ?? ""))
        var memory = ""
        if let before = residentBefore, let holding = residentHolding, let connected = residentConnected {
            let perPoll = Double(holding - before) / Double(max(1, pollers))
            let perConnection = Double(connected - before) / Double(max(1, pollers))
            print("  server memory      \(before / 1024) MiB with no poll, \(connected / 1024) MiB with the connections open, "
                + "\(holding / 1024) MiB holding \(pollers): " + String(format: "%.1f", perPoll) + " KiB per held poll, "
                + String(format: "%.1f", perConnection) + " of it for the open connection")
            memory = #","rss_before_kib":\#(before),"rss_connected_kib":\#(connected),"rss_holding_kib":\#(holding),"kib_per_poll":"#
                + String(format: "%.1f", perPoll)
        }
        print(
            #"{"bench":"wakeup","round":\#(round),"pollers":\#(pollers),"answered":\#(answered),"approved":\#(approved),"#
                + #""early":\#(early),"failed":\#(failed),"held_after_ms":\#(ms(settledNanoseconds)),"quiet":\#(quiet),"#
                + #""probes":\#(probes),"decision_status":\#(decisionStatus),"#
                + #""decision_ms":\#(ms(decisionNanoseconds)),"p50_ms":\#(ms(latency.p50)),"p90_ms":\#(ms(latency.p90)),"#
                + #""p99_ms":\#(ms(latency.p99)),"max_ms":\#(ms(latency.max))\#(memory)}"#)
    }
}
