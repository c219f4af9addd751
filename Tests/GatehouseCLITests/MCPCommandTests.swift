import ApprovalCore
import Foundation
@testable import GatehouseCLI
import GatehouseServer
import HummingbirdTesting
import Logging
import MCP
import ServerTestSupport
import Testing

/// `gatehouse mcp`'s tools, as its stdio server runs them, driven by the SDK's client over an in-memory pair of
/// transports (standard input and output stand for one), against a live service reached through the intake API.
@Suite("gatehouse mcp")
struct MCPCommandTests {
    /// A client connected to the tools `gatehouse mcp` serves, reaching the service on `port` with `key`.
    static func connect(port: Int?, key: String) async throws -> (MCP.Client, MCP.Server) {
        let tools = ApprovalTools(gateway: ServiceClientGateway(client: TestEnvironment.client(port, key: key)))
        let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
        let server = try await tools.serve(over: serverSide, logger: Logger(label: "test"))
        let client = MCP.Client(name: "test", version: "1")
        _ = try await client.connect(transport: clientSide)
        return (client, server)
    }

    static func texts(_ content: [Tool.Content]) -> [String] {
        content.compactMap { if case .text(let text, _, _) = $0 { text } else { nil } }
    }

    @Test("the stdio tools list the catalogue, file through the API, and answer when a person decides")
    func fileAndWaitThroughTheAPI() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { app in
            let (client, server) = try await Self.connect(port: app.port, key: env.requestKey)
            defer { Task { await client.disconnect(); await server.stop() } }
            let names = try await client.listTools().tools.map(\.name)
            #expect(Set(names) == ["request_approval", "get_approval", "verify_approval", "request_permission"])

            async let waited = client.callTool(
                name: "request_approval",
                arguments: ["action": "Deploy api", "payload": ["service": "api", "commit": "4f2a9c1"], "wait_seconds": 30])
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            let pending = try await app.call(.get, "/v1/approvals?status=pending", key: env.decideKey)
            let id = try #require(pending["approvals"]?.arrayValue?.first?["id"]?.stringValue)
            _ = try await app.call(.post, "/v1/approvals/\(id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"alice","reason":"wrong commit"}"#)
            let (content, isError) = try await waited
            #expect(isError == false)
            #expect(Self.texts(content).first == "REJECTED by alice (\(id)): do not run it; reason: wrong commit.")
            #expect(try JSONValue.parse(Self.texts(content)[1])["status"] == .string("rejected"))

            let mismatch = try await client.callTool(name: "verify_approval", arguments: ["id": .string(id), "payload": ["service": "api"]])
            #expect(mismatch.isError == true)
            #expect(Self.texts(mismatch.content).first == "not_approved: The approval is rejected, not approved.")
        }
    }

    @Test("mcp takes --permission-wait from 0 to 3600 seconds, 600 by default")
    func options() throws {
        #expect(try MCPCommand.parse(["--key", "k", "--permission-wait", "120"]).permissionWait == 120)
        #expect(try MCPCommand.parse(["--key", "k"]).permissionWait == 600)
        #expect(throws: (any Error).self) { try MCPCommand.parse(["--key", "k", "--permission-wait", "3601"]) }
    }

    @Test("a refusal from the service is a tool error with its code and message; a bad key is unauthorized")
    func refusalsAreToolErrors() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { app in
            let (client, server) = try await Self.connect(port: app.port, key: "not-a-key")
            defer { Task { await client.disconnect(); await server.stop() } }
            let refused = try await client.callTool(name: "request_approval", arguments: ["action": "x", "payload": [:]])
            #expect(refused.isError == true)
            #expect(Self.texts(refused.content).first == "unauthorized: The API key is unknown or revoked.")
            #expect(Self.texts(refused.content).first?.contains("not-a-key") == false)

            let (good, goodServer) = try await Self.connect(port: app.port, key: env.requestKey)
            defer { Task { await good.disconnect(); await goodServer.stop() } }
            let invalid = try await good.callTool(name: "request_approval", arguments: ["action": "x", "payload": [:], "expires_in": 5])
            #expect(Self.texts(invalid.content).first?.hasPrefix("invalid_field: `expires_in`") == true)
            let odd = try await good.callTool(name: "get_approval", arguments: ["id": "../../healthz"])
            #expect(Self.texts(odd.content).first == "not_found: No approval with that id.")
        }
    }
}
