import ApprovalCore
import Foundation
import Logging
import MCP

/// The MCP tools (CONTRACT.md §9), one catalogue for both ways in: names, descriptions and input schemas written for a
/// model to read, the reading of their arguments, the waits, and the rendering of their results. `/mcp` runs them over
/// the use cases in the service, `gatehouse mcp` over the intake API; see `ApprovalGateway`.
public struct ApprovalTools: Sendable {
    /// The tools' names.
    public enum Name: String, CaseIterable, Sendable {
        case requestApproval = "request_approval"
        case getApproval = "get_approval"
        case verifyApproval = "verify_approval"
        case requestPermission = "request_permission"
    }

    /// Sends one progress notification: how many seconds of how many have passed, and a sentence.
    public typealias ProgressReport = @Sendable (_ elapsed: Double, _ total: Double, _ message: String) async -> Void

    let gateway: any ApprovalGateway
    /// How long `request_permission` waits when the call does not say.
    let permissionWait: Int
    /// How often a waiting tool reports progress, when the client asked for it.
    let progressInterval: TimeInterval
    /// Where a failure that is not a refusal is told (its type only: messages may quote input).
    let logger: Logger?

    /// The longest wait a call may ask for.
    public static let maxWait = 3600
    /// `request_permission`'s wait unless configured otherwise: long enough for a person to look, short enough for an
    /// agent that is waiting on it.
    public static let defaultPermissionWait = 600

    public init(
        gateway: any ApprovalGateway, permissionWait: Int = defaultPermissionWait, progressInterval: TimeInterval = 15,
        logger: Logger? = nil
    ) {
        self.gateway = gateway
        self.permissionWait = permissionWait
        self.progressInterval = progressInterval
        self.logger = logger
    }

    // MARK: - Calls

