import ApprovalCore
import ArgumentParser
import Foundation

/// The exit codes of `request --wait` and `exec` (CONTRACT.md §5). Fail closed: only 0 means go.
public enum GateExit: Int32, Sendable {
    case approved = 0
    case failure = 1
    case rejected = 3
    case expired = 4
    case cancelled = 5
    case modified = 6
    case payloadMismatch = 7
    case timedOut = 8

    static func forStatus(_ status: String?) -> GateExit {
        switch status {
        case "approved": .approved
        case "rejected": .rejected
        case "expired": .expired
        case "cancelled": .cancelled
        case "modified": .modified
        case "pending": .timedOut
        default: .failure
        }
    }
}

/// `--payload JSON` or `--payload @FILE`, as `request`, `exec` and `decide … modify` take it: a JSON object, its numbers
/// exact (a number a double cannot carry is refused, as the service refuses it).
enum PayloadArgument {
    /// Checked while parsing. A file is only checked for being readable: it is read once, when used, since it may be
    /// a pipe (`@/dev/stdin`, `@<(…)`).
    static func validate(_ argument: String) throws {
        if let path = path(argument) {
            guard FileManager.default.isReadableFile(atPath: path) else { throw unreadable(path) }
        } else {
            _ = try value(argument)
        }
    }

    static func value(_ argument: String) throws -> JSONValue {
        let text: String
        if let path = path(argument) {
            guard let file = FileHandle(forReadingAtPath: path), let data = try? file.readToEnd() ?? Data() else {
                throw unreadable(path)
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = argument
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(text, exactNumbers: true)
        } catch {
            if let sentence = error.inexactNumberSentence(root: "payload") { throw ValidationError("--payload: " + sentence) }
            throw ValidationError("--payload is not valid JSON: \(error). Put it in single quotes, or use @FILE.")
        }
        guard value.objectValue != nil else { throw ValidationError("--payload must be a JSON object.") }
        return value
    }

    private static func path(_ argument: String) -> String? { argument.hasPrefix("@") ? String(argument.dropFirst()) : nil }

    private static func unreadable(_ path: String) -> ValidationError { ValidationError("Cannot read the payload file '\(path)'.") }
}

/// The options that describe a request, shared by `request` and `exec`.
struct RequestOptions: ParsableArguments {
    @Option(help: "What will be done, in one line (at most 150 characters).")
    var action: String

    @Option(help: "The exact facts of the operation: a JSON object, or @FILE to read it from a file.")
    var payload: String

    @Option(help: "The escalation chain to use (default: the `default` chain).")
    var gate: String?

    @Option(help: "low, medium, high or critical (default: medium).")
    var risk: String?

    @Option(help: "Why the operation is wanted.")
    var reasoning: String?

    @Option(help: "What happens if it runs.")
    var consequences: String?

    @Option(name: .customLong("on-reject"), help: "What the requester will do if it is rejected.")
    var onReject: String?

    @Option(help: "Who asks: agent:NAME, pipeline:ID, or a Slack user ID (else GATEHOUSE_REQUESTER; else the key's name).")
    var requester: String?

    @Option(
        name: .customLong("expires-in"),
        help: "How long until the request expires: seconds (3600) or a duration (90s, 30m, 1h30m, 2d); 60 s to 30 days.")
    var expiresIn: String?

    @Option(name: .customLong("callback-url"), help: "A URL that receives the decided approval.")
    var callbackURL: String?

    @Option(name: .customLong("idempotency-key"), help: "Retrying with the same key returns the same approval.")
    var idempotencyKey: String?

    func validate() throws {
        try PayloadArgument.validate(payload)
        _ = try expiresInSeconds()
    }

    /// `--expires-in` in seconds: a whole number of seconds, or a duration as chains write them.
    func expiresInSeconds() throws -> Int? {
        guard let expiresIn else { return nil }
        if let seconds = Int(expiresIn) { return seconds }
        do {
            return Int(try ChainDuration.parse(expiresIn))
        } catch {
            throw ValidationError("--expires-in '\(expiresIn)' is neither whole seconds nor a duration: \(error)")
        }
    }

    /// The payload as JSON, read from the option or the file it names.
    func payloadValue() throws -> JSONValue { try PayloadArgument.value(payload) }

