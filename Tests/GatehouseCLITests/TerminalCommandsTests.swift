import ApprovalCore
import ArgumentParser
import BuildInfo
import Foundation
@testable import GatehouseCLI
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import ServerTestSupport
import Storage
import Testing

/// Finding and managing requests from the terminal: list, show, cancel, decide modify, and what a timed-out wait says.
@Suite("Command line: list, show, cancel, modify")
struct TerminalCommandsTests {
    @Test("list prints a table of pending requests (id, age, risk, action, requester, level, deadline), filters by gate and --mine, or JSON")
    func list() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let deploy = try await client.createApproval(
                key: env.requestKey, action: "Deploy api", extra: #","gate":"deploy","risk":"high","requester":"agent:ci""#)
            env.clock.advance(by: 300)
            let other = try await client.createApproval(key: env.otherRequestKey, action: "Rotate keys", extra: #","gate":"ops""#)
            let done = try await client.createApproval(key: env.requestKey, action: "Old one")
            _ = try await client.call(.post, "/v1/approvals/\(done.id)/cancel", key: env.requestKey, body: "{}")
            let now = env.clock.now

            let table = CapturedTerminal()
            #expect(await ListCommand.run(
                status: "pending", gate: nil, mine: false, json: false, limit: 50,
                client: TestEnvironment.client(client.port, key: env.adminKey), terminal: table.terminal, now: now) == 0)
            #expect(table.out.count == 3)
            #expect(table.out[0].hasPrefix("ID "))
            for column in ["AGE", "RISK", "ACTION", "REQUESTER", "STATUS", "DEADLINE"] { #expect(table.out[0].contains(column)) }
            let deployRow = try #require(table.out.first { $0.hasPrefix(deploy.id.rawValue) })
            #expect(deployRow.contains("5m"))
            #expect(deployRow.contains("high"))
            #expect(deployRow.contains("Deploy api"))
            #expect(deployRow.contains("agent:ci"))
            #expect(deployRow.contains("pending 1/1"))
            #expect(deployRow.contains("in "))
            #expect(!table.out.joined().contains("Old one"))
            // Columns line up: every row has its action where the header has ACTION.
            let actionColumn = try #require(table.out[0].range(of: "ACTION")).lowerBound.utf16Offset(in: table.out[0])
            #expect(deployRow.utf16.count > actionColumn)

            let byGate = CapturedTerminal()
            _ = await ListCommand.run(
                status: "pending", gate: "ops", mine: false, json: true, limit: 50,
                client: TestEnvironment.client(client.port, key: env.adminKey), terminal: byGate.terminal, now: now)
            #expect(byGate.out.map { try? JSONValue.parse($0)["id"]?.stringValue } == [other.id.rawValue])

            let mine = CapturedTerminal()
            _ = await ListCommand.run(
                status: "all", gate: nil, mine: true, json: true, limit: 50,
                client: TestEnvironment.client(client.port, key: env.requestKey), terminal: mine.terminal, now: now)
            #expect(Set(mine.out.compactMap { try? JSONValue.parse($0)["id"]?.stringValue }) == [deploy.id.rawValue, done.id.rawValue])

            let none = CapturedTerminal()
            _ = await ListCommand.run(
                status: "rejected", gate: nil, mine: false, json: false, limit: 50,
                client: TestEnvironment.client(client.port, key: env.adminKey), terminal: none.terminal, now: now)
            #expect(none.out.isEmpty)
            #expect(none.err == ["No rejected requests."])
        }
    }

    @Test("show prints every field, the decision and the request's audit trail; a request key cannot see another's request")
    func show() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","reasoning":"Fixes checkout""#)
            _ = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","as":"lee","reason":"wrong commit"}"#)
            let shown = CapturedTerminal()
            #expect(await ShowCommand.run(
                id: created.id.rawValue, json: false, client: TestEnvironment.client(client.port, key: env.requestKey), terminal: shown.terminal) == 0)
            let text = shown.out.joined(separator: "\n")
            for expected in [created.id.rawValue, "rejected", "Fixes checkout", "wrong commit", "by lee (key:", "audit trail (2 entries)", "created", "decided"] {
                #expect(text.contains(expected), "\(expected)")
            }
            let json = CapturedTerminal()
            _ = await ShowCommand.run(
                id: created.id.rawValue, json: true, client: TestEnvironment.client(client.port, key: env.requestKey), terminal: json.terminal)
            let object = try JSONValue.parse(try #require(json.out.first))
            #expect(object["approval"]?["id"] == .string(created.id.rawValue))
            #expect(object["audit"]?.arrayValue?.map { $0["kind"] } == [.string("created"), .string("decided")])

            let stranger = CapturedTerminal()
            #expect(await ShowCommand.run(
                id: created.id.rawValue, json: false, client: TestEnvironment.client(client.port, key: env.otherRequestKey),
                terminal: stranger.terminal) == 1)
            #expect(stranger.err.last?.contains("not_found") == true)
            let audit = try await client.call(.get, "/v1/approvals/\(created.id)/audit", key: env.otherRequestKey)
            #expect(audit.status == .notFound)
        }
    }

    @Test("cancel withdraws a pending request with its reason; decide modify approves an edited payload from JSON or @FILE")
    func cancelAndModify() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let first = try await client.createApproval(key: env.requestKey)
            let cancelled = CapturedTerminal()
            #expect(await CancelCommand.run(
                id: first.id.rawValue, reason: "superseded", client: TestEnvironment.client(client.port, key: env.requestKey),
                terminal: cancelled.terminal) == 0)
            #expect(try await env.database.approval(first.id)?.status == .cancelled)
            #expect(try await env.database.approval(first.id)?.decision?.reason == "superseded")
            let again = CapturedTerminal()
            #expect(await CancelCommand.run(
                id: first.id.rawValue, reason: nil, client: TestEnvironment.client(client.port, key: env.requestKey), terminal: again.terminal) == 1)
            #expect(again.err.last?.contains("already_decided") == true)

            let second = try await client.createApproval(key: env.requestKey)
            let file = env.directory.path("edited.json")
            try Data(#"{"service":"api","environment":"production","commit":"9e1b7d0"}"#.utf8).write(to: URL(fileURLWithPath: file))
            let command = try DecideCommand.parse([second.id.rawValue, "modify", "--as", "lee", "--payload", "@" + file, "--key", "k"])
            let modified = CapturedTerminal()
            #expect(await DecideCommand.run(
                id: second.id.rawValue, outcome: "modify", reason: nil, decider: "lee", payload: try command.payload.map(PayloadArgument.value),
                client: TestEnvironment.client(client.port, key: env.decideKey), terminal: modified.terminal) == 0)
            let decided = try #require(try await env.database.approval(second.id))
            #expect(decided.status == .modified)
            #expect(decided.decision?.payload == .object(#"{"service":"api","environment":"production","commit":"9e1b7d0"}"#))

            // Over the API: modify without a payload, or with one that is not an object, changes nothing.
            let third = try await client.createApproval(key: env.requestKey)
            let bare = try await client.call(
                .post, "/v1/approvals/\(third.id)/decision", key: env.decideKey, body: #"{"outcome":"modify","as":"lee"}"#)
            #expect(bare.status == .unprocessableContent)
            let list = try await client.call(
                .post, "/v1/approvals/\(third.id)/decision", key: env.decideKey, body: #"{"outcome":"modify","as":"lee","payload":[1]}"#)
            #expect(list.status == .unprocessableContent)
            let stray = try await client.call(
                .post, "/v1/approvals/\(third.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"lee","payload":{}}"#)
            #expect(stray.status == .unprocessableContent)
            #expect(try await env.database.approval(third.id)?.status == .pending)
        }
    }

    @Test("a wait that runs out says the request is still pending and how to pick it up again, for request and exec alike")
    func timedOutSentence() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let requested = CapturedTerminal()
            let options = try RequestOptions.parse(["--action", "Deploy api", "--payload", "{}", "--idempotency-key", "deploy-42"])
            #expect(await RequestCommand.run(
                request: options, wait: 0, client: TestEnvironment.client(client.port, key: env.requestKey), terminal: requested.terminal) == 8)
            #expect(requested.err.last?.contains("is still pending after 0 s; to wait for it again, run the same `gatehouse request` with --idempotency-key deploy-42") == true)

            let executed = CapturedTerminal()
            #expect(await ExecCommand.run(
                request: try RequestOptions.parse(["--action", "Drop table", "--payload", "{}"]), wait: 0, command: ["true"],
                client: TestEnvironment.client(client.port, key: env.requestKey), terminal: executed.terminal) == 8)
            let sentence = try #require(executed.err.last)
            #expect(sentence.contains("is still pending after 0 s; to wait for it again, run the same `gatehouse exec` with --idempotency-key exec-"))
            // The key it names picks up the same request.
            let key = try #require(sentence.components(separatedBy: "--idempotency-key ").last?.components(separatedBy: " ").first)
            let again = try await client.call(
                .post, "/v1/approvals", key: env.requestKey, body: #"{"action":"Drop table","payload":{}}"#, headers: [HTTPField.Name("Idempotency-Key")!: key])
            #expect(again.status == .ok)
            #expect(try await env.database.countsByStatus()[.pending] == 2)
        }
    }

    @Test("an empty or path-like approval id is refused before anything is sent, by decide, show and cancel alike")
    func approvalIDArguments() throws {
        for id in ["", " ", "apr_x/decision", "apr_x?wait=5"] {
            #expect(throws: (any Error).self) { try DecideCommand.parse([id, "approve", "--as", "alice", "--key", "gh_x"]) }
            #expect(throws: (any Error).self) { try ShowCommand.parse([id, "--key", "gh_x"]) }
            #expect(throws: (any Error).self) { try CancelCommand.parse([id, "--key", "gh_x"]) }
        }
        _ = try DecideCommand.parse(["apr_x", "approve", "--as", "alice", "--key", "gh_x"])
        _ = try ShowCommand.parse(["apr_x", "--key", "gh_x"])
        _ = try CancelCommand.parse(["apr_x", "--key", "gh_x"])
    }

    @Test("the requester comes from --requester, else GATEHOUSE_REQUESTER; --version names the version and the commit")
    func requesterAndVersion() throws {
        let options = try RequestOptions.parse(["--action", "a", "--payload", "{}"])
        #expect(options.resolvedRequester(environment: ["GATEHOUSE_REQUESTER": "pipeline:gitlab/7"]) == "pipeline:gitlab/7")
        #expect(options.resolvedRequester(environment: [:]) == nil)
        let named = try RequestOptions.parse(["--action", "a", "--payload", "{}", "--requester", "agent:ci"])
        #expect(named.resolvedRequester(environment: ["GATEHOUSE_REQUESTER": "pipeline:gitlab/7"]) == "agent:ci")
        #expect(GatehouseCommand.configuration.version == "gatehouse " + BuildInfo.description)
        let commit = BuildInfo.commit == "unknown" ? "unknown" : String(BuildInfo.commit.prefix(12))
        #expect(BuildInfo.description == "\(BuildInfo.version) (commit \(commit))")
        #expect(BuildInfo.version.split(separator: ".").count == 3)
    }
}
