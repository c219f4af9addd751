import ApprovalCore
import ArgumentParser
import Foundation
@testable import GatehouseCLI
import GatehouseServer
import ServerTestSupport
import HummingbirdTesting
import Storage
import Synchronization
import Testing

/// Captures what a command prints.
final class CapturedTerminal: Sendable {
    private let lines = Mutex<(out: [String], err: [String])>(([], []))
    var out: [String] { lines.withLock { $0.out } }
    var err: [String] { lines.withLock { $0.err } }
    var terminal: Terminal {
        Terminal(out: { line in self.lines.withLock { $0.out.append(line) } }, err: { line in self.lines.withLock { $0.err.append(line) } })
    }
}

@Suite("Command line")
struct CLITests {
    static func options(_ extra: [String] = []) throws -> RequestOptions {
        try RequestOptions.parse(["--action", "Deploy api", "--payload", #"{"service":"api","commit":"4f2a9c1"}"#, "--requester", "agent:ci"] + extra)
    }

    @Test("request prints the new approval; with --wait it exits 0 when approved and 3 when rejected")
    func requestWaitExitCodes() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let plain = CapturedTerminal()
            let code = await RequestCommand.run(request: try Self.options(), wait: nil, client: TestEnvironment.client(client.port, key: env.requestKey), terminal: plain.terminal)
            #expect(code == 0)
            let printed = try JSONValue.parse(try #require(plain.out.last))
            #expect(printed["status"] == .string("pending"))

            for (outcome, expected) in [("approve", Int32(0)), ("reject", 3)] {
                let captured = CapturedTerminal()
                let before = env.longPolls.count
                let options = try Self.options()
                async let exit = RequestCommand.run(
                    request: options, wait: 30, client: TestEnvironment.client(client.port, key: env.requestKey), terminal: captured.terminal)
                try await withTimeout { await env.longPolls.whenCount { $0 != before } }
                let pending = try await env.database.list(ApprovalFilter(status: .pending), limit: 1).approvals[0]
                let decided = await DecideCommand.run(
                    id: pending.id.rawValue, outcome: outcome, reason: "checked", decider: "alice",
                    client: TestEnvironment.client(client.port, key: env.decideKey), terminal: CapturedTerminal().terminal)
                #expect(decided == 0)
                #expect(await exit == expected)
                let final = try JSONValue.parse(try #require(captured.out.last))
                #expect(final["decision"]?["by_name"] == .string("alice"))
            }
        }
    }

    @Test("request --wait exits 8 when still pending, 5 when cancelled, 4 when expired, 1 when the service is unreachable")
    func requestOtherExitCodes() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let timedOut = await RequestCommand.run(
                request: try Self.options(), wait: 0, client: TestEnvironment.client(client.port, key: env.requestKey), terminal: CapturedTerminal().terminal)
            #expect(timedOut == 8)

            let cancelled = try await client.createApproval(key: env.requestKey).id
            _ = try await client.call(.post, "/v1/approvals/\(cancelled)/cancel", key: env.requestKey)
            let expired = try await client.createApproval(key: env.requestKey, extra: #","expires_in":60"#).id
            env.clock.advance(by: 60)
            try await withTimeout {
                try await waitUntil([env.database.commits]) { try await env.database.approval(expired)?.status == .expired }
            }
            let flow = ApprovalFlow(client: TestEnvironment.client(client.port, key: env.requestKey), terminal: CapturedTerminal().terminal)
            for (id, code) in [(cancelled, Int32(5)), (expired, 4)] {
                let state = try await flow.wait(for: .object(["id": .string(id.rawValue), "status": .string("pending")]), seconds: 5)
                #expect(GateExit.forStatus(state["status"]?.stringValue).rawValue == code)
            }
        }
        let unreachable = CapturedTerminal()
        let code = await RequestCommand.run(
            request: try Self.options(), wait: 10, client: TestEnvironment.client(1, key: env.requestKey), terminal: unreachable.terminal)
        #expect(code == 1)
        #expect(unreachable.err.last?.contains("Cannot reach") == true)
    }

    @Test("exec runs the command only after approval, verification and consumption")
    func execRunsOnlyWhenApproved() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let marker = env.directory.path("ran")
        try await env.application().test(.live) { client in
            let captured = CapturedTerminal()
            let before = env.longPolls.count
            // No --requester and no GATEHOUSE_REQUESTER: the request is filed as the key's name.
            let options = try RequestOptions.parse(["--action", "Deploy api", "--payload", #"{"service":"api","commit":"4f2a9c1"}"#])
            async let exit = ExecCommand.run(
                request: options, wait: 30, command: ["sh", "-c", "echo $GATEHOUSE_APPROVAL_ID > \(marker); exit 42"],
                client: TestEnvironment.client(client.port, key: env.requestKey), terminal: captured.terminal)
            try await withTimeout { await env.longPolls.whenCount { $0 != before } }
            let pending = try await env.database.list(ApprovalFilter(status: .pending), limit: 1).approvals[0]
            _ = try await client.call(
                .post, "/v1/approvals/\(pending.id)/decision", key: env.decideKey, body: #"{"outcome":"approve","as":"alice"}"#)
            #expect(await exit == 42)
            let ranWith = try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(ranWith == pending.id.rawValue)
            #expect(pending.requester == "agent")
            #expect(try await env.database.approval(pending.id)?.consumedAt != nil)
        }
    }

    @Test("exec runs nothing when rejected (3), modified (6, printing the new payload) or timed out (8)")
    func execRunsNothingOtherwise() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let marker = env.directory.path("ran")
        let service = env.service
        try await env.application().test(.live) { client in
            let decisions: [(DecisionCommand.Verdict, Int32)] = [(.reject, 3), (.modify(.object(["service": .string("api"), "commit": .string("9e1b7d0")])), 6)]
            for (verdict, expected) in decisions {
                let captured = CapturedTerminal()
                let before = env.longPolls.count
                let options = try Self.options()
                async let exit = ExecCommand.run(
                    request: options, wait: 30, command: ["touch", marker],
                    client: TestEnvironment.client(client.port, key: env.requestKey), terminal: captured.terminal)
                try await withTimeout { await env.longPolls.whenCount { $0 != before } }
                let pending = try await env.database.list(ApprovalFilter(status: .pending), limit: 1).approvals[0]
                // Through the service so the waiters are woken as a Slack decision would wake them.
                let decided = try await service.decide(pending.id, DecisionCommand(verdict, by: .slackUser("U123")))
                env.longPolls.notify(decided)
                #expect(await exit == expected)
                if expected == 6 {
                    #expect(try JSONValue.parse(try #require(captured.out.last)) == .object(#"{"service":"api","commit":"9e1b7d0"}"#))
                }
            }
            let timedOut = await ExecCommand.run(
                request: try Self.options(), wait: 0, command: ["touch", marker],
                client: TestEnvironment.client(client.port, key: env.requestKey), terminal: CapturedTerminal().terminal)
            #expect(timedOut == 8)
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("decide without a decide-scope key fails with the service's reason")
    func decideNeedsScope() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let captured = CapturedTerminal()
            let code = await DecideCommand.run(
                id: created.id.rawValue, outcome: "approve", reason: nil, decider: "alice",
                client: TestEnvironment.client(client.port, key: env.requestKey), terminal: captured.terminal)
            #expect(code == 1)
            #expect(captured.err.last?.contains("forbidden") == true)
        }
    }

    @Test("the payload option reads JSON inline or from @FILE and refuses anything but an object")
    func payloadOption() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path("payload.json")
        try #"{"a":[1,2]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try RequestOptions.parse(["--action", "x", "--payload", "@\(file)"]).payloadValue() == .object(#"{"a":[1,2]}"#))
        #expect(throws: (any Error).self) { try RequestOptions.parse(["--action", "x", "--payload", "[1]"]).payloadValue() }
        #expect(throws: (any Error).self) { try RequestOptions.parse(["--action", "x", "--payload", "{"]).payloadValue() }
        #expect(throws: (any Error).self) { try RequestOptions.parse(["--action", "x", "--payload", "@/nonexistent"]).payloadValue() }
    }

    @Test("a payload file that can be read only once, like a pipe, is read once: when the request is filed", .timeLimit(.minutes(1)))
    func payloadFromPipe() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fifo = dir.path("payload.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let options = try RequestOptions.parse(["--action", "x", "--payload", "@\(fifo)"])
        let writer = Thread {
            let handle = FileHandle(forWritingAtPath: fifo)
            handle?.write(Data(#"{"service":"api"}"#.utf8))
            try? handle?.close()
        }
        writer.start()
        #expect(try options.body(payload: options.payloadValue())["payload"] == .object(["service": .string("api")]))
    }

    @Test("audit export writes JSON lines and CSV that quotes and defuses formulas; --since takes ages and times")
    func auditExportFormats() throws {
        let entry = AuditEntry(
            seq: 3, at: Date(timeIntervalSince1970: 1_795_309_200), kind: "decided", approvalID: "apr_x", actor: "=cmd",
            details: .object(["reason": .string("a, \"quoted\" reason")]), prevHash: String(repeating: "0", count: 64),
            hash: String(repeating: "a", count: 64))
        let line = try JSONValue.parse(AuditExport.jsonLine(entry))
        #expect(line["seq"] == .number(3))
        #expect(line["at"] == .string("2026-11-22T01:00:00Z"))
        let csv = AuditExport.csv(entry)
        #expect(csv.hasPrefix("3,2026-11-22T01:00:00Z,decided,apr_x,'=cmd,"))
        #expect(csv.contains(#""{""reason"":""a, \""quoted\"" reason""}""#))
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(AuditExport.parseSince("24h", now: now) == now.addingTimeInterval(-86_400))
        #expect(AuditExport.parseSince("90m", now: now) == now.addingTimeInterval(-5400))
        #expect(AuditExport.parseSince("2026-11-22T01:00:00Z", now: now) == Date(timeIntervalSince1970: 1_795_309_200))
        #expect(AuditExport.parseSince("yesterday", now: now) == nil)
    }

    @Test("exec files nothing when its command does not exist, so no approval is used up on a typo")
    func execRefusesMissingCommand() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let captured = CapturedTerminal()
            let code = await ExecCommand.run(
                request: try Self.options(), wait: 30, command: ["./no-such-deploy.sh", "api"],
                client: TestEnvironment.client(client.port, key: env.requestKey), terminal: captured.terminal)
            #expect(code == 1)
            #expect(captured.err.last?.contains("nothing was requested") == true)
        }
        #expect(try await env.database.countsByStatus().isEmpty)
    }

    @Test("commands that read the database, and keys create without --create, refuse a missing file with one sentence, exit 1")
    func readCommandsNeedTheDatabase() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let missing = dir.path("nope.sqlite")
        let verify = try AuditCommand.Verify.parse(["--db", missing])
        let verifyError = await #expect(throws: CommandFailure.self) { try await verify.run() }
        #expect(verifyError?.description.contains("No database at '\(missing)'") == true)
        let list = try KeysCommand.List.parse(["--db", missing])
        let listError = await #expect(throws: CommandFailure.self) { try await list.run() }
        // A key made where no database is would be made for no service: refused the same way, unless --create.
        let create = try KeysCommand.Create.parse(["ci", "--db", missing])
        let createError = await #expect(throws: CommandFailure.self) { try await create.run(as: .cli("tester"), terminal: CapturedTerminal().terminal) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        for error in [verifyError, listError, createError] { #expect(error?.description.hasPrefix("No database at '\(missing)'") == true) }
        #expect(createError?.description.contains("add --create to make a new one") == true)
        let created = CapturedTerminal()
        try await KeysCommand.Create.parse(["ci", "--create", "--db", missing]).run(as: .cli("tester"), terminal: created.terminal)
        #expect(FileManager.default.fileExists(atPath: missing))
        #expect(created.out.count == 1)
        // A failure, not a usage mistake: printed without the usage text, exit status 1.
        #expect(GatehouseCommand.fullMessage(for: CommandFailure("No database"), columns: 300) == "Error: No database")
        #expect(GatehouseCommand.exitCode(for: CommandFailure("No database")) == .failure)
    }

