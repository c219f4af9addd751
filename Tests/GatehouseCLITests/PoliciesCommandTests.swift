import ApprovalCore
import ArgumentParser
import Foundation
@testable import GatehouseCLI
import ServerTestSupport
import Storage
import Testing

@Suite("gatehouse policies apply, export and test")
struct PoliciesCommandTests {
    static let example = ChainsCommandTests.repositoryRoot.appendingPathComponent("config/policies.example.yaml").path

    @Test("the example applies, audited as config_changed; its export applies back unchanged and parses to the same set")
    func roundTrip() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let database = try DatabaseOptions.parse(["--db", env.databasePath])
        let applied = CapturedTerminal()
        #expect(await PoliciesCommand.Apply.run(file: Self.example, database: database, dryRun: false, actor: .cli("ops"), terminal: applied.terminal) == 0)
        #expect(applied.out.last == "applied: 7 added, 0 changed, 0 unchanged, 0 removed")
        let stored = try await env.database.policies()
        #expect(stored == (try PoliciesFile.parse(Data(contentsOf: URL(fileURLWithPath: Self.example)))))
        #expect(stored.rules.map(\.name) == ["docs-low", "staging", "big-spend", "first-time-prod"])
        #expect(try await env.database.auditEntries(approvalID: nil).contains { $0.kind == "config_changed" && $0.actor == "cli:ops" })

        let exported = CapturedTerminal()
        #expect(await PoliciesCommand.Export.run(database: database, terminal: exported.terminal) == 0)
        let text = exported.out.joined(separator: "\n") + "\n"
        #expect(try PoliciesFile.parse(text) == stored)
        let again = CapturedTerminal()
        #expect(await PoliciesCommand.Apply.run(
            file: "-", database: database, dryRun: false, actor: .cli("ops"), terminal: again.terminal, standardInput: { Data(text.utf8) }) == 0)
        #expect(again.out.last == "applied: 0 added, 0 changed, 7 unchanged, 0 removed")
    }

    @Test("a file with problems is refused whole: each problem at FILE:LINE:COL with its path, exit 65, nothing changed")
    func problems() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let text = """
            roles:
              lead: {users: [U1]}
            policies:
              - name: x
                when: {risk: hgh, payload: {cost: {gtt: 5}}}
                then: notify
                window: 5x
              - name: y
                then: require
                roles: [ghost]
            """
        let captured = CapturedTerminal()
        let code = await PoliciesCommand.Apply.run(
            file: "-", database: try DatabaseOptions.parse(["--db", env.databasePath]), dryRun: false, actor: .cli("ops"),
            terminal: captured.terminal, standardInput: { Data(text.utf8) })
        #expect(code == 65)
        #expect(captured.err.contains { $0.hasPrefix("<stdin>:5:18: policies[0].when.risk: `hgh` is not a risk") })
        #expect(captured.err.contains { $0.hasPrefix("<stdin>:5:40: policies[0].when.payload.cost: `gtt` is not a test; did you mean `gt`?") })
        #expect(captured.err.contains { $0.hasPrefix("<stdin>:7:13: policies[0].window: `5x` is not a duration") })
        #expect(captured.err.last == "gatehouse: 3 problems in <stdin>; nothing was changed.")
        #expect(try await env.database.policies() == .empty)

        // Once the file reads, the rules that need the whole set are checked: an unknown role, with its line.
        let second = CapturedTerminal()
        let unknownRole = text.replacingOccurrences(of: "risk: hgh, payload: {cost: {gtt: 5}}", with: "risk: low")
            .replacingOccurrences(of: "window: 5x", with: "window: 5m")
        #expect(await PoliciesCommand.Apply.run(
            file: "-", database: try DatabaseOptions.parse(["--db", env.databasePath]), dryRun: false, actor: .cli("ops"),
            terminal: second.terminal, standardInput: { Data(unknownRole.utf8) }) == 65)
        #expect(second.err.contains { $0.hasPrefix("<stdin>:10:12: policies[1].roles: `ghost` is not a role defined under `roles:`") })
        #expect(try await env.database.policies() == .empty)
    }

    @Test("policies test names the rule a request body matches and why the ones before it did not; a bad body is refused")
    func test() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let database = try DatabaseOptions.parse(["--db", env.databasePath])
        _ = await PoliciesCommand.Apply.run(file: Self.example, database: database, dryRun: false, actor: .cli("ops"), terminal: CapturedTerminal().terminal)
        let captured = CapturedTerminal()
        let body = #"{"action":"Buy","payload":{"cost":1500},"risk":"high","gate":"purchases"}"#
        #expect(await PoliciesCommand.Test.run(
            request: "-", file: nil, database: database, terminal: captured.terminal, standardInput: { Data(body.utf8) }) == 0)
        #expect(captured.out == [
            "skipped docs-low: gate is `purchases`, not `docs`",
            "skipped staging: gate is `purchases`, not `deploy`",
            "matched big-spend",
            "→ big-spend: when payload: {cost: {gt: 1000}} → require 2 (lead, director) via spend",
        ])
        let bad = CapturedTerminal()
        #expect(await PoliciesCommand.Test.run(
            request: "-", file: nil, database: database, terminal: bad.terminal, standardInput: { Data(#"{"action":"x","payload":{},"risk":"hgh"}"#.utf8) }) == 65)
        #expect(bad.err == ["gatehouse: -: `risk` must be one of low, medium, high, critical."])
    }
}
