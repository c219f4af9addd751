import Foundation
import NIOCore
import NIOPosix

/// `gatehouse-bench`: a small HTTP/1.1 load client for Gatehouse on loopback.
@main
struct Bench {
    static func main() async {
        let options: BenchOptions
        do {
            options = try BenchOptions(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            printError("gatehouse-bench: \(error)\n\n\(BenchOptions.usage)")
            exit(64)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var failure: (any Error)?
        do {
            try await run(options, group: group)
        } catch {
            failure = error
        }
        try? await group.shutdownGracefully()
        if let failure {
            printError("gatehouse-bench: \(failure)")
            exit(1)
        }
    }

    static func run(_ options: BenchOptions, group: MultiThreadedEventLoopGroup) async throws {
        switch options.command {
        case .creates:
            let result = try await CreatesBenchmark(
                target: options.target, key: options.key, connections: options.connections, seconds: options.seconds,
                warmup: options.warmup, group: group
            ).run()
            result.printReport()
        case .interactions:
            let result = try await InteractionsBenchmark(
                target: options.target, requestKey: options.key, signingSecret: options.signingSecret ?? "",
                connections: options.connections, seconds: options.seconds, approvals: options.approvals, group: group
            ).run()
            result.printReport()
        case .wakeup:
            let rounds = try await WakeupBenchmark(
                target: options.target, requestKey: options.key, decideKey: options.decideKey ?? "", pollers: options.pollers,
                rounds: options.rounds, wait: options.wait, settle: .milliseconds(Int64(options.settleMilliseconds)),
                collect: .seconds(Int64(options.collectSeconds)), serverPID: options.serverPID, group: group
            ).run()
            for round in rounds { round.printReport() }
        case .escalations:
            let failures = try await EscalationsBenchmark(
                pending: options.pending, due: options.due, rounds: options.rounds, idleSeconds: options.idleSeconds,
                passes: options.passes
            ).run()
            if let first = failures.first {
                throw BenchError.failed("escalations: \(failures.count) check(s) failed; first: \(first)")
            }
        case .commitFloor:
            try await CommitFloorBenchmark(connections: options.connections, seconds: options.seconds, approvals: options.approvals)
                .run().printReport()
        case .web:
            let result = try await WebBenchmark(
                target: options.target, requestKey: options.key, loginPath: options.loginPath, approvals: options.approvals,
                requests: options.requests, connections: options.connections, group: group
            ).run()
            result.printReport()
        case .floor:
            let floor = LoopbackFloorBenchmark(
                connections: options.pollers, rounds: options.rounds, bytes: options.bytes, writers: options.writers)
            for round in try floor.run() { round.printReport(connections: options.pollers, bytes: options.bytes) }
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
