/// The command line: a subcommand, then `--name value` pairs, each checked against a range.
struct BenchOptions: Sendable {
    enum Command: String, Sendable { case creates, wakeup, interactions, escalations, floor, web, commitFloor = "commit-floor" }

    var command: Command
    var target: BenchTarget
    var key: String
    var decideKey: String?
    var connections = 16
    var seconds = 10
    var warmup = 2
    var pollers = 1_000
    var rounds = 3
    var wait = 60
    var settleMilliseconds = 500
    var collectSeconds = 15
    var signingSecret: String?
    var approvals = 8_000
    var pending = 100_000
    var due = 1_000
    var idleSeconds = 10
    var passes = 1_000
    var bytes = 1_100
    var writers = 2
    var requests = 300
    var loginPath = ""
    var serverPID: Int32?

    static let usage = """
        usage:
          gatehouse-bench creates --url http://127.0.0.1:PORT --key KEY [--connections 16] [--seconds 10] [--warmup 2]
          gatehouse-bench interactions --url http://127.0.0.1:PORT --key REQUESTKEY --signing-secret SECRET
                                  [--connections 16] [--seconds 10] [--approvals 8000]
          gatehouse-bench wakeup  --url http://127.0.0.1:PORT --key REQUESTKEY --decide-key DECIDEKEY
                                  [--pollers 1000] [--rounds 3] [--wait 60] [--settle-ms 500] [--collect-seconds 15]
                                  [--server-pid PID]
          gatehouse-bench escalations [--pending 100000] [--due 1000] [--rounds 5] [--idle-seconds 10] [--passes 1000]
          gatehouse-bench floor [--pollers 1000] [--rounds 5] [--bytes 1100] [--writers 2]
          gatehouse-bench commit-floor [--connections 16] [--seconds 10] [--approvals 8000]
          gatehouse-bench web --url http://127.0.0.1:PORT --key REQUESTKEY --login LOGINLINK
                                  [--approvals 1000] [--requests 300] [--connections 16]

        creates: POST /v1/approvals back to back on each connection; counts 201s in the measured window.
        wakeup: per round, one approval, one long-poll per connection; after the polls are written and the
        settle delay, reads of the approval probe until the server is idle, then the decision is sent and each
        poller's answer is timed from just before it. With --server-pid (a server on this machine), the server's
        resident memory is read before any poll and again just before each decision, while every poll is held.
        escalations: in process, on a throwaway database file: loads --pending approvals, --due of them due at
        once, checks the scheduler's query plans, times one scheduler pass over them per round, then the
        idle scheduler loop's CPU and the cost of one pass with nothing due. No network.
        floor: the kernel alone answering --pollers held loopback connections (--writers threads write --bytes to
        each, one thread reads them with epoll): what the wake-up figures cannot beat on this machine.
        commit-floor: in process, on a throwaway database file: per click, the durable writes an Approve click makes
        (its signature, then the prepared decision: the row, the vote, the audit entries, the outbox), on
        --connections writers through the service's own storage code; no HTTP, no Slack parsing, no domain.
        web: files --approvals pending requests, signs in with the one-time link (`gatehouse login-link`), then GETs
        the pending page --requests times on one connection, after 20 unmeasured, timing each whole page.
        Loopback only: the host must be in 127.0.0.0/8, ::1 or localhost.
        Prints figures for people, then one JSON line per result.
        """

    init(arguments: [String]) throws(BenchError) {
        guard let first = arguments.first, let command = Command(rawValue: first) else {
            throw BenchError.usage("expected a subcommand: creates, wakeup, interactions, escalations, floor, commit-floor or web")
        }
        self.command = command
        var values: [String: String] = [:]
        var rest = arguments.dropFirst()
        while let name = rest.first {
            rest = rest.dropFirst()
            guard name.hasPrefix("--"), let value = rest.first else {
                throw BenchError.usage("expected --option VALUE, got '\(name)'")
            }
            rest = rest.dropFirst()
            values[String(name.dropFirst(2))] = value
        }
        let allowed: Set<String> = switch command {
        case .creates: ["url", "key", "connections", "seconds", "warmup"]
        case .wakeup: ["url", "key", "decide-key", "pollers", "rounds", "wait", "settle-ms", "collect-seconds", "server-pid"]
        case .interactions: ["url", "key", "signing-secret", "connections", "seconds", "approvals"]
        case .escalations: ["pending", "due", "rounds", "idle-seconds", "passes"]
        case .floor: ["pollers", "rounds", "bytes", "writers"]
        case .web: ["url", "key", "login", "approvals", "requests", "connections"]
        case .commitFloor: ["connections", "seconds", "approvals"]
        }
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw BenchError.usage("unknown option --\(unknown) for \(command.rawValue)")
        }
        if command == .escalations || command == .floor || command == .commitFloor {
            // Runs in process: no server, so no URL or key (the target is never used).
            target = try BenchTarget(url: "http://127.0.0.1")
            key = ""
        } else {
            guard let url = values["url"] else { throw BenchError.usage("--url is required") }
            target = try BenchTarget(url: url)
            guard let key = values["key"], !key.isEmpty else { throw BenchError.usage("--key is required") }
            self.key = key
        }

        func number(_ name: String, _ range: ClosedRange<Int>, default value: Int) throws(BenchError) -> Int {
            guard let text = values[name] else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw BenchError.usage("--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        connections = try number("connections", 1...256, default: connections)
        seconds = try number("seconds", 1...120, default: seconds)
        warmup = try number("warmup", 0...30, default: warmup)
        // Up to 12,000 held connections for wake-ups (one descriptor each here); the floor holds both ends of each.
        pollers = try number("pollers", 1...(command == .wakeup ? 12_000 : 5_000), default: pollers)
        if values["server-pid"] != nil {
            serverPID = Int32(try number("server-pid", 1...Int(Int32.max), default: 1))
        }
        rounds = try number("rounds", 1...10, default: command == .escalations || command == .floor ? 5 : rounds)
        wait = try number("wait", 1...60, default: wait)
        settleMilliseconds = try number("settle-ms", 0...10_000, default: settleMilliseconds)
        collectSeconds = try number("collect-seconds", 1...60, default: collectSeconds)
        approvals = try number("approvals", 1...200_000, default: command == .web ? 1_000 : approvals)
        requests = try number("requests", 1...100_000, default: requests)
        pending = try number("pending", 1...1_000_000, default: pending)
        due = try number("due", 1...100_000, default: due)
        idleSeconds = try number("idle-seconds", 1...120, default: idleSeconds)
        passes = try number("passes", 1...100_000, default: passes)
        bytes = try number("bytes", 1...65_536, default: bytes)
        writers = try number("writers", 1...8, default: writers)
        if command == .escalations {
            guard due * rounds <= pending else {
                throw BenchError.usage("--due × --rounds (\(due * rounds)) must not exceed --pending (\(pending))")
            }
        }
        if command == .interactions {
            guard let secret = values["signing-secret"], !secret.isEmpty else {
                throw BenchError.usage("--signing-secret is required for interactions")
            }
            signingSecret = secret
        }
        if command == .web {
            // The link as `gatehouse login-link` prints it, or its path: only the path is used, on --url's host.
            guard let link = values["login"], let range = link.range(of: "/ui/login/") else {
                throw BenchError.usage("--login is required for web: a link from `gatehouse login-link`")
            }
            loginPath = String(link[range.lowerBound...])
        }
        if command == .wakeup {
            guard let decideKey = values["decide-key"], !decideKey.isEmpty else {
                throw BenchError.usage("--decide-key is required for wakeup")
            }
            self.decideKey = decideKey
        }
    }
}