    @Test("argument mistakes are reported with the usage of the subcommand they were made on, exit status 64")
    func mistakesShowTheSubcommandsUsage() throws {
        let cases: [([String], String, String)] = [
            (["keys", "create", "ci", "--scope", "root"], "--scope must be request, decide or admin.", "gatehouse keys create"),
            (["decide", "apr_x", "maybe", "--as", "alice", "--key", "k"], "The outcome must be approve, reject or modify.", "gatehouse decide"),
            (["decide", "apr_x", "modify", "--as", "alice", "--key", "k"], "modify needs --payload", "gatehouse decide"),
            (["decide", "apr_x", "approve", "--as", "alice", "--key", "k", "--payload", "{}"], "--payload goes only with modify.", "gatehouse decide"),
            (["list", "--status", "done", "--key", "k"], "--status must be all or one of", "gatehouse list"),
            (["decide", "apr_x", "approve", "--as", "alice", "--url", "ftp://x", "--key", "k"], "is not an http(s) URL", "gatehouse decide"),
            (["request", "--action", "a", "--payload", "[1]", "--key", "k"], "--payload must be a JSON object.", "gatehouse request"),
            (["request", "--action", "a", "--payload", #"{"id":12345678901234567891}"#, "--key", "k"],
             "--payload: The number at `payload.id`, 12345678901234567891, cannot be carried exactly", "gatehouse request"),
            (["request", "--action", "a", "--payload", "{}", "--expires-in", "5x", "--key", "k"], "--expires-in '5x'", "gatehouse request"),
            (["exec", "--action", "a", "--payload", "{}", "--key", "k"], "Give the command to run after `--`.", "gatehouse exec"),
            (["audit", "verify", "--expect-head", "5be1"], "--expect-head '5be1' is not a whole hash", "gatehouse audit verify"),
            (["audit", "verify", "--expect-head", String(repeating: "g", count: 64)], "give all 64 hexadecimal characters", "gatehouse audit verify"),
        ]
        for (arguments, message, usage) in cases {
            do {
                _ = try GatehouseCommand.parseAsRoot(arguments)
                Issue.record("\(arguments) was accepted")
            } catch {
                let text = GatehouseCommand.fullMessage(for: error, columns: 300)
                #expect(text.contains(message), "\(arguments): \(text)")
                #expect(GatehouseCommand.exitCode(for: error) == .validationFailure, "\(arguments)")
                #expect(text.contains("Usage: \(usage)"), "\(arguments): \(text)")
                #expect(text.contains("See '\(usage) --help'"), "\(arguments): \(text)")
            }
        }
    }

    @Test("commands that write the database are audited as cli:$USER, else cli:$LOGNAME")
    func cliActor() {
        #expect(CLIActor.current(environment: ["USER": "alice", "LOGNAME": "bob"]).id == "cli:alice")
        #expect(CLIActor.current(environment: ["USER": "", "LOGNAME": "bob"]).id == "cli:bob")
        #expect(CLIActor.current(environment: [:]).id.hasPrefix("cli:"))
    }

    @Test("--expect-head takes a whole hash in either case, as stored")
    func expectHeadIsAWholeHash() throws {
        let hash = String(repeating: "5be1", count: 16)
        #expect(AuditCommand.Verify.normalizedHead(hash) == hash)
        #expect(AuditCommand.Verify.normalizedHead(hash.uppercased()) == hash)
        #expect(AuditCommand.Verify.normalizedHead(" \(hash)\n") == hash)  // as pasted
        #expect(AuditCommand.Verify.normalizedHead(String(hash.dropLast())) == nil)
        #expect(AuditCommand.Verify.normalizedHead(hash + "0") == nil)
        #expect(AuditCommand.Verify.normalizedHead("5be1…") == nil)
        #expect(throws: Never.self) { try AuditCommand.Verify.parse(["--expect-head", hash.uppercased()]) }
    }

    @Test("--expires-in takes whole seconds or a duration")
    func expiresInForms() throws {
        let seconds = try RequestCommand.parse(["--action", "a", "--payload", "{}", "--expires-in", "3600", "--key", "k"])
        #expect(try seconds.request.body(payload: .object([:]))["expires_in"] == .number(3600))
        let duration = try RequestCommand.parse(["--action", "a", "--payload", "{}", "--expires-in", "1h30m", "--key", "k"])
        #expect(try duration.request.body(payload: .object([:]))["expires_in"] == .number(5400))
    }
}
