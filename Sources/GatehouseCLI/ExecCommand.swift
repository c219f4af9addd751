import ApprovalCore
import ArgumentParser
import Foundation
import Signing

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Request approval, wait, verify and consume it, then run COMMAND; run nothing otherwise.",
        discussion: """
            COMMAND runs only when the approval is approved, its digest matches the payload given here, and it was \
            consumed (so it cannot be used twice). Exit codes: COMMAND's own when it ran; otherwise 3 rejected, \
            4 expired, 5 cancelled, 6 modified (the new payload is printed; it is not run), 7 payload mismatch, \
            8 timed out waiting, 1 any other failure. COMMAND gets GATEHOUSE_APPROVAL_ID in its environment.

            Example:
              gatehouse exec --action "Drop table sessions_old" \\
                --payload '{"db":"main","table":"sessions_old"}' \\
                --risk critical -- psql -c 'DROP TABLE sessions_old'
            """
    )

    @OptionGroup var service: ServiceOptions
    @OptionGroup var request: RequestOptions

    @Option(help: "Hold at most this many seconds for the decision.")
    var wait: Int = 3600

    @Argument(parsing: .postTerminator, help: "The command to run once approved, after `--`.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("Give the command to run after `--`.") }
    }

    func run() async throws {
        let code = await Self.run(request: request, wait: wait, command: command, client: try service.client(), terminal: .standard)
        throw ExitCode(code)
    }

    static func run(request: RequestOptions, wait: Int, command: [String], client: GatehouseClient, terminal: Terminal) async -> Int32 {
        let flow = ApprovalFlow(client: client, terminal: terminal)
        guard let program = command.first, resolve(program) != nil else {
            terminal.err("gatehouse: '\(command.first ?? "")' is not an executable command here; nothing was requested")
            return GateExit.failure.rawValue
        }
        do {
            let payload = try request.payloadValue()
            // Always idempotent: when the wait runs out, rerunning with this key picks up the same request.
            let idempotencyKey = request.idempotencyKey ?? "exec-" + SecureRandom.urlSafeToken(byteCount: 12)
            var approval = try await flow.submit(try request.body(payload: payload), idempotencyKey: idempotencyKey)
            let id = approval["id"]?.stringValue ?? "?"
            terminal.err("gatehouse: waiting for a decision on \(id) (\(request.action))")
            approval = try await flow.wait(for: approval, seconds: max(0, wait))
            let status = approval["status"]?.stringValue
            switch GateExit.forStatus(status) {
            case .approved:
                break
            case .modified:
                terminal.err("gatehouse: approved with a modified payload; not running the original. The approved payload:")
                terminal.out(CanonicalJSON.serialize(approval["decision"]?["payload"] ?? .null))
                return GateExit.modified.rawValue
            case .timedOut:
                terminal.err(ApprovalFlow.stillPending(approval, seconds: wait, idempotencyKey: idempotencyKey, command: "exec") + " — not running")
                return GateExit.timedOut.rawValue
            case let other:
                let who = approval["decision"]?["by_name"]?.stringValue ?? approval["decision"]?["by"]?.stringValue
                let reason = approval["decision"]?["reason"]?.stringValue
                terminal.err("gatehouse: \(status ?? "unknown")\(who.map { " by \($0)" } ?? "")\(reason.map { ": \($0)" } ?? "") — not running")
                return other.rawValue
            }
            do {
                _ = try await client.call("POST", "v1/approvals/\(id)/verify", body: .object(["payload": payload, "consume": .bool(true)]))
            } catch let failure as GatehouseClient.Failure {
                terminal.err("gatehouse: verification failed — not running: \(failure.message)")
                switch failure.code {
                case "payload_mismatch": return GateExit.payloadMismatch.rawValue
                case "expired": return GateExit.expired.rawValue
                default: return GateExit.failure.rawValue
                }
            }
            let who = approval["decision"]?["by_name"]?.stringValue ?? approval["decision"]?["by"]?.stringValue ?? "someone"
            terminal.err("gatehouse: approved by \(who); verified and consumed \(id); running \(command.joined(separator: " "))")
            return try runCommand(command, approvalID: id, terminal: terminal)
        } catch {
            terminal.err("gatehouse: \(error) — not running")
            return GateExit.failure.rawValue
        }
    }

    /// The executable `program` names: a path, or a name found on PATH.
    static func resolve(_ program: String) -> String? {
        let files = FileManager.default
        if program.contains("/") { return files.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if files.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func runCommand(_ command: [String], approvalID: String, terminal: Terminal) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        var environment = ProcessInfo.processInfo.environment
        environment["GATEHOUSE_APPROVAL_ID"] = approvalID
        environment["GATEHOUSE_API_KEY"] = nil
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal { return 128 + process.terminationStatus }
        return process.terminationStatus
    }
}
