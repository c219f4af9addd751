import NIOCore
import NIOPosix

/// Durable creates: N keep-alive connections, each posting `POST /v1/approvals` back to back
/// (one request in flight per connection) through a warm-up and then a measured window.
struct CreatesBenchmark: Sendable {
    let target: BenchTarget
    let key: String
    let connections: Int
    let seconds: Int
    let warmup: Int
    let group: any EventLoopGroup

    /// Upper bound on requests per connection, whatever the clock says.
    static let maxRequestsPerConnection = 5_000_000
    /// Upper bound on reconnects per connection after errors.
    static let maxReconnects = 20

    struct Tally: Sendable {
        var latencies: [Int64] = []
        var statuses: [UInt: Int] = [:]
        var errors = 0
        var warmupRequests = 0
        var firstError: String?

        mutating func merge(_ other: Tally) {
            latencies += other.latencies
            statuses.merge(other.statuses, uniquingKeysWith: +)
            errors += other.errors
            warmupRequests += other.warmupRequests
            firstError = firstError ?? other.firstError
        }
    }

    struct Result: Sendable {
        let connections: Int
        let seconds: Int
        let warmup: Int
        let created: Int
        let non201: [UInt: Int]
        let errors: Int
        let latency: LatencySummary
        let firstError: String?

        var perSecond: Double { Double(created) / Double(seconds) }
        var non201Total: Int { non201.values.reduce(0, +) }
    }

    func run() async throws -> Result {
        // Connect everyone first, so connection set-up is not part of the figures.
        var opened: [HTTPConnection] = []
        for _ in 0..<connections {
            opened.append(try await HTTPConnection.connect(to: target, on: group))
        }
        let runID = UInt32.random(in: 0...UInt32.max)
        let start = NIODeadline.now()
        let measureFrom = start + .seconds(Int64(warmup))
        let end = measureFrom + .seconds(Int64(seconds))
        let worker = Worker(target: target, key: key, group: group, runID: runID, measureFrom: measureFrom, end: end)

        var total = Tally()
        try await withThrowingTaskGroup(of: Tally.self) { tasks in
            for (index, connection) in opened.enumerated() {
                tasks.addTask { await worker.run(index: index, connection: connection) }
            }
            for try await tally in tasks { total.merge(tally) }
        }
        var non201 = total.statuses
        let created = non201.removeValue(forKey: 201) ?? 0
        return Result(
            connections: connections, seconds: seconds, warmup: warmup, created: created, non201: non201,
            errors: total.errors, latency: LatencySummary(nanoseconds: total.latencies), firstError: total.firstError
        )
    }

    /// One connection's loop: bounded by `end` and by `maxRequestsPerConnection`.
    private struct Worker: Sendable {
        let target: BenchTarget
        let key: String
        let group: any EventLoopGroup
        let runID: UInt32
        let measureFrom: NIODeadline
        let end: NIODeadline

        func run(index: Int, connection first: HTTPConnection) async -> Tally {
            var connection: HTTPConnection? = first
            var tally = Tally()
            tally.latencies.reserveCapacity(65_536)
            var reconnects = 0
            var sequence = 0
            while sequence < CreatesBenchmark.maxRequestsPerConnection, NIODeadline.now() < end {
                sequence += 1
                if connection == nil {
                    guard reconnects < CreatesBenchmark.maxReconnects else { break }
                    reconnects += 1
                    connection = try? await HTTPConnection.connect(to: target, on: group)
                    if connection == nil { continue }
                }
                guard let current = connection else { continue }
                let body = ByteBuffer(
                    string: #"{"action":"bench create \#(index)-\#(sequence)","payload":{"bench":\#(runID),"conn":\#(index),"seq":\#(sequence)}}"#)
                let request = BenchRequest(method: .POST, path: "/v1/approvals", key: key, body: body, timeout: .seconds(10))
                do {
                    let response = try await current.request(request)
                    if response.receivedAt < measureFrom {
                        tally.warmupRequests += 1
                    } else if response.receivedAt <= end {
                        tally.statuses[response.status, default: 0] += 1
                        if response.status == 201 { tally.latencies.append(response.latencyNanoseconds) }
                    }
                } catch {
                    if NIODeadline.now() <= end {
                        tally.errors += 1
                        tally.firstError = tally.firstError ?? "\(error)"
                    }
                    await current.close()
                    connection = nil
                }
            }
            await connection?.close()
            return tally
        }
    }
}

extension CreatesBenchmark.Result {
    func printReport() {
        print("creates: \(connections) connections, \(warmup) s warm-up, \(seconds) s measured")
        print("  created (201)    \(created)  =  \(Int(perSecond.rounded())) /s")
        let others = non201.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        print("  non-201          \(non201Total)\(others.isEmpty ? "" : "  (\(others))")")
        print("  errors           \(errors)\(firstError.map { "  (first: \($0))" } ?? "")")
        print("  latency (201s)   p50 \(LatencySummary.ms(latency.p50)) ms   p90 \(LatencySummary.ms(latency.p90)) ms   "
            + "p99 \(LatencySummary.ms(latency.p99)) ms   max \(LatencySummary.ms(latency.max)) ms")
        let statuses = non201.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        print(
            #"{"bench":"creates","connections":\#(connections),"warmup_s":\#(warmup),"seconds":\#(seconds),"#
                + #""created":\#(created),"creates_per_s":\#(Int(perSecond.rounded())),"non_201":\#(non201Total),"#
                + #""non_201_by_status":{\#(statuses)},"errors":\#(errors),"#
                + #""p50_ms":\#(LatencySummary.ms(latency.p50)),"p90_ms":\#(LatencySummary.ms(latency.p90)),"#
                + #""p99_ms":\#(LatencySummary.ms(latency.p99)),"max_ms":\#(LatencySummary.ms(latency.max))}"#)
    }
}
