import ApprovalCore
import ArgumentParser
import Foundation
import GatehouseServer
import Storage

/// `gatehouse policies apply|export|test|suggest`: which requests need whom, as a YAML file (CONTRACT.md §7).
struct PoliciesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies",
        abstract: "Apply, export and test the policies (roles, rules, break-glass); suggest rules from past decisions.",
        discussion: """
            The file format is in config/policies.example.yaml. Requests already filed keep the rule they matched; \
            a change applies to requests filed after it.

            Example:
              gatehouse policies export > policies.yaml
              gatehouse policies apply policies.yaml --dry-run
              gatehouse policies test request.json
              gatehouse policies suggest --days 90 --min 20
            """,
        subcommands: [Export.self, Apply.self, Test.self, Suggest.self]
    )

    /// Reads `file` (`-`: standard input) and checks it; prints every problem and returns the exit status on failure.
    static func read(_ file: String, terminal: Terminal, standardInput: () -> Data) -> Result<PolicySet, ExitCode> {
        guard let data = ChainsCommand.readYAML(file, terminal: terminal, standardInput: standardInput) else {
            return .failure(ExitCode(ChainsCommand.noInput))
        }
        do {
            return .success(try PoliciesFile.parse(data))
        } catch {
            error.report(file: ChainsCommand.shownName(file), to: terminal)
            return .failure(ExitCode(ChainsCommand.dataError))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the roles, rules and break-glass settings as YAML, in the form `policies apply` reads.",
            discussion: "Applying the output unchanged changes nothing.\n\nExample:\n  gatehouse policies export > policies.yaml")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let code = await Self.run(database: database, terminal: .standard)
            if code != 0 { throw ExitCode(code) }
        }

        static func run(database: DatabaseOptions, terminal: Terminal) async -> Int32 {
            do {
                let db = try await DatabaseAccess.reading(database)
                defer { try? db.close() }
                terminal.out(String(PoliciesFile.render(try await db.policies()).dropLast()))
                return 0
            } catch {
                terminal.err("gatehouse: \(error)")
                return 1
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the policies with a YAML file's, in one transaction; print what changed.",
            discussion: """
                The whole file is checked first: any problem (an unknown key or role, a bad duration, a rule name used \
                twice, `approvals` out of 1–10) is printed with its line and path, like \
                `policies.yaml:12:16: policies[2].window: `5x` is not a duration: …`, and nothing is changed. The file \
                replaces the whole set: roles, rules and break_glass. Audited as config_changed by cli:$USER.

                Exit status: 0 applied (or nothing to do); 65 the file has problems; 66 the file cannot be read; \
                1 the database failed.

                Example:
                  gatehouse policies apply policies.yaml --dry-run
                  gatehouse policies apply policies.yaml
                """)

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The YAML file, or - for standard input.") var file: String
        @Flag(name: .customLong("dry-run"), help: "Print what would change, and write nothing.") var dryRun = false

        func run() async throws {
            let code = await Self.run(file: file, database: database, dryRun: dryRun, actor: CLIActor.current(), terminal: .standard)
            if code != 0 { throw ExitCode(code) }
        }

        static func run(
            file: String, database: DatabaseOptions, dryRun: Bool, actor: Actor, terminal: Terminal,
            standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }
        ) async -> Int32 {
            let set: PolicySet
            switch PoliciesCommand.read(file, terminal: terminal, standardInput: standardInput) {
            case .success(let parsed): set = parsed
            case .failure(let code): return code.rawValue
            }
            let path = database.display
            if dryRun && database.fileMissing {
                terminal.err("gatehouse: note: there is no database at '\(path)' yet, so every rule and role would be added.")
                report(before: .empty, after: set, dryRun: true, terminal: terminal)
                return 0
            }
            do {
                let applied = try await DatabaseAccess.changing(database, command: "policies apply", mustExist: false) { administration in
                    try await administration.applyPolicies(set, dryRun: dryRun, by: actor)
                }
                report(before: applied.before, after: applied.after, dryRun: dryRun, terminal: terminal)
                return 0
            } catch let error as PolicyProblems {
                terminal.err("gatehouse: \(error.description). Nothing was changed.")
                return ChainsCommand.dataError
            } catch let failure as ControlClient.Failure where failure.code == "invalid_policies" {
                terminal.err("gatehouse: \(failure.message). Nothing was changed.")
                return ChainsCommand.dataError
            } catch {
                terminal.err("gatehouse: cannot apply the policies to '\(path)': \(error). Nothing was changed.")
                return 1
            }
        }

        /// One line per rule and role that was added, changed or removed, then the totals.
        static func report(before: PolicySet, after: PolicySet, dryRun: Bool, terminal: Terminal) {
            var counts = (added: 0, changed: 0, unchanged: 0, removed: 0)
            func compare<T: Equatable>(_ kind: String, _ old: [T], _ new: [T], name: (T) -> String, describe: (T) -> String) {
                let oldByName = Dictionary(old.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
                for item in new {
                    if let was = oldByName[name(item)] {
                        if was == item {
                            counts.unchanged += 1
                            terminal.out("unchanged \(kind) \(name(item))")
                        } else {
                            counts.changed += 1
                            terminal.out("changed \(kind) \(name(item)): \(describe(item)) (was \(describe(was)))")
                        }
                    } else {
                        counts.added += 1
                        terminal.out("added \(kind) \(name(item)): \(describe(item))")
                    }
                }
                for item in old where !new.contains(where: { name($0) == name(item) }) {
                    counts.removed += 1
                    terminal.out("removed \(kind) \(name(item))")
                }
            }
            compare("role", before.roles, after.roles, name: \.name) { role in (role.users + role.groups).joined(separator: " ") }
            compare("rule", before.rules, after.rules, name: \.name, describe: PoliciesCommand.summary)
            if before.breakGlass != after.breakGlass {
                terminal.out("changed break_glass: " + (after.breakGlass.map { "roles \($0.roles.joined(separator: ", ")), review within \(ChainDuration.format($0.reviewWithin)), at most \($0.maxPer30Days) per person in 30 days" } ?? "none"))
            }
            if before.rules.map(\.name) != after.rules.map(\.name) && !after.rules.isEmpty {
                terminal.out("order: " + after.rules.map(\.name).joined(separator: " → "))
            }
            terminal.out((dryRun ? "dry run, nothing written: " : "applied: ")
                + "\(counts.added) added, \(counts.changed) changed, \(counts.unchanged) unchanged, \(counts.removed) removed")
        }
    }

    /// A rule in one line: `when gate=deploy payload.cost gt 1000 → require 2 (lead, director) via spend`.
    static func summary(_ rule: PolicyRule) -> String {
        let when = PoliciesFile.conditions(rule.when)
        let then: String =
            switch rule.then {
            case .auto: "auto"
            case .notify(let window): "notify after \(ChainDuration.format(window))"
            case .require(let approvals, let roles, let chain):
                "require \(approvals)" + (roles.isEmpty ? "" : " (\(roles.joined(separator: ", ")))") + (chain.map { " via \($0)" } ?? "")
            }
        return (when.isEmpty ? "always" : "when " + when.joined(separator: ", ")) + " → " + then
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the rule a request would match, and why each rule before it did not.",
            discussion: """
                REQUEST.json is a request body as POST /v1/approvals takes it. The stored policies are used, or \
                --file's (to try a file before applying it). Nothing is stored.

                Example:
                  gatehouse policies test request.json
                  gatehouse policies test request.json --file policies.yaml
                """)

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "A request body (JSON), or - for standard input.") var request: String
        @Option(help: "Test against this policies file instead of the stored policies.") var file: String?

        func run() async throws {
            let code = await Self.run(request: request, file: file, database: database, terminal: .standard)
            if code != 0 { throw ExitCode(code) }
        }

        static func run(
            request: String, file: String?, database: DatabaseOptions, terminal: Terminal,
            standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }
        ) async -> Int32 {
            let data: Data
            do {
                data = request == "-" ? standardInput() : try Data(contentsOf: URL(fileURLWithPath: request))
            } catch {
                terminal.err("gatehouse: cannot read '\(request)': there is no such readable file.")
                return ChainsCommand.noInput
            }
            // Read as the API reads a create, with its sentences; then checked as a create is.
            let body: ApprovalRequest
            do {
                body = try ApprovalRequestBody.request(fromUTF8: Array(data))
                try body.validate()
            } catch let error as APIError {
                terminal.err("gatehouse: \(request): \(error.message)")
                return ChainsCommand.dataError
            } catch ApprovalError.invalidField(_, let message) {
                terminal.err("gatehouse: \(request): \(message)")
                return ChainsCommand.dataError
            } catch {
                terminal.err("gatehouse: \(request): \(error)")
                return ChainsCommand.dataError
            }
            var policies = PolicySet.empty
            var approvedBefore = false
            do {
                if let file {
                    switch PoliciesCommand.read(file, terminal: terminal, standardInput: standardInput) {
                    case .success(let parsed): policies = parsed
                    case .failure(let code): return code.rawValue
                    }
                }
                if !database.fileMissing {
                    let db = try await DatabaseAccess.reading(database)
                    defer { try? db.close() }
                    if file == nil { policies = try await db.policies() }
                    approvedBefore = try await db.everApproved(gate: body.gate, action: body.action)
                } else if file == nil {
                    terminal.err("gatehouse: note: there is no database at '\(database.display)', so no policies are stored.")
                }
            } catch {
                terminal.err("gatehouse: \(error)")
                return 1
            }
            let evaluation = policies.evaluate(body) { approvedBefore }
            for step in evaluation.steps {
                terminal.out(step.skipped.map { "skipped \(step.rule): \($0)" } ?? "matched \(step.rule)")
            }
            if let applied = evaluation.applied, let rule = policies.rules.first(where: { $0.name == applied.name }) {
                terminal.out("→ \(rule.name): " + PoliciesCommand.summary(rule))
            } else {
                terminal.out("→ no rule matches: require 1 approval from the `\(body.gate)` chain")
            }
            return 0
        }
    }

    struct Suggest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suggest rules for requests that people approved every time; print them, apply nothing.",
            discussion: """
                Reads the decided requests of the last --days days and prints, as a `policies:` snippet, the classes \
                (gate, action, risk) approved every time by a person, never modified, rejected or expired, at least \
                --min times: `auto` for low risk, `notify` for medium. The evidence is in comments above each rule.

                Example:
                  gatehouse policies suggest --days 90 --min 20 >> policies.yaml
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(help: "How far back to look, in days.") var days = 90
        @Option(help: "How many approvals a class needs at least.") var min = 20

        func validate() throws {
            guard (1...3650).contains(days) else { throw ValidationError("--days must be 1–3650.") }
            guard (1...1_000_000).contains(min) else { throw ValidationError("--min must be at least 1.") }
        }

        func run() async throws {
            let code = await Self.run(database: database, days: days, minimum: min, now: Date(), terminal: .standard)
            if code != 0 { throw ExitCode(code) }
        }

        static func run(database: DatabaseOptions, days: Int, minimum: Int, now: Date, terminal: Terminal) async -> Int32 {
            let decided: [Approval]
            do {
                let db = try await DatabaseAccess.reading(database)
                defer { try? db.close() }
                decided = try await db.decidedApprovals(since: now.addingTimeInterval(-Double(days) * 86_400))
            } catch {
                terminal.err("gatehouse: \(error)")
                return 1
            }
            let suggestions = PolicySuggestion.suggest(from: decided, minimum: minimum)
            terminal.out("# Suggested by `gatehouse policies suggest --days \(days) --min \(minimum)` from \(decided.count) decided requests.")
            guard !suggestions.isEmpty else {
                terminal.out("# No class of low or medium risk was approved every time, at least \(minimum) times: nothing to suggest.")
                return 0
            }
            terminal.out("# Review each rule before adding it under `policies:` (first match wins: put them above broader rules).")
            terminal.out("policies:")
            var names: Set<String> = []
            for suggestion in suggestions {
                var name = String("\(suggestion.gate)-\(suggestion.action)".lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
                    .split(separator: "-").joined(separator: "-")
                name = String(name.prefix(56))
                var unique = name
                var counter = 2
                while !names.insert(unique).inserted {
                    unique = "\(name)-\(counter)"
                    counter += 1
                }
                let who = suggestion.approvers.prefix(5).map { "\($0.0) (\($0.1))" }.joined(separator: ", ")
                terminal.out("  # \(suggestion.approvals) approvals from \(RFC3339.string(from: suggestion.first)) to \(RFC3339.string(from: suggestion.last)), none modified, rejected or expired")
                terminal.out("  # median time to decision \(ChainDuration.format(max(1, suggestion.medianTimeToDecision.rounded()))); approved by \(who)")
                terminal.out("  - name: \(ChainsFile.scalar(unique))")
                terminal.out("    when: {gate: \(ChainsFile.scalar(suggestion.gate)), action: \(PoliciesFile.quoted(suggestion.action)), risk: \(suggestion.risk.rawValue)}")
                terminal.out("    then: \(suggestion.outcome)")
                if suggestion.outcome == "notify" { terminal.out("    window: 15m") }
            }
            return 0
        }
    }
}

