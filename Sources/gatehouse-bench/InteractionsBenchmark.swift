import Foundation
import NIOCore
import NIOPosix
import Signing

/// Signed Slack clicks: files `approvals` requests, then N connections post signed `block_actions` Approve clicks
/// on them (one click per approval) to `/slack/interactions`, timing each acknowledgement. Slack gives up after 3 s.
struct InteractionsBenchmark: Sendable {
    let target: BenchTarget
    let requestKey: String
    let signingSecret: String
    let connections: Int
    let seconds: Int
    let approvals: Int
    let group: any EventLoopGroup

    struct Result: Sendable {
        let connections: Int
        let seconds: Double
        let prepared: Int
        let acknowledged: Int
        let other: [UInt: Int]
        let errors: Int
        let latency: LatencySummary

        var perSecond: Double { seconds > 0 ? Double(acknowledged) / seconds : 0 }
    }

    func run() async throws -> Result {
        let ids = try await prepare()
        var opened: [HTTPConnection] = []
        for _ in 0..<connections { opened.append(try await HTTPConnection.connect(to: target, on: group)) }
        let slices = (0..<connections).map { index in stride(from: index, to: ids.count, by: connections).map { ids[$0] } }
        let start = NIODeadline.now()
        let end = start + .seconds(Int64(seconds))
        var latencies: [Int64] = []
        var statuses: [UInt: Int] = [:]
        var errors = 0
        try await withThrowingTaskGroup(of: ([Int64], [UInt: Int], Int).self) { tasks in
            for (index, connection) in opened.enumerated() {
                let slice = slices[index]
                tasks.addTask { await click(slice, user: "U0BENCH\(index)", on: connection, until: end) }
            }
            for try await (some, codes, failed) in tasks {
                latencies += some
                statuses.merge(codes, uniquingKeysWith: +)
                errors += failed
            }
        }
        let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        for connection in opened { await connection.close() }
        var other = statuses
        let acknowledged = other.removeValue(forKey: 200) ?? 0
        return Result(
            connections: connections, seconds: min(elapsed, Double(seconds)), prepared: ids.count, acknowledged: acknowledged,
            other: other, errors: errors, latency: LatencySummary(nanoseconds: latencies))
    }

    /// Files the approvals to click on, over as many connections.
    private func prepare() async throws -> [String] {
        try await ApprovalFiling.file(
            approvals, body: { n in #"{"action":"bench click \#(n)","payload":{"n":\#(n)},"requester":"agent:bench"}"# },
            target: target, key: requestKey, connections: connections, group: group)
    }

    private func click(_ ids: [String], user: String, on connection: HTTPConnection, until end: NIODeadline) async -> ([Int64], [UInt: Int], Int) {
        var latencies: [Int64] = []
        var statuses: [UInt: Int] = [:]
        var errors = 0
        for id in ids {
            guard NIODeadline.now() < end else { break }
            let value = #"{\"id\":\"\#(id)\",\"v\":1}"#
            let payload = #"{"type":"block_actions","user":{"id":"\#(user)","username":"bench"},"trigger_id":"t","#
                + #""channel":{"id":"C0BENCH"},"container":{"type":"message","channel_id":"C0BENCH","message_ts":"1.1"},"#
                + #""actions":[{"action_id":"gatehouse.approve","type":"button","value":"\#(value)"}]}"#
            let body = "payload=" + (payload.addingPercentEncoding(withAllowedCharacters: Self.formSafe) ?? "")
            let timestamp = String(Int64(Date().timeIntervalSince1970))
            let signature = "v0=" + HMACSHA256.authenticate(
                key: Array(signingSecret.utf8), message: Array("v0:\(timestamp):\(body)".utf8)).hexString
            var request = BenchRequest(method: .POST, path: "/slack/interactions", key: "", body: ByteBuffer(string: body))
            request.contentType = "application/x-www-form-urlencoded"
            request.headers = [("X-Slack-Request-Timestamp", timestamp), ("X-Slack-Signature", signature)]
            do {
                let response = try await connection.request(request)
                statuses[response.status, default: 0] += 1
                if response.status == 200 { latencies.append(response.latencyNanoseconds) }
            } catch {
                errors += 1
                break
            }
        }
        return (latencies, statuses, errors)
    }

    private static let formSafe: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._*")
        return set
    }()
}

extension InteractionsBenchmark.Result {
    func printReport() {
        print("interactions: \(connections) connections, signed Approve clicks on \(prepared) prepared approvals")
        print("  acknowledged (200) \(acknowledged) in \(String(format: "%.1f", seconds)) s  =  \(Int(perSecond.rounded())) /s")
        let others = other.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        print("  other statuses     \(other.values.reduce(0, +))\(others.isEmpty ? "" : "  (\(others))")   errors \(errors)")
        print("  time to ack        p50 \(LatencySummary.ms(latency.p50)) ms   p90 \(LatencySummary.ms(latency.p90)) ms   "
            + "p99 \(LatencySummary.ms(latency.p99)) ms   max \(LatencySummary.ms(latency.max)) ms")
        print(
            #"{"bench":"interactions","connections":\#(connections),"acknowledged":\#(acknowledged),"#
                + #""acks_per_s":\#(Int(perSecond.rounded())),"errors":\#(errors),"p50_ms":\#(LatencySummary.ms(latency.p50)),"#
                + #""p99_ms":\#(LatencySummary.ms(latency.p99)),"max_ms":\#(LatencySummary.ms(latency.max))}"#)
    }
}
