import ApprovalCore
import ArgumentParser
import Foundation
@testable import GatehouseCLI
import ServerTestSupport
import Storage
import Testing

@Suite("gatehouse chains export and apply")
struct ChainsCommandTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// What a command printed and returned.
    struct Run {
        var code: Int32
        var out: [String]
        var err: [String]
    }

    /// Everything a refused apply must leave as it was.
    struct State: Equatable {
        var chains: [EscalationChain]
        var audit: [AuditEntry]

        init(_ env: TestEnvironment) async throws {
            chains = try await env.database.chains()
            audit = try await env.database.auditEntries()
        }
    }

    static let docs = EscalationChain(
        name: "docs", levels: [EscalationChain.Level(approvers: [.user("U03WRITER")], sla: 3600)], finalAction: .approve)
    static let old = EscalationChain(
        name: "old", levels: [EscalationChain.Level(approvers: [.group("S0OLD")], sla: 600)], finalAction: .hold)

    static func apply(
        _ yaml: String, in env: TestEnvironment, prune: Bool = false, dryRun: Bool = false, database: String? = nil
    ) async throws -> Run {
        let file = env.directory.path("chains-\(UUID().uuidString).yaml")
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return try await applyFile(file, in: env, prune: prune, dryRun: dryRun, database: database)
    }

    static func applyFile(
        _ file: String, in env: TestEnvironment, prune: Bool = false, dryRun: Bool = false, database: String? = nil,
        standardInput: () -> Data = { Data() }
    ) async throws -> Run {
        let captured = CapturedTerminal()
        let code = await ChainsCommand.Apply.run(
            file: file, database: try DatabaseOptions.parse(["--db", database ?? env.databasePath]), prune: prune, dryRun: dryRun,
            actor: .cli("alice"), terminal: captured.terminal, standardInput: standardInput)
        return Run(code: code, out: captured.out, err: captured.err)
    }

    static func export(_ env: TestEnvironment, database: String? = nil) async throws -> Run {
        let captured = CapturedTerminal()
        let code = await ChainsCommand.Export.run(
            database: try DatabaseOptions.parse(["--db", database ?? env.databasePath]), terminal: captured.terminal)
        return Run(code: code, out: captured.out, err: captured.err)
    }

    // MARK: Export

    @Test("export of an empty database prints a header saying how to apply it, then `chains: []`")
    func exportEmpty() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let run = try await Self.export(env)
        #expect(run.code == 0)
        #expect(run.err.isEmpty)
        let text = run.out.joined(separator: "\n")
        #expect(text.hasPrefix("#"))
        #expect(text.contains("gatehouse chains apply"))
        #expect(text.hasSuffix("\nchains: []"))
        #expect(try ChainsFile.parse(text).isEmpty)
    }

    @Test("export prints every chain sorted by name, in the documented form, durations as ChainDuration writes them")
    func exportPopulated() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let deploy = EscalationChain(
            name: "deploy-prod",
            levels: [
                EscalationChain.Level(approvers: [.user("U012ABCDEF"), .user("U02BCDEFGH"), .group("S0SREONCALL")], sla: 1800),
                EscalationChain.Level(approvers: [.group("S0SREONCALL")], sla: 3600),
            ])
        let slow = EscalationChain(
            name: "slow", levels: [EscalationChain.Level(approvers: [.user("W0ENTERPRISE")], sla: 2 * 86_400 + 90)], finalAction: .hold)
        _ = try await env.configuration().applyChains([slow, deploy, Self.docs], pruning: false, by: .system("test"))

        let run = try await Self.export(env)
        #expect(run.code == 0)
        let body = run.out.joined(separator: "\n").split(separator: "\n").drop { $0.hasPrefix("#") }.joined(separator: "\n")
        #expect(
            body == """
                chains:
                  - name: deploy-prod
                    levels:
                      - users: [U012ABCDEF, U02BCDEFGH]
                        groups: [S0SREONCALL]
                        sla: 30m
                      - groups: [S0SREONCALL]
                        sla: 1h
                    then: reject
                  - name: docs
                    levels:
                      - users: [U03WRITER]
                        sla: 1h
                    then: approve
                  - name: slow
                    levels:
                      - users: [W0ENTERPRISE]
                        sla: 2d1m30s
                    then: hold
                """)
    }

    @Test("export refuses a missing database file instead of creating an empty one")
    func exportNeedsTheDatabase() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let missing = env.directory.path("nope.sqlite")
        let run = try await Self.export(env, database: missing)
        #expect(run.code == ExitCode.validationFailure.rawValue)
        #expect(run.out.isEmpty)
        #expect(run.err.joined().contains("No database at '\(missing)'"))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    // MARK: Round trip

    @Test("applying an export changes nothing, even for chains set in another order or with names YAML would misread")
    func roundTrip() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let level = EscalationChain.Level(approvers: [.user("U1")], sla: 60)
        let chains = [
            // As `/gatehouse chain set mixed @sre @alice 30m` stores it: a group before a user.
            EscalationChain(
                name: "mixed",
                levels: [
                    EscalationChain.Level(approvers: [.group("S0SRE"), .user("U0ALICE"), .group("S0DBA")], sla: 1800),
                    EscalationChain.Level(approvers: [.user("U0BOB")], sla: 5400),
                ], finalAction: .approve),
            EscalationChain(name: "null", levels: [level]),
            EscalationChain(name: "true", levels: [level]),
            EscalationChain(name: "1.5", levels: [level]),
            EscalationChain(name: "2026-11-22", levels: [level], finalAction: .hold),
            Self.docs,
        ]
        _ = try await env.configuration().applyChains(chains, pruning: false, by: .system("test"))
        let before = try await State(env)

        let exported = try await Self.export(env)
        #expect(exported.code == 0)
        let text = exported.out.joined(separator: "\n")
        #expect(text.contains(#"name: "null""#))
        let run = try await Self.apply(text, in: env, prune: true)
        #expect(run.code == 0)
        #expect(run.err.isEmpty)
        #expect(run.out.dropLast() == chains.map(\.name).sorted().map { "unchanged \($0)" })
        #expect(run.out.last == "applied: 0 added, 0 changed, \(chains.count) unchanged, 0 deleted")
        #expect(try await State(env) == before)
        #expect(Set(try ChainsFile.parse(text).map(\.name)) == Set(chains.map(\.name)))
    }

    // MARK: Applying

    @Test("apply adds and changes chains, keeps the ones not in the file, and --prune deletes them, one line each")
    func applyAddsChangesPrunes() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        _ = try await env.configuration().applyChains([Self.docs, Self.old], pruning: false, by: .system("test"))
        let file = """
            # comments allowed
            chains:
              - name: deploy-prod
                levels:
                  - users: [U012ABCDEF, U02BCDEFGH]
                    groups: [S0SREONCALL]
                    sla: 30m
                  - groups: [S0SREONCALL]
                    sla: 1h
                then: reject          # reject (default) | approve | hold
              - name: docs
                levels:
                  - users: [U03WRITER]
                    sla: 1h30m
                then: approve
            """

        let first = try await Self.apply(file, in: env)
        #expect(first.code == 0)
        #expect(first.err.isEmpty)
        #expect(
            first.out == [
                "added deploy-prod: U012ABCDEF U02BCDEFGH S0SREONCALL 30m → S0SREONCALL 1h → then reject",
                "changed docs: U03WRITER 90m → then approve (was U03WRITER 1h → then approve)",
                "kept 1 not in the file: old (--prune deletes them)",
                "applied: 1 added, 1 changed, 0 unchanged, 0 deleted",
            ])
        #expect(try await env.database.chains().map(\.name) == ["deploy-prod", "docs", "old"])
        #expect(try await env.database.chain(named: "docs")?.levels.first?.sla == 5400)
        #expect(try await env.database.chain(named: "deploy-prod")?.finalAction == .reject)

        let pruned = try await Self.apply(file, in: env, prune: true)
        #expect(pruned.code == 0)
        #expect(
            pruned.out == [
                "unchanged deploy-prod",
                "unchanged docs",
                "deleted old: S0OLD 10m → then hold",
                "applied: 0 added, 0 changed, 2 unchanged, 1 deleted",
            ])
        #expect(try await env.database.chains().map(\.name) == ["deploy-prod", "docs"])
    }

    @Test("each change is audited as config_changed by cli:<user>; unchanged chains are not")
    func applyAudits() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        _ = try await env.configuration().applyChains([Self.docs, Self.old], pruning: false, by: .system("test"))
        let auditBefore = try await env.database.auditEntries().count
        let run = try await Self.apply(
            """
            chains:
              - name: docs
                levels: [{users: [U03WRITER], sla: 2h}]
                then: approve
              - name: fresh
                levels: [{groups: [S0FRESH], sla: 5m}]
              - name: old
                levels: [{groups: [S0OLD], sla: 10m}]
                then: hold
            """, in: env, prune: true)
        #expect(run.code == 0)
        #expect(run.out.last == "applied: 1 added, 1 changed, 1 unchanged, 0 deleted")
        let added = try await env.database.auditEntries().dropFirst(auditBefore)
        #expect(added.count == 2)
        #expect(added.allSatisfy { $0.kind == "config_changed" && $0.actor == "cli:alice" })
        #expect(added.map { $0.details["name"] } == [.string("docs"), .string("fresh")])
        #expect(added.map { $0.details["change"] } == [.string("changed"), .string("added")])
        #expect(try await env.database.chain(named: "fresh")?.finalAction == .reject)
    }

    @Test("--dry-run prints what would change and writes nothing; the real apply then prints the same")
    func dryRunWritesNothing() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        _ = try await env.configuration().applyChains([Self.docs, Self.old], pruning: false, by: .system("test"))
        let before = try await State(env)
        let file = """
            chains:
              - name: docs
                levels:
                  - users: [U03WRITER, U04EDITOR]
                    sla: 1h
                then: approve
              - name: new
                levels:
                  - users: [U05NEW]
                    sla: 90s
            """
        let dry = try await Self.apply(file, in: env, prune: true, dryRun: true)
        #expect(dry.code == 0)
        #expect(
            dry.out == [
                "changed docs: U03WRITER U04EDITOR 1h → then approve (was U03WRITER 1h → then approve)",
                "added new: U05NEW 90s → then reject",
                "deleted old: S0OLD 10m → then hold",
                "dry run, nothing written: 1 added, 1 changed, 0 unchanged, 1 deleted",
            ])
        #expect(try await State(env) == before)

        let real = try await Self.apply(file, in: env, prune: true)
        #expect(real.out.dropLast() == dry.out.dropLast())
        #expect(real.out.last == "applied: 1 added, 1 changed, 0 unchanged, 1 deleted")
        #expect(try await env.database.chains().map(\.name) == ["docs", "new"])
    }

    @Test("--dry-run against a database that does not exist yet does not create it; apply does")
    func missingDatabase() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let missing = env.directory.path("new.sqlite")
        let file = "chains:\n  - name: docs\n    levels:\n      - users: [U03WRITER]\n        sla: 1h\n"
        let dry = try await Self.apply(file, in: env, dryRun: true, database: missing)
        #expect(dry.code == 0)
        #expect(dry.out == ["added docs: U03WRITER 1h → then reject", "dry run, nothing written: 1 added, 0 changed, 0 unchanged, 0 deleted"])
        // A mistyped --db looks like a fresh start: the user is told there was no database there.
        #expect(dry.err == ["gatehouse: note: there is no database at '\(missing)' yet, so every chain would be added."])
        #expect(!FileManager.default.fileExists(atPath: missing))

        let real = try await Self.apply(file, in: env, database: missing)
        #expect(real.code == 0)
        #expect(real.err == ["gatehouse: note: there was no database at '\(missing)'; created a new one."])
        let again = try await Self.apply(file, in: env, database: missing)
        #expect(again.err.isEmpty)
        let created = try GatehouseDatabase(path: missing)
        defer { try? created.close() }
        #expect(try await created.chains().map(\.name) == ["docs"])
    }

    @Test("someone listed twice in a level of a chain file is kept once, as with the slash command")
    func duplicateInFile() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let file = "chains:\n  - name: docs\n    levels:\n      - users: [U03WRITER, U04EDITOR, U03WRITER]\n        sla: 1h\n"
        let run = try await Self.apply(file, in: env)
        #expect(run.code == 0)
        #expect(run.out.first == "added docs: U03WRITER U04EDITOR 1h → then reject")
        #expect(try await env.database.chains().first?.levels.first?.approvers == [.user("U03WRITER"), .user("U04EDITOR")])
    }

    @Test("apply notes a then hold chain that would ping every few minutes, on standard error, and applies it")
    func frequentHoldNoted() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let run = try await Self.apply(
            "chains:\n  - name: noisy\n    levels:\n      - users: [U012ABCDEF]\n        sla: 2m\n    then: hold\n"
                + "  - name: calm\n    levels:\n      - users: [U012ABCDEF]\n        sla: 10m\n    then: hold\n",
            in: env)
        #expect(run.code == 0)
        #expect(run.err == ["gatehouse: note: noisy: " + (try #require(try await env.database.chain(named: "noisy")?.cautions.first))])
        #expect(run.err.first?.contains("every 2m until the request expires: 720 pings a day") == true)
        // Applied again, unchanged: no note.
        let again = try await Self.apply(
            "chains:\n  - name: noisy\n    levels:\n      - users: [U012ABCDEF]\n        sla: 2m\n    then: hold\n", in: env)
        #expect(again.err.isEmpty)
    }

    @Test("apply - reads standard input")
    func applyFromStandardInput() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let yaml = "chains:\n  - name: docs\n    levels:\n      - users: [U03WRITER]\n        sla: 1h\n    then: approve\n"
        let run = try await Self.applyFile("-", in: env, standardInput: { Data(yaml.utf8) })
        #expect(run.code == 0)
        #expect(try await env.database.chains() == [Self.docs])

        let bad = try await Self.applyFile("-", in: env, standardInput: { Data("chains:\n  - name: docs\n    levles: []\n".utf8) })
        #expect(bad.code == ChainsCommand.dataError)
        #expect(bad.err.first?.hasPrefix("<stdin>:3:5: chains[0].levles: unknown key `levles`; did you mean `levels`?") == true)
    }

    @Test("a file that cannot be read exits 66 and changes nothing")
    func unreadableFile() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let before = try await State(env)
        let run = try await Self.applyFile(env.directory.path("no-such.yaml"), in: env)
        #expect(run.code == ChainsCommand.noInput)
        #expect(run.err.joined().contains("no-such.yaml"))
        #expect(try await State(env) == before)
    }

    @Test("config/chains.example.yaml applies cleanly, and applying it again changes nothing")
    func exampleFileApplies() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let example = Self.repositoryRoot.appendingPathComponent("config/chains.example.yaml").path
        let first = try await Self.applyFile(example, in: env)
        #expect(first.code == 0)
        #expect(first.err.isEmpty)
        #expect(first.out.last == "applied: 2 added, 0 changed, 0 unchanged, 0 deleted")
        let chains = try await env.database.chains()
        #expect(chains.map(\.name) == ["deploy-prod", "docs"])
        #expect(chains.allSatisfy { (try? $0.validate()) != nil })
        let again = try await Self.applyFile(example, in: env)
        #expect(again.out.last == "applied: 0 added, 0 changed, 2 unchanged, 0 deleted")
    }

    // MARK: Refusals

    /// A file that must be refused, and what the refusal must say.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Appended to a valid file that would change `docs` and add `deploy-prod`, so a partial apply would show.
        var yaml: String
        /// Each must appear in the first problem printed: the location (`LINE:COLUMN: path`) and the words.
        var expected: [String]
        /// Replace the whole file instead of appending.
        var whole = false
    }

    /// Lines 1–8; what a case appends starts on line 9.
    static let validPrefix = """
        chains:
          - name: docs
            levels:
              - users: [U03WRITER]
                sla: 2h
            then: approve
          - name: deploy-prod
            levels:

        """

    @Test(
        "a file with a problem is refused with its location, exit 65, and the database exactly as it was",
        arguments: [
            Refusal(
                testDescription: "unknown key",
                yaml: "      - users: [U012ABCDEF]\n        sal: 30m\n",
                expected: [":10:9: chains[1].levels[0].sal: unknown key `sal`; did you mean `sla`?"]),
            Refusal(
                testDescription: "bad duration",
                yaml: "      - users: [U012ABCDEF]\n        sla: 5x\n",
                expected: [":10:14: chains[1].levels[0].sla: `5x` is not a duration: it has `x`, which is not a unit"]),
            Refusal(
                testDescription: "duration out of range",
                yaml: "      - users: [U012ABCDEF]\n        sla: 31d\n",
                expected: [":10:14: chains[1].levels[0].sla: `31d` is not a duration: it is over 30 days"]),
            Refusal(
                testDescription: "missing sla",
                yaml: "      - users: [U012ABCDEF]\n",
                expected: [":9:9: chains[1].levels[0]: missing `sla`"]),
            Refusal(
                testDescription: "level naming nobody",
                yaml: "      - sla: 30m\n",
                expected: [":9:9: chains[1].levels[0]: names nobody; give it `users`, `groups` or both"]),
            Refusal(
                testDescription: "level with empty lists",
                yaml: "      - users: []\n        groups: []\n        sla: 30m\n",
                expected: [":9:9: chains[1].levels[0]: names nobody"]),
            Refusal(
                testDescription: "empty levels",
                yaml: "      []\n",
                expected: [":9:7: chains[1].levels: is empty; a chain needs at least one level"]),
            Refusal(
                testDescription: "bad user ID",
                yaml: "      - users: [U012ABCDEF, alice]\n        sla: 30m\n",
                expected: [":9:29: chains[1].levels[0].users[1]: `alice` is not a Slack user ID"]),
            Refusal(
                testDescription: "group ID under users",
                yaml: "      - users: [S0SREONCALL]\n        sla: 30m\n",
                expected: [":9:17: chains[1].levels[0].users[0]: `S0SREONCALL` is not a Slack user ID", "goes under `groups`"]),
            Refusal(
                testDescription: "wrong type: levels: 3",
                yaml: "chains:\n  - name: docs\n    levels: 3\n",
                expected: [":3:13: chains[0].levels: expected a list of levels", "found `3`"], whole: true),
            Refusal(
                testDescription: "wrong type: users as text",
                yaml: "      - users: U012ABCDEF\n        sla: 30m\n",
                expected: [":9:16: chains[1].levels[0].users: expected a list of Slack user IDs like `[U012ABCDEF]`"]),
            Refusal(
                testDescription: "wrong type: sla as a list",
                yaml: "      - users: [U012ABCDEF]\n        sla: [30m]\n",
                expected: [":10:14: chains[1].levels[0].sla: expected a duration like `30m`, found a list"]),
            Refusal(
                testDescription: "duplicate name",
                yaml: "      - users: [U012ABCDEF]\n        sla: 30m\n  - name: docs\n    levels: [{users: [U1], sla: 1m}]\n",
                expected: [":11:11: chains[2].name: `docs` is already the name of chains[0] (line 2)"]),
            Refusal(
                testDescription: "bad final action",
                yaml: "      - users: [U012ABCDEF]\n        sla: 30m\n    then: escalate\n",
                expected: [":11:11: chains[1].then: `escalate` is not a final action; use reject, approve or hold"]),
            Refusal(
                testDescription: "bad chain name",
                yaml: "      - users: [U012ABCDEF]\n        sla: 30m\n  - name: Deploy Staging\n    levels: [{users: [U1], sla: 1m}]\n",
                expected: [":11:11: chains[2].name: `Deploy Staging` is not a valid chain name"]),
            Refusal(
                testDescription: "missing name",
                yaml: "      - users: [U012ABCDEF]\n        sla: 30m\n  - levels: [{users: [U1], sla: 1m}]\n",
                expected: [":11:5: chains[2]: missing `name`"]),
            Refusal(
                testDescription: "too many levels",
                yaml: String(repeating: "      - users: [U012ABCDEF]\n        sla: 1m\n", count: 11),
                expected: [":9:7: chains[1].levels: has 11 levels; a chain has at most 10"]),
            Refusal(
                testDescription: "unknown top-level key",
                yaml: "chain:\n  - name: docs\n", expected: [":1:1: chain: unknown key `chain`; did you mean `chains`?"], whole: true),
            Refusal(
                testDescription: "unknown top-level key like no other: the sentence goes on after the semicolon",
                yaml: "owner: ops\nchains: []\n", expected: [":1:1: owner: unknown key `owner`; the top level has `chains`"], whole: true),
            Refusal(
                testDescription: "not YAML at all",
                yaml: "      - users: [U012ABCDEF\n        sla: 30m\n", expected: [":10:", "not valid YAML"]),
            Refusal(
                testDescription: "a tab in the indentation",
                yaml: "chains:\n\t- name: docs\n",
                expected: [":2:1: not valid YAML", "line 2 is indented with a tab, and YAML indents with spaces only"], whole: true),
            Refusal(
                testDescription: "plain text",
                yaml: "deploy-prod needs alice for 30 minutes\n", expected: [":1:1: the file must start with `chains:`"],
                whole: true),
            Refusal(
                testDescription: "empty file",
                yaml: "# nothing here\n", expected: [": the file is empty"], whole: true),
            Refusal(
                testDescription: "chains with nothing under it",
                yaml: "chains:\n", expected: [": chains: is empty; list chains under it"], whole: true),
        ])
    func refusal(_ refusal: Refusal) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        _ = try await env.configuration().applyChains([Self.docs, Self.old], pruning: false, by: .system("test"))
        let before = try await State(env)

        let run = try await Self.apply(refusal.whole ? refusal.yaml : Self.validPrefix + refusal.yaml, in: env, prune: true)
        #expect(run.code == ChainsCommand.dataError)
        #expect(run.out.isEmpty)
        let first = try #require(run.err.first)
        #expect(first.hasPrefix(env.directory.path("chains-")))
        for words in refusal.expected {
            #expect(first.contains(words), "\(first)")
        }
        // Each case has one mistake: one problem line (no echo such as "missing `sla`" after `sal:`), then the total.
        #expect(run.err.count == 2, "\(run.err)")
        #expect(run.err.last?.hasPrefix("gatehouse: 1 problem in ") == true)
        #expect(run.err.last?.hasSuffix("; nothing was changed.") == true)
        #expect(try await State(env) == before)
    }

    @Test("every problem in the file is printed at once, in the order of the file")
    func everyProblemReported() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let run = try await Self.apply(
            """
            chains:
              - name: deploy-prod
                levels:
                  - users: [U012ABCDEF]
                    sla: 5x
                  - groups: [S0SRE]
                    sal: 1h
              - name: deploy-prod
                levels: []
            """, in: env)
        #expect(run.code == ChainsCommand.dataError)
        let located = run.err.dropLast().map { $0.split(separator: " ", maxSplits: 2).dropFirst().first.map(String.init) ?? "" }
        #expect(
            located == [
                "chains[0].levels[0].sla:", "chains[0].levels[1].sal:", "chains[1].name:", "chains[1].levels:",
            ])
        #expect(run.err.last?.hasPrefix("gatehouse: 4 problems in ") == true)
        #expect(try await env.database.chains().isEmpty)
    }

    // MARK: The file format

    @Test("reading: quoted text, flow style, comments, `then` left out, an approver listed twice")
    func parsing() throws {
        let chains = try ChainsFile.parse(
            """
            # a comment
            chains:
              - {name: "null", levels: [{users: ["U1", U1, W2], groups: [S3], sla: '1d12h'}]}   # trailing
              - name: docs
                levels:
                  - groups:
                      - S0DOCS
                    sla: 45s
                then: hold
            """)
        #expect(
            chains == [
                EscalationChain(name: "null", levels: [EscalationChain.Level(approvers: [.user("U1"), .user("W2"), .group("S3")], sla: 129_600)]),
                EscalationChain(name: "docs", levels: [EscalationChain.Level(approvers: [.group("S0DOCS")], sla: 45)], finalAction: .hold),
            ])
    }

    @Test("every command has --help with an example")
    func help() {
        for help in [ChainsCommand.helpMessage(), ChainsCommand.Export.helpMessage(), ChainsCommand.Apply.helpMessage()] {
            #expect(help.contains("Example:"))
            #expect(help.contains("gatehouse chains "))
        }
        #expect(ChainsCommand.Apply.helpMessage().contains("--dry-run"))
        #expect(ChainsCommand.Apply.helpMessage().contains("--prune"))
        #expect(GatehouseCommand.configuration.subcommands.contains { ObjectIdentifier($0) == ObjectIdentifier(ChainsCommand.self) })
    }
}
