import Foundation
import NIOCore

/// The web page's pending list at its largest: files `approvals` pending requests (the page lists at most 1,000), signs
/// in with a one-time link, then GETs `/ui` `requests` times one after another on one connection, timing each whole
/// page from the request's first byte out to the page's last byte in. The server's own time per page is in its log
/// (`latency_ms` on route `/ui`), which `scripts/bench-web` reads.
struct WebBenchmark: Sendable {
    let target: BenchTarget
    let requestKey: String
    let loginPath: String
    let approvals: Int
    let requests: Int
    let connections: Int
    let group: any EventLoopGroup

    static let warmup = 20

    struct Result: Sendable {
        let approvals: Int
        let requests: Int
        let rows: Int
        let bytes: Int
        let latency: LatencySummary
    }

    func run() async throws -> Result {
        _ = try await ApprovalFiling.file(
            approvals, body: Self.body, target: target, key: requestKey, connections: connections, group: group)
        let connection = try await HTTPConnection.connect(to: target, on: group)
        defer { Task { await connection.close() } }
        var login = BenchRequest(method: .GET, path: loginPath, key: "")
        login.keepBody = true
        let signedIn = try await connection.request(login)
        guard signedIn.status == 303, let cookie = signedIn.headers?["Set-Cookie"].first?.split(separator: ";").first else {
            throw BenchError.usage("signing in with --login answered HTTP \(signedIn.status), not a redirect with a session cookie")
        }
        var page = BenchRequest(method: .GET, path: "/ui", key: "", timeout: .seconds(30))
        page.headers = [("Cookie", String(cookie))]
        page.keepBody = true
        var latencies: [Int64] = []
        var last: BenchResponse?
        for round in 0..<(Self.warmup + requests) {
            let response = try await connection.request(page)
            guard response.status == 200 else { throw BenchError.usage("GET /ui answered HTTP \(response.status)") }
            if round >= Self.warmup { latencies.append(response.latencyNanoseconds) }
            last = response
        }
        let html = last?.body.map { String(buffer: $0) } ?? ""
        return Result(
            approvals: approvals, requests: requests, rows: html.components(separatedBy: #"<li class="card"#).count - 1,
            bytes: html.utf8.count, latency: LatencySummary(nanoseconds: latencies))
    }

    /// A request as a deploy agent files it: an action, a payload of a few facts, reasoning and consequences of a
    /// sentence or two, risks of every kind.
    @Sendable static func body(_ n: Int) -> String {
        let risks = ["low", "medium", "high", "critical"]
        return #"{"action":"Deploy service-\#(n % 40) to production (#\#(n))","#
            + #""payload":{"service":"service-\#(n % 40)","environment":"production","commit":"\#(String(n * 7_919, radix: 16))","#
            + #""replicas":\#(3 + n % 5),"migrations":["add_index_\#(n)"],"canary":{"percent":10,"minutes":15}},"#
            + #""reasoning":"Release \#(n) fixes the checkout timeout seen since Tuesday; tests and the canary on staging passed.","#
            + #""consequences":"About 90 seconds of rolling restarts; sessions survive.","risk":"\#(risks[n % 4])","#
            + #""requester":"agent:deploy-bot"}"#
    }
}

extension WebBenchmark.Result {
    func printReport() {
        print("web: GET /ui with \(approvals) pending requests filed, \(requests) pages one after another on one connection")
        print("  page               \(rows) rows, \(bytes / 1024) KiB")
        print("  first byte out to last byte in   p50 \(LatencySummary.ms(latency.p50)) ms   p90 \(LatencySummary.ms(latency.p90)) ms   "
            + "p99 \(LatencySummary.ms(latency.p99)) ms   max \(LatencySummary.ms(latency.max)) ms")
        print(
            #"{"bench":"web","approvals":\#(approvals),"rows":\#(rows),"bytes":\#(bytes),"requests":\#(requests),"#
                + #""p50_ms":\#(LatencySummary.ms(latency.p50)),"p90_ms":\#(LatencySummary.ms(latency.p90)),"#
                + #""p99_ms":\#(LatencySummary.ms(latency.p99)),"max_ms":\#(LatencySummary.ms(latency.max))}"#)
    }
}
