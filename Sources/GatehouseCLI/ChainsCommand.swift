import ApprovalCore
import ArgumentParser
import Foundation
import GatehouseServer
import Storage

/// `gatehouse chains export|apply`: escalation chains as a YAML file, for those who keep configuration in git.
struct ChainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chains",
        abstract: "Export the escalation chains as a YAML file, and apply one.",
        discussion: """
            The file format is in config/chains.example.yaml. Requests already filed keep the chain they were \
            filed under; a change applies to requests filed after it.

            Example:
              gatehouse chains export > chains.yaml
              gatehouse chains apply chains.yaml --dry-run
              gatehouse chains apply chains.yaml
            """,
        subcommands: [Export.self, Apply.self]
    )

    /// Exit status when the file has problems: sysexits' EX_DATAERR, as `serve` uses EX_CONFIG (78).
    static let dataError: Int32 = 65
    /// Exit status when the file cannot be read: sysexits' EX_NOINPUT.
    static let noInput: Int32 = 66

    /// How `file` is named in messages: `<stdin>` for `-`.
    static func shownName(_ file: String) -> String { file == "-" ? "<stdin>" : file }

    /// The bytes of a YAML file given on the command line (`-`: `standardInput`); `nil`, after saying why, when it cannot
    /// be read. Shared by `chains apply` and the `policies` commands.
    static func readYAML(_ file: String, terminal: Terminal, standardInput: () -> Data) -> Data? {
        if file == "-" { return standardInput() }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            let reason = FileManager.default.fileExists(atPath: file) ? "it is not a readable file" : "there is no such file"
            terminal.err("gatehouse: cannot read '\(file)': \(reason). Pass a YAML file, or - for standard input.")
            return nil
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every chain as YAML, sorted by name, in the form `chains apply` reads.",
            discussion: """
                Applying the output unchanged changes nothing.

                Example:
                  gatehouse chains export --db /var/lib/gatehouse/g.sqlite > chains.yaml
                """
        )

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let code = await Self.run(database: database, terminal: .standard)
            if code != 0 { throw ExitCode(code) }
        }

        static func run(database: DatabaseOptions, terminal: Terminal) async -> Int32 {
            let db: any GatehouseStore
            do {
                db = try await DatabaseAccess.reading(database)
            } catch {
                terminal.err("gatehouse: \(error)")
                return ExitCode.validationFailure.rawValue
            }
            defer { try? db.close() }
            do {
                let text = ChainsFile.render(try await db.chains())
                terminal.out(String(text.dropLast()))
                return 0
            } catch {
                terminal.err("gatehouse: cannot read the chains from '\(database.display)': \(error)")
                return 1
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add and change chains to match a YAML file, in one transaction; print what changed.",
            discussion: """
                The whole file is checked first: any problem (an unknown key, a bad duration or ID, a level naming \
                nobody, a name used twice) is printed with its line and path, like \
                `chains.yaml:9:14: chains[1].levels[0].sla: `5x` is not a duration: …`, and nothing is changed. \
                Chains not in the file are kept unless --prune is given. Each change is audited as config_changed \
                by cli:$USER (else the account running it). Creates the database if there is none.

                Exit status: 0 applied (or nothing to do); 65 the file has problems; 66 the file cannot be read; \
                1 the database failed.

                Example:
                  gatehouse chains apply chains.yaml --dry-run
                  gatehouse chains export | sed 's/30m/1h/' | gatehouse chains apply -
                """
        )

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The YAML file, or - for standard input.") var file: String
        @Flag(help: "Also delete the chains that are not in the file.") var prune = false
        @Flag(name: .customLong("dry-run"), help: "Print what would change, and write nothing.") var dryRun = false

        func run() async throws {
            let code = await Self.run(
                file: file, database: database, prune: prune, dryRun: dryRun, actor: CLIActor.current(), terminal: .standard)
            if code != 0 { throw ExitCode(code) }
        }

        /// Reads and checks `file` (`-`: `standardInput`), then applies it as `actor`; returns the exit status.
        static func run(
            file: String, database: DatabaseOptions, prune: Bool, dryRun: Bool, actor: Actor, terminal: Terminal,
            standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }
        ) async -> Int32 {
            guard let data = readYAML(file, terminal: terminal, standardInput: standardInput) else { return noInput }

            // Everything in the file is checked before the database is even opened, so a bad file changes nothing.
            let chains: [EscalationChain]
            do {
                chains = try ChainsFile.parse(data)
            } catch {
                error.report(file: shownName(file), to: terminal)
                return dataError
            }

            // A dry run against a database that does not exist yet must not create it. Either way the user learns that
            // the file was not there: a mistyped --db (or an unset GATEHOUSE_DB) would otherwise look like a fresh start.
            let path = database.display
            let isNew = database.fileMissing
            if dryRun && isNew {
                terminal.err("gatehouse: note: there is no database at '\(path)' yet, so every chain would be added.")
                report(ChainChange.plan(applying: chains, to: [], pruning: prune), kept: [], pending: [:], dryRun: true, terminal: terminal)
                return 0
            }
            if isNew { terminal.err("gatehouse: note: there was no database at '\(path)'; created a new one.") }
            do {
                let applied = try await DatabaseAccess.changing(database, command: "chains apply", mustExist: false) { administration in
                    try await administration.applyChains(chains, pruning: prune, dryRun: dryRun, by: actor)
                }
                let named = Set(chains.map(\.name))
                let kept = prune ? [] : applied.existing.filter { !named.contains($0) }
                report(applied.changes, kept: kept, pending: applied.pending, dryRun: dryRun, terminal: terminal)
                return 0
            } catch let error as ChainError {
                terminal.err("gatehouse: \(error.description) Nothing was changed.")
                return dataError
            } catch let error as ChainApplyError {
                terminal.err("gatehouse: \(error.description) Nothing was changed.")
                return dataError
            } catch let failure as ControlClient.Failure where failure.code == "invalid_chain" {
                terminal.err("gatehouse: \(failure.message) Nothing was changed.")
                return dataError
            } catch let failure as CommandFailure {
                terminal.err("gatehouse: \(failure.description)")
                return 1
            } catch {
                terminal.err("gatehouse: cannot apply the chains to '\(database.display)': \(error). Nothing was changed.")
                return 1
            }
        }

        /// One line per chain in the file (and per deletion), then what was left alone, then the totals.
        static func report(
            _ changes: [ChainChange], kept: [String], pending: [String: Int], dryRun: Bool, terminal: Terminal
        ) {
            for change in changes {
                terminal.out(line(for: change, pending: pending[change.name] ?? 0))
                if [.added, .changed].contains(change.kind) {
                    for caution in change.after?.cautions ?? [] { terminal.err("gatehouse: note: \(change.name): \(caution)") }
                }
            }
            if !kept.isEmpty {
                terminal.out("kept \(kept.count) not in the file: \(kept.joined(separator: ", ")) (--prune deletes them)")
            }
            let counts = ChainChange.Kind.allCases.map { kind in "\(changes.filter { $0.kind == kind }.count) \(kind.rawValue)" }
            terminal.out((dryRun ? "dry run, nothing written: " : "applied: ") + counts.joined(separator: ", "))
        }

        /// A chain in one line for the terminal: `U012ABCDEF S0SREONCALL 30m → S0SREONCALL 1h → then reject`.
        static func summary(_ chain: EscalationChain) -> String {
            chain.rungs(naming: \.id, anyone: "anyone")
        }

        /// `added deploy-prod: U012ABCDEF 30m → then reject`, `changed …: … (was …)`, `unchanged docs`, `deleted …`.
        static func line(for change: ChainChange, pending: Int) -> String {
            let snapshot =
                switch pending {
                case 0: ""
                case 1: " (1 pending request keeps the chain it was filed under)"
                default: " (\(pending) pending requests keep the chain they were filed under)"
                }
            switch change.kind {
            case .added:
                return "added \(change.name): " + (change.after.map(Self.summary) ?? "")
            case .changed:
                let after = change.after.map(Self.summary) ?? ""
                let before = change.before.map(Self.summary) ?? ""
                return "changed \(change.name): \(after) (was \(before))\(snapshot)"
            case .unchanged:
                return "unchanged \(change.name)"
            case .deleted:
                return "deleted \(change.name): " + (change.before.map(Self.summary) ?? "") + snapshot
            }
        }
    }
}