    /// Who asks: `--requester`, else `GATEHOUSE_REQUESTER`; else nobody is named and the service files it as the key's name.
    func resolvedRequester(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        requester ?? environment["GATEHOUSE_REQUESTER"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The request to file, with the payload read once by the caller.
    func body(payload: JSONValue) throws -> JSONValue {
        var members: [String: JSONValue] = ["action": .string(action), "payload": payload]
        let optional: [(String, String?)] = [
            ("gate", gate), ("risk", risk), ("reasoning", reasoning), ("consequences", consequences), ("on_reject", onReject),
            ("requester", resolvedRequester()), ("callback_url", callbackURL),
        ]
        for (name, value) in optional { if let value { members[name] = .string(value) } }
        if let seconds = try expiresInSeconds() { members["expires_in"] = .number(Double(seconds)) }
        return .object(members)
    }
}

/// Filing a request and waiting for its decision; the logic behind `request` and `exec`.
public struct ApprovalFlow: Sendable {
    let client: GatehouseClient
    let terminal: Terminal
    /// Real time: the CLI waits on the wall clock, the service decides on its own.
    let now: @Sendable () -> Date

    public init(client: GatehouseClient, terminal: Terminal, now: @escaping @Sendable () -> Date = Date.init) {
        self.client = client
        self.terminal = terminal
        self.now = now
    }

    public func submit(_ body: JSONValue, idempotencyKey: String?) async throws -> JSONValue {
        var headers: [String: String] = [:]
        if let idempotencyKey { headers["Idempotency-Key"] = idempotencyKey }
        return try await client.call("POST", "v1/approvals", body: body, headers: headers)
    }

    /// What `request --wait` and `exec` say when the wait runs out: that it is still pending, and how to pick it up
    /// again (the same command with the same idempotency key returns the same request and waits for it).
    static func stillPending(_ approval: JSONValue, seconds: Int, idempotencyKey: String?, command: String) -> String {
        let id = approval["id"]?.stringValue ?? "the request"
        var sentence = "gatehouse: \(id) is still pending after \(seconds) s"
        if let idempotencyKey {
            sentence += "; to wait for it again, run the same `gatehouse \(command)` with --idempotency-key \(idempotencyKey)"
        } else {
            sentence += "; to wait for it again: gatehouse show \(id), or file with --idempotency-key to pick it up by rerunning"
        }
        return sentence
    }

    /// Long-polls until the approval leaves `pending` or `seconds` pass; returns its last state.
    public func wait(for approval: JSONValue, seconds: Int) async throws -> JSONValue {
        var current = approval
        let deadline = now().addingTimeInterval(TimeInterval(seconds))
        while current["status"]?.stringValue == "pending" {
            let remaining = Int(deadline.timeIntervalSince(now()).rounded(.up))
            if remaining <= 0 { break }
            guard let id = current["id"]?.stringValue else { break }
            current = try await client.call("GET", "v1/approvals/\(id)?wait=\(min(60, remaining))")
        }
        return current
    }
}

struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "File a request for approval and print it as JSON.",
        discussion: """
            With --wait, hold until it is decided or SECONDS pass; the exit code then says what happened: \
            0 approved, 3 rejected, 4 expired, 5 cancelled, 6 modified (run the decision's payload, not yours), \
            8 still pending after SECONDS, 1 any other failure.

            Example:
              gatehouse request --action "Deploy api to production" \\
                --payload '{"service":"api","commit":"4f2a9c1"}' \\
                --risk high --reasoning "Fixes checkout" --wait 600
            """
    )

    @OptionGroup var service: ServiceOptions
    @OptionGroup var request: RequestOptions

    @Option(help: "Hold until it is decided or this many seconds pass.")
    var wait: Int?

    func run() async throws {
        let code = await Self.run(request: request, wait: wait, client: try service.client(), terminal: .standard)
        if code != 0 { throw ExitCode(code) }
    }

    static func run(request: RequestOptions, wait: Int?, client: GatehouseClient, terminal: Terminal) async -> Int32 {
        let flow = ApprovalFlow(client: client, terminal: terminal)
        do {
            var approval = try await flow.submit(try request.body(payload: request.payloadValue()), idempotencyKey: request.idempotencyKey)
            guard let wait else {
                terminal.out(CanonicalJSON.serialize(approval))
                return 0
            }
            approval = try await flow.wait(for: approval, seconds: max(0, wait))
            terminal.out(CanonicalJSON.serialize(approval))
            let exit = GateExit.forStatus(approval["status"]?.stringValue)
            if exit == .timedOut {
                terminal.err(ApprovalFlow.stillPending(approval, seconds: wait, idempotencyKey: request.idempotencyKey, command: "request"))
            }
            return exit.rawValue
        } catch {
            terminal.err("gatehouse: \(error)")
            return GateExit.failure.rawValue
        }
    }
}
