import ApprovalCore
import Foundation
@testable import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import Storage
import Testing

/// `/mcp` on the real server over loopback: JSON-RPC POSTs answered as server-sent events, read as they arrive.
@Suite("MCP over Streamable HTTP")
struct MCPTests {
    /// An application over a new environment with an MCP session open for its `request` key.
    static func withSession(
        configuration: GatehouseConfiguration = GatehouseConfiguration(),
        _ body: @escaping @Sendable (TestEnvironment, any TestClientProtocol, MCPWire) async throws -> Void
    ) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application(configuration: configuration).test(.live) { client in
            var mcp = MCPWire(port: client.port!, key: env.requestKey)
            _ = try await mcp.initialize()
            try await body(env, client, mcp)
        }
    }
    @Test("initialize opens a session for the key, and tools/list names the four tools with their input schemas")
    func initializeAndListTools() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            var mcp = MCPWire(port: client.port!, key: env.requestKey)
            let (head, result) = try await mcp.initialize()
            #expect(head.contains("200 OK"))
            #expect(head.lowercased().contains("content-type: text/event-stream"))
            #expect(head.lowercased().contains("x-accel-buffering: no"))
            #expect(result["result"]?["serverInfo"]?["name"] == .string("gatehouse"))
            #expect(result["result"]?["protocolVersion"] == .string("2025-06-18"))
            #expect(mcp.session != nil)

            let listed = try await mcp.call(id: 2, "tools/list", params: "{}")
            let tools = listed["result"]?["tools"]?.arrayValue ?? []
            #expect(Set(tools.compactMap { $0["name"]?.stringValue })
                == ["request_approval", "get_approval", "verify_approval", "request_permission"])
            let create = try #require(tools.first { $0["name"] == .string("request_approval") })
            #expect(create["inputSchema"]?["required"] == .array([.string("action"), .string("payload")]))
            #expect(create["description"]?.stringValue?.contains("modified payload") == true)
            let permission = try #require(tools.first { $0["name"] == .string("request_permission") })
            #expect(permission["inputSchema"]?["required"] == .array([.string("tool_name"), .string("input")]))
        }
    }

    @Test("request_approval waits, reports progress as the clock moves, and answers at once when a decision comes through the API")
    func requestApprovalWaitsForDecision() async throws {
        try await Self.withSession { env, client, mcp in
            let call = try await mcp.send(id: 2, "tools/call", params: #"""
                {"name": "request_approval", "_meta": {"progressToken": "t-1"}, "arguments": {
                  "action": "Deploy api to production", "payload": {"service": "api", "commit": "4f2a9c1"},
                  "risk": "high", "wait_seconds": 120}}
                """#)
            let first = try await MCPWire.next(on: call, containing: "notifications/progress")
            #expect(first["params"]?["progressToken"] == .string("t-1"))
            #expect(first["params"]?["progress"] == .number(0))
            #expect(first["params"]?["total"] == .number(120))
            let id = try #require(first["params"]?["message"]?.stringValue?.firstMatch(of: /apr_[A-Za-z0-9_-]+/).map { String($0.output) })
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }

            env.clock.advance(by: 15)
            let second = try await MCPWire.next(on: call, containing: "notifications/progress")
            #expect(second["params"]?["progress"] == .number(15))
            #expect(second["params"]?["message"]?.stringValue?.contains("Still pending after 15 of 120 s") == true)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }

            let decided = try await client.call(
                .post, "/v1/approvals/\(id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"alice","reason":"diff reviewed"}"#)
            #expect(decided["status"] == .string("approved"))
            let result = try await MCPWire.next(on: call, containing: #""result""#)
            let texts = MCPWire.texts(result)
            #expect(result["result"]?["isError"] == .bool(false))
            #expect(texts.first?.hasPrefix("APPROVED by alice (\(id)): run exactly the payload you filed") == true)
            let approval = try JSONValue.parse(texts[1])
            #expect(approval["status"] == .string("approved"))
            #expect(approval["decision"]?["by"] == .string("key:lead"))
            #expect(result["result"]?["structuredContent"]?["outcome"] == .string("approved"))
            #expect(env.longPolls.count == 0)
            await call.close()
        }
    }

    @Test("cancelling a waiting call ends the wait, says so, and leaves the request pending for its approvers")
    func cancellationLeavesPending() async throws {
        try await Self.withSession { env, client, mcp in
            let filed = try await mcp.callTool(id: 2, "request_approval", #"{"action": "Rotate keys", "payload": {"key": "signing"}}"#)
            let id = try #require(try JSONValue.parse(MCPWire.texts(filed)[1])["id"]?.stringValue)
            #expect(MCPWire.texts(filed).first?.hasPrefix("PENDING (\(id)): nobody has decided yet") == true)

            let call = try await mcp.send(id: 3, "tools/call", params: #"{"name": "get_approval", "arguments": {"id": "\#(id)", "wait_seconds": 600}}"#)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            let cancel = try await mcp.answer(notification: "notifications/cancelled", params: #"{"requestId": 3, "reason": "user stopped"}"#)
            #expect(cancel.status == 202)
            let result = try await MCPWire.next(on: call, containing: #""result""#)
            await call.close()
            #expect(MCPWire.texts(result).first?.hasPrefix("PENDING (\(id)): the wait was cancelled; the request stays pending") == true)
            #expect(env.longPolls.count == 0)
            let current = try await client.call(.get, "/v1/approvals/\(id)", key: env.requestKey)
            #expect(current["status"] == .string("pending"))

            // A client that goes away mid-wait cancels it too.
            let dropped = try await mcp.send(id: 4, "tools/call", params: #"{"name": "get_approval", "arguments": {"id": "\#(id)", "wait_seconds": 600}}"#)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            await dropped.close()
            try await withTimeout { await env.longPolls.whenCount { $0 == 0 } }
            let after = try await mcp.callTool(id: 5, "get_approval", #"{"id": "\#(id)"}"#)
            #expect(MCPWire.texts(after).first?.hasPrefix("PENDING (\(id))") == true)
        }
    }

    /// A stop that waited for the call would never end: its wait is on the test clock, which does not move here.
    @Test("a call still waiting when the service stops is answered at once: still pending, with how to pick it up", .timeLimit(.minutes(1)))
    func stopAnswersHeldCalls() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let (held, id) = try await env.application().test(.live) { client -> (RawHTTPConnection, String) in
            var mcp = MCPWire(port: client.port!, key: env.requestKey)
            _ = try await mcp.initialize()
            let filed = try await mcp.callTool(id: 2, "request_approval", #"{"action": "Rotate keys", "payload": {"key": "signing"}}"#)
            let id = try #require(try JSONValue.parse(MCPWire.texts(filed)[1])["id"]?.stringValue)
            let call = try await mcp.send(id: 3, "tools/call", params: #"{"name": "get_approval", "arguments": {"id": "\#(id)", "wait_seconds": 600}}"#)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            return (call, id)
        }
        let result = try await MCPWire.next(on: held, containing: #""result""#)
        await held.close()
        #expect(MCPWire.texts(result).first?.hasPrefix("PENDING (\(id)): the service is stopping; the request stays pending") == true)
    }

    @Test("a modified decision tells the model to run the new payload; verify_approval refuses another payload with the API's message")
    func modifiedAndVerify() async throws {
        try await Self.withSession { env, client, mcp in
            let filed = try await mcp.callTool(id: 2, "request_approval", #"{"action": "Scale workers", "payload": {"workers": 40}}"#)
            let id = try #require(try JSONValue.parse(MCPWire.texts(filed)[1])["id"]?.stringValue)
            _ = try await client.call(
                .post, "/v1/approvals/\(id)/decision", key: env.decideKey,
                body: #"{"outcome":"modify","as":"alice","reason":"20 is enough","payload":{"workers":20}}"#)

            let got = try await mcp.callTool(id: 3, "get_approval", #"{"id": "\#(id)"}"#)
            #expect(MCPWire.texts(got).first?.hasPrefix(
                #"MODIFIED by alice (\#(id)): a person changed the payload. Run ONLY the modified payload, never your original: {"workers":20}"#) == true)

            let mismatch = try await mcp.callTool(id: 4, "verify_approval", #"{"id": "\#(id)", "payload": {"workers": 40}}"#)
            #expect(mismatch["result"]?["isError"] == .bool(true))
            #expect(MCPWire.texts(mismatch).first?.hasPrefix("payload_mismatch: The payload's digest") == true)
            let verified = try await mcp.callTool(id: 5, "verify_approval", #"{"id": "\#(id)", "payload": {"workers": 20}, "consume": true}"#)
            #expect(verified["result"]?["isError"] == .bool(false))
            #expect(MCPWire.texts(verified).first?.hasPrefix("VERIFIED and CONSUMED \(id)") == true)
            let again = try await mcp.callTool(id: 6, "verify_approval", #"{"id": "\#(id)", "payload": {"workers": 20}, "consume": true}"#)
            #expect(MCPWire.texts(again).first?.hasPrefix("already_consumed:") == true)
            let kinds = try await env.database.auditEntries().map(\.kind)
            #expect(kinds.contains("consumed"))
        }
    }

    @Test("request_permission answers allow with the approved input, deny with the reason, and deny naming a request still pending after mcp_permission_wait")
    func requestPermissionShapes() async throws {
        var configuration = GatehouseConfiguration()
        configuration.mcpPermissionWait = 45
        try await Self.withSession(configuration: configuration) { env, client, mcp in
            let input = #"{"command": "rm -rf build/"}"#
            for (round, decision) in [
                #"{"outcome":"modify","as":"alice","payload":{"command":"rm -rf build/tmp"}}"#,
                #"{"outcome":"reject","as":"alice","reason":"not on main"}"#,
            ].enumerated() {
                let call = try await mcp.send(id: 10 + round, "tools/call", params: #"""
                    {"name": "request_permission", "_meta": {"progressToken": \#(round)},
                     "arguments": {"tool_name": "Bash", "input": \#(input), "tool_use_id": "toolu_\#(round)"}}
                    """#)
                let progress = try await MCPWire.next(on: call, containing: "notifications/progress")
                #expect(progress["params"]?["total"] == .number(45))
                let id = try #require(progress["params"]?["message"]?.stringValue?.firstMatch(of: /apr_[A-Za-z0-9_-]+/).map { String($0.output) })
                let filed = try await client.call(.get, "/v1/approvals/\(id)", key: env.requestKey)
                #expect(filed["action"] == .string("Run Bash"))
                #expect(filed["payload"] == .object(input))
                _ = try await client.call(.post, "/v1/approvals/\(id)/decision", key: env.decideKey, body: decision)
                let answer = try JSONValue.parse(try #require(MCPWire.texts(try await MCPWire.next(on: call, containing: #""result""#)).first))
                await call.close()
                if round == 0 {
                    #expect(answer == .object(#"{"behavior":"allow","updatedInput":{"command":"rm -rf build/tmp"}}"#))
                    let used = try await client.call(.get, "/v1/approvals/\(id)", key: env.requestKey)
                    #expect(used["consumed_at"] != .null)
                } else {
                    #expect(answer["behavior"] == .string("deny"))
                    #expect(answer["message"]?.stringValue?.contains("rejected by alice; reason: not on main") == true)
                }
            }

            let call = try await mcp.send(id: 20, "tools/call", params: #"""
                {"name": "request_permission", "arguments": {"tool_name": "Write", "input": {"file_path": "/tmp/x"}}}
                """#)
            try await withTimeout { await env.longPolls.whenCount { $0 == 1 } }
            env.clock.advance(by: 45)
            let answer = try JSONValue.parse(try #require(MCPWire.texts(try await MCPWire.next(on: call, containing: #""result""#)).first))
            await call.close()
            #expect(answer["behavior"] == .string("deny"))
            #expect(answer["message"]?.stringValue?.contains("is still pending: nobody decided within 45 s") == true)
            #expect(answer["message"]?.stringValue?.contains("apr_") == true)
        }
    }

    @Test("bad arguments are a tool error with the API's code and message, and file nothing")
    func badArgumentsFileNothing() async throws {
        try await Self.withSession { env, client, mcp in
            for (id, (tool, arguments, start)) in [
                ("request_approval", #"{"action": "No payload"}"#, "invalid_field: `payload`"),
                ("request_approval", #"{"action": "x", "payload": {"cents": 12345678901234567891}}"#, "invalid_field: The number at `payload.cents`"),
                ("request_approval", #"{"action": "x", "payload": {"rate": 0.30000000000000000001}}"#, "invalid_field: The number at `payload.rate`, 0.30000000000000000001,"),
                ("verify_approval", #"{"id": "apr_x", "payload": {"legs": [1, 9007199254740993]}}"#, "invalid_field: The number at `payload.legs[1]`"),
                ("request_approval", #"{"action": "x", "payload": {}, "wait_seconds": 5000}"#, "invalid_field: `wait_seconds`"),
                ("request_approval", #"{"action": "x", "payload": {}, "risk": "extreme"}"#, "invalid_field: `risk`"),
                ("get_approval", #"{"id": "apr_nobodyhasthisid000000"}"#, "not_found: No approval with that id."),
                ("no_such_tool", "{}", "invalid_field: There is no tool named `no_such_tool`"),
            ].enumerated() {
                let result = try await mcp.callTool(id: 10 + id, tool, arguments)
                #expect(result["result"]?["isError"] == .bool(true), "\(tool) \(arguments)")
                #expect(MCPWire.texts(result).first?.hasPrefix(start) == true, "\(MCPWire.texts(result))")
            }
            let listed = try await client.call(.get, "/v1/approvals", key: env.adminKey)
            #expect(listed["approvals"] == .array([]))
        }
    }

    @Test("a missing or bad key gets 401 with the API's error shape; a session and its requests belong to one key")
    func keysAndSessions() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            for key in [nil, "not-a-key"] {
                let mcp = MCPWire(port: client.port!, key: key)
                let refused = try await mcp.answer(id: 1, "initialize", params: MCPWire.initializeParams)
                #expect(refused.status == 401)
                #expect(try JSONValue.parse(refused.body)["error"]?["code"] == .string("unauthorized"))
            }

            var mine = MCPWire(port: client.port!, key: env.requestKey)
            _ = try await mine.initialize()
            var theirs = MCPWire(port: client.port!, key: env.otherRequestKey)
            theirs.session = mine.session
            let borrowed = try await theirs.answer(id: 2, "tools/list", params: "{}")
            #expect(borrowed.status == 404)

            let other = try await client.createApproval(key: env.otherRequestKey)
            let hidden = try await mine.callTool(id: 3, "get_approval", #"{"id": "\#(other.id)"}"#)
            #expect(MCPWire.texts(hidden).first == "not_found: No approval with that id.")

            let noSession = try await MCPWire(port: client.port!, key: env.requestKey).answer(id: 4, "tools/list", params: "{}")
            #expect(noSession.status == 400)
            let get = try await client.call(.get, "/mcp", key: env.requestKey)
            #expect(get.status == .methodNotAllowed)
        }
    }
}

/// A client of `/mcp` over raw connections: one connection per POST, so a held call can be read while others go on.
struct MCPWire {
    let port: Int
    let key: String?
    var session: String?

    init(port: Int, key: String?) {
        self.port = port
        self.key = key
    }

    static let initializeParams = #"{"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}"#

    /// Initializes a session and keeps its id.
    mutating func initialize() async throws -> (head: String, result: JSONValue) {
        let connection = try await send(id: 1, "initialize", params: Self.initializeParams)
        let text = try await withTimeout { try await connection.read(until: #""result""#) }
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        session = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("mcp-session-id:") }
            .map { String($0.dropFirst("mcp-session-id:".count)).trimmingCharacters(in: .whitespaces) }
        let result = try Self.message(in: text + (try await Self.rest(of: text, on: connection)), containing: #""result""#)
        await connection.close()
        _ = try await answer(notification: "notifications/initialized", params: "{}")
        return (head, result)
    }

    /// POSTs a request; its answer is read from the returned connection.
    func send(id: Int, _ method: String, params: String) async throws -> RawHTTPConnection {
        try await post(#"{"jsonrpc": "2.0", "id": \#(id), "method": "\#(method)", "params": \#(params)}"#)
    }

    func send(notification method: String, params: String) async throws -> RawHTTPConnection {
        try await post(#"{"jsonrpc": "2.0", "method": "\#(method)", "params": \#(params)}"#)
    }

    /// The whole answer to a request that is answered at once (a refusal), on a connection then closed.
    func answer(id: Int, _ method: String, params: String) async throws -> RawHTTPConnection.Answer {
        let connection = try await send(id: id, method, params: params)
        defer { Task { await connection.close() } }
        return try await connection.readAnswer()
    }

    func answer(notification method: String, params: String) async throws -> RawHTTPConnection.Answer {
        let connection = try await send(notification: method, params: params)
        defer { Task { await connection.close() } }
        return try await connection.readAnswer()
    }

    /// Sends a request and reads its result.
    func call(id: Int, _ method: String, params: String) async throws -> JSONValue {
        let connection = try await send(id: id, method, params: params)
        defer { Task { await connection.close() } }
        return try await Self.next(on: connection, containing: #""result""#)
    }

    func callTool(id: Int, _ name: String, _ arguments: String) async throws -> JSONValue {
        try await call(id: id, "tools/call", params: #"{"name": "\#(name)", "arguments": \#(arguments)}"#)
    }

    private func post(_ body: String) async throws -> RawHTTPConnection {
        let connection = try await RawHTTPConnection.connect(port: port)
        var text = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        text += "Accept: application/json, text/event-stream\r\nContent-Length: \(body.utf8.count)\r\n"
        if let key { text += "Authorization: Bearer \(key)\r\n" }
        if let session { text += "Mcp-Session-Id: \(session)\r\n" }
        try await connection.send(text + "\r\n" + body)
        return connection
    }

    /// The next event on `connection` whose data contains `marker`, read whole; a test that never gets it fails.
    static func next(on connection: RawHTTPConnection, containing marker: String) async throws -> JSONValue {
        try await withTimeout {
            let text = try await connection.read(until: marker)
            return try message(in: text + (try await rest(of: text, on: connection)), containing: marker)
        }
    }

    /// What is still to come of the event that `text` holds the start of.
    private static func rest(of text: String, on connection: RawHTTPConnection) async throws -> String {
        guard let line = text.components(separatedBy: "data: ").last, !line.contains("\n") else { return "" }
        return try await connection.read(until: "\n")
    }

    private static func message(in text: String, containing marker: String) throws -> JSONValue {
        let lines = text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") && $0.contains(marker) }
        guard let line = lines.first else { throw MCPWireError.noEvent(marker, text) }
        return try JSONValue.parse(String(line.dropFirst("data: ".count)))
    }

    /// The texts of a tool result.
    static func texts(_ message: JSONValue) -> [String] {
        message["result"]?["content"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
    }
}

enum MCPWireError: Error {
    case noEvent(String, String)
}