    /// Runs the tool `name` with `arguments`. Refusals (bad arguments, an unknown id, a payload that does not match) come
    /// back as a result with `isError`, carrying the API's code and message; nothing is thrown but cancellation.
    public func call(_ name: String, arguments: [String: Value]?, progress: ProgressReport?) async -> CallTool.Result {
        do {
            guard let tool = Name(rawValue: name) else {
                throw APIError.invalid("name", "There is no tool named `\(name)`; the tools are \(Name.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            let arguments = try Self.json(arguments ?? [:])
            switch tool {
            case .requestApproval: return try await requestApproval(arguments, progress: progress)
            case .getApproval: return try await getApproval(arguments, progress: progress)
            case .verifyApproval: return try await verifyApproval(arguments)
            case .requestPermission: return try await requestPermission(arguments, progress: progress)
            }
        } catch {
            if !(error is APIError || error is ApprovalError) {
                logger?.error("tool call failed", metadata: ["tool": .string(name), "error": .string(String(reflecting: type(of: error)))])
            }
            return Self.failure(error)
        }
    }

    private func requestApproval(_ arguments: JSONValue, progress: ProgressReport?) async throws -> CallTool.Result {
        let wait = try Self.waitSeconds(arguments, default: 0)
        let idempotencyKey = try Self.string(arguments, "idempotency_key")
        var body = arguments.objectValue ?? [:]
        body["wait_seconds"] = nil
        body["idempotency_key"] = nil
        let filed = try await gateway.submit(.object(body), idempotencyKey: idempotencyKey)
        let (approval, ending) = try await waitForDecision(filed, seconds: wait, progress: progress)
        return Self.result(approval, waited: wait, ending: ending)
    }

    private func getApproval(_ arguments: JSONValue, progress: ProgressReport?) async throws -> CallTool.Result {
        let id = try Self.id(arguments)
        let wait = try Self.waitSeconds(arguments, default: 0)
        let current = try await gateway.approval(id)
        let (approval, ending) = try await waitForDecision(current, seconds: wait, progress: progress)
        return Self.result(approval, waited: wait, ending: ending)
    }

    private func verifyApproval(_ arguments: JSONValue) async throws -> CallTool.Result {
        let id = try Self.id(arguments)
        guard let payload = arguments["payload"] else { throw APIError.invalid("payload", "`payload` is required: the JSON object you are about to run.") }
        guard payload.objectValue != nil else { throw APIError.invalid("payload", "`payload` must be a JSON object.") }
        let consume = try Self.bool(arguments, "consume") ?? false
        let verified = try await gateway.verify(id, payload: payload, consume: consume)
        let approval = verified["approval"] ?? .null
        let line = consume
            ? "VERIFIED and CONSUMED \(id): the payload is the one approved, and this approval is now used up. Run exactly this payload now."
            : "VERIFIED \(id): the payload is the one approved. Run exactly this payload (call again with consume=true right before running to use the approval up)."
        return Self.result(line: line, json: verified, structured: ["outcome": .string("verified"), "instruction": .string(line), "approval": approval])
    }

    /// Claude Code's `--permission-prompt-tool`: the first text is `{"behavior": "allow", "updatedInput": …}` or
    /// `{"behavior": "deny", "message": …}`, nothing else. An allowed use is verified and consumed first, so the audit
    /// log shows it used and the input handed back is the one approved.
    private func requestPermission(_ arguments: JSONValue, progress: ProgressReport?) async throws -> CallTool.Result {
        guard let toolName = try Self.string(arguments, "tool_name"), !toolName.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.invalid("tool_name", "`tool_name` is required: the name of the tool asking for permission.")
        }
        let input = arguments["input"] ?? .object([:])
        guard input.objectValue != nil else { throw APIError.invalid("input", "`input` must be a JSON object: the tool's input.") }
        let wait = try Self.waitSeconds(arguments, default: permissionWait)
        let toolUseID = try Self.string(arguments, "tool_use_id")
        let action = "Run \(toolName)"
        let body: JSONValue = .object([
            "action": .string(action.count > ApprovalRequest.actionLimit ? String(action.prefix(ApprovalRequest.actionLimit - 1)) + "…" : action),
            "payload": input,
            "reasoning": .string("A coding agent asks permission to use the tool \(toolName) with this input."),
        ])
        // The same tool use asked again is the same request, not a second one.
        let filed = try await gateway.submit(body, idempotencyKey: toolUseID.map { "permission-" + $0 })
        let (approval, ending) = try await waitForDecision(filed, seconds: wait, progress: progress)
        let id = approval["id"]?.stringValue ?? "?"
        let status = approval["status"]?.stringValue ?? "unknown"
        let decision = approval["decision"]
        switch status {
        case "approved", "modified":
            let approved = decision?["payload"] ?? input
            do {
                _ = try await gateway.verify(id, payload: approved, consume: true)
            } catch let error as APIError {
                return Self.permission(deny: "Gatehouse \(id) was \(status), but it could not be used: \(error.message)", approval: approval)
            }
            return Self.permission(allow: approved, approval: approval)
        case "pending":
            let why = ending == .cancelled ? "the wait was cancelled" : "nobody decided within \(wait) s"
            return Self.permission(
                deny: "Gatehouse request \(id) (\(action)) is still pending: \(why). It stays open for its approvers; ask again later.",
                approval: approval)
        default:
            return Self.permission(deny: "Gatehouse request \(id) (\(action)) was \(status)\(Self.byWhom(decision))\(Self.reason(decision)).", approval: approval)
        }
    }

    // MARK: - Waiting

    /// How a wait ended while the approval was still pending.
    enum WaitEnding: Equatable {
        /// Decided, or the time ran out.
        case finished
        /// The caller cancelled the call.
        case cancelled
        /// The service is stopping.
        case interrupted
    }

    /// Waits until `approval` leaves `pending` or `seconds` pass, reporting progress every `progressInterval` seconds
    /// (and once at the start) when asked. Cancelling the call stops the wait and nothing else: the request stays
    /// pending for its approvers.
    func waitForDecision(_ approval: JSONValue, seconds: Int, progress: ProgressReport?) async throws -> (JSONValue, WaitEnding) {
        guard seconds > 0, approval["status"]?.stringValue == "pending", let id = approval["id"]?.stringValue else {
            return (approval, .finished)
        }
        let start = gateway.now
        let deadline = start.addingTimeInterval(TimeInterval(seconds))
        await progress?(0, Double(seconds), "Waiting up to \(seconds) s for a person to decide \(id).")
        var current = approval
        while current["status"]?.stringValue == "pending" {
            let now = gateway.now
            if now >= deadline { break }
            let step = min(deadline, now.addingTimeInterval(progressInterval))
            do {
                current = try await gateway.waitForDecision(id, until: step)
            } catch {
                if Task.isCancelled || error is CancellationError { return (current, .cancelled) }
                throw error
            }
            if Task.isCancelled { return (current, .cancelled) }
            guard current["status"]?.stringValue == "pending" else { break }
            let after = gateway.now
            // Answered pending before its step's end: the service is stopping (its held waits are released).
            if after.addingTimeInterval(1) < step { return (current, .interrupted) }
            let elapsed = min(Double(seconds), after.timeIntervalSince(start))
            await progress?(elapsed, Double(seconds), "Still pending after \(Int(elapsed)) of \(seconds) s: \(id).")
        }
        return (current, .finished)
    }

    // MARK: - Results

    /// An approval as a tool result: first the sentence a model acts on, then the approval object as the API renders it.
    static func result(_ approval: JSONValue, waited: Int, ending: WaitEnding) -> CallTool.Result {
        let line = instruction(for: approval, waited: waited, ending: ending)
        return result(
            line: line, json: approval,
            structured: ["outcome": approval["status"] ?? .null, "instruction": .string(line), "approval": approval])
    }

    /// What to do about `approval`, in one sentence that starts with its outcome in capitals.
    static func instruction(for approval: JSONValue, waited: Int, ending: WaitEnding) -> String {
        let id = approval["id"]?.stringValue ?? "the request"
        let decision = approval["decision"]
        switch approval["status"]?.stringValue {
        case "approved":
            return "APPROVED\(byWhom(decision)) (\(id)): run exactly the payload you filed, unchanged. "
                + "Call verify_approval with it and consume=true right before running."
        case "modified":
            let payload = decision?["payload"].map(CanonicalJSON.serialize) ?? "{}"
            return "MODIFIED\(byWhom(decision)) (\(id)): a person changed the payload. Run ONLY the modified payload, "
                + "never your original: \(payload)\(reason(decision)). Verify it with verify_approval before running."
        case "rejected":
            return "REJECTED\(byWhom(decision)) (\(id)): do not run it\(reason(decision))."
        case "expired":
            return "EXPIRED (\(id)): nobody decided in time. Do not run it; file a new request if it is still needed."
        case "cancelled":
            return "CANCELLED (\(id)): the request was withdrawn. Do not run it."
        case "pending":
            let why = switch ending {
            case .cancelled: "the wait was cancelled; the request stays pending for its approvers"
            case .interrupted: "the service is stopping; the request stays pending for its approvers"
            case .finished: waited > 0 ? "nobody has decided after \(waited) s" : "nobody has decided yet"
            }
            return "PENDING (\(id)): \(why). Do not run it yet. To wait for the decision, call get_approval with "
                + "{\"id\": \"\(id)\", \"wait_seconds\": 600}."
        case let other:
            return "\(other?.uppercased() ?? "UNKNOWN") (\(id)): do not run it."
        }
    }

    private static func byWhom(_ decision: JSONValue?) -> String {
        guard let who = decision?["by_name"]?.stringValue ?? decision?["by"]?.stringValue else { return "" }
        return " by \(who)"
    }

    private static func reason(_ decision: JSONValue?) -> String {
        guard let reason = decision?["reason"]?.stringValue, !reason.isEmpty else { return "" }
        return "; reason: \(reason)"
    }

    private static func result(line: String, json: JSONValue, structured: [String: JSONValue]) -> CallTool.Result {
        let structured: Value? = value(.object(structured))
        return CallTool.Result(content: [text(line), text(CanonicalJSON.serialize(json))], structuredContent: structured, isError: false)
    }

    private static func permission(allow input: JSONValue, approval: JSONValue) -> CallTool.Result {
        permission(.object(["behavior": .string("allow"), "updatedInput": input]), approval: approval)
    }

    private static func permission(deny message: String, approval: JSONValue) -> CallTool.Result {
        permission(.object(["behavior": .string("deny"), "message": .string(message)]), approval: approval)
    }

    private static func permission(_ answer: JSONValue, approval: JSONValue) -> CallTool.Result {
        CallTool.Result(content: [text(CanonicalJSON.serialize(answer)), text(CanonicalJSON.serialize(approval))], isError: false)
    }

    /// A refusal as a tool error: `code: message`, as the API would have answered.
    static func failure(_ error: any Error) -> CallTool.Result {
        let refusal: APIError = switch error {
        case let error as APIError: error
        case let error as ApprovalError: APIError(error)
        case is StorageFull: .storageFull
        default: APIError(.internalServerError, code: "internal_error", message: "The call failed unexpectedly; the service's log says more.")
        }
        let structured: Value? = value(.object(["error": .object(["code": .string(refusal.code), "message": .string(refusal.message)])]))
        return CallTool.Result(content: [text("\(refusal.code): \(refusal.message)")], structuredContent: structured, isError: true)
    }

    private static func text(_ text: String) -> Tool.Content { .text(text: text, annotations: nil, _meta: nil) }

    // MARK: - Arguments

    /// The arguments as the API reads a body: strictly, numbers exact (a payload number a double cannot carry is refused).
    static func json(_ arguments: [String: Value]) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(arguments)
        return try RequestBody.json(utf8: Array(data))
    }

