import ApprovalCore
import ArgumentParser
import Foundation
import GatehouseServer
import Logging
import MCP

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the approval tools over MCP on standard input and output, for an agent that starts it.",
        discussion: """
            Tools: request_approval, get_approval, verify_approval and request_permission (Claude Code's \
            --permission-prompt-tool). Each reaches the running service at --url (else GATEHOUSE_URL) with --key \
            (else GATEHOUSE_API_KEY), through the intake API. Standard output carries the protocol only.

            Example (.mcp.json):
              {"mcpServers": {"gatehouse": {
                "command": "gatehouse", "args": ["mcp"],
                "env": {"GATEHOUSE_URL": "http://127.0.0.1:8080",
                        "GATEHOUSE_API_KEY": "…"}}}}
            """
    )

    @OptionGroup var service: ServiceOptions

    @Option(
        name: .customLong("permission-wait"),
        help: "How long request_permission waits for a decision when the call does not say, in seconds (0–3600).")
    var permissionWait: Int = ApprovalTools.defaultPermissionWait

    func validate() throws {
        guard (0...ApprovalTools.maxWait).contains(permissionWait) else {
            throw ValidationError("--permission-wait must be from 0 to \(ApprovalTools.maxWait) seconds.")
        }
    }

    func run() async throws {
        let tools = ApprovalTools(gateway: ServiceClientGateway(client: try service.client()), permissionWait: permissionWait)
        let server = try await tools.serve(over: StdioTransport(), logger: Logger(label: "gatehouse.mcp") { _ in SwiftLogNoOpLogHandler() })
        await server.waitUntilCompleted()
    }
}

/// The tools' way to the service from `gatehouse mcp`: the intake API over HTTP, as `request` and `exec` use it. Waits
/// are long-polls of at most a minute each; the service's refusals come back as `APIError` with its code and message.
struct ServiceClientGateway: ApprovalGateway {
    let client: GatehouseClient

    var now: Date { Date() }

    func submit(_ body: JSONValue, idempotencyKey: String?) async throws -> JSONValue {
        try await call("POST", "v1/approvals", body: body, headers: idempotencyKey.map { ["Idempotency-Key": $0] } ?? [:])
    }

    func approval(_ id: String) async throws -> JSONValue {
        try await call("GET", "v1/approvals/\(try Self.pathSegment(id))")
    }

    func waitForDecision(_ id: String, until deadline: Date) async throws -> JSONValue {
        let seconds = min(60, max(0, Int(deadline.timeIntervalSince(now).rounded(.up))))
        return try await call("GET", "v1/approvals/\(try Self.pathSegment(id))?wait=\(seconds)")
    }

    func verify(_ id: String, payload: JSONValue, consume: Bool) async throws -> JSONValue {
        try await call("POST", "v1/approvals/\(try Self.pathSegment(id))/verify", body: .object(["payload": payload, "consume": .bool(consume)]))
    }

    private func call(_ method: String, _ path: String, body: JSONValue? = nil, headers: [String: String] = [:]) async throws -> JSONValue {
        do {
            return try await client.call(method, path, body: body, headers: headers)
        } catch let failure as GatehouseClient.Failure {
            try Task.checkCancellation()
            throw APIError(.init(code: failure.status == 0 ? 502 : failure.status), code: failure.code, message: failure.message)
        }
    }

    /// An id as one path segment: an id is `apr_` and URL-safe characters, so anything else is refused, not sent.
    static func pathSegment(_ id: String) throws -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard !id.isEmpty, id.count <= 64, id.unicodeScalars.allSatisfy(allowed.contains) else {
            throw APIError(.notFound, code: "not_found", message: "No approval with that id.")
        }
        return id
    }
}