    /// A JSON value as MCP's `Value`.
    static func value(_ json: JSONValue) -> Value {
        (try? JSONDecoder().decode(Value.self, from: Data(CanonicalJSON.utf8(json)))) ?? .null
    }

    private static func id(_ arguments: JSONValue) throws -> String {
        guard let id = try string(arguments, "id"), !id.isEmpty else {
            throw APIError.invalid("id", "`id` is required: the approval's id, `apr_…`, as request_approval returned it.")
        }
        return id
    }

    private static func string(_ arguments: JSONValue, _ name: String) throws -> String? {
        switch arguments[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw APIError.invalid(name, "`\(name)` must be a string.")
        }
    }

    private static func bool(_ arguments: JSONValue, _ name: String) throws -> Bool? {
        switch arguments[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw APIError.invalid(name, "`\(name)` must be true or false.")
        }
    }

    private static func waitSeconds(_ arguments: JSONValue, default fallback: Int) throws -> Int {
        switch arguments["wait_seconds"] {
        case nil, .null?: return fallback
        case .number(let seconds)? where seconds.rounded() == seconds && (0...Double(maxWait)).contains(seconds): return Int(seconds)
        default: throw APIError.invalid("wait_seconds", "`wait_seconds` must be a whole number of seconds from 0 to \(maxWait).")
        }
    }
}
