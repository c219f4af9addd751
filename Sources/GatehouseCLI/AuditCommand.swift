import ApprovalCore
import ArgumentParser
import Foundation
import Storage

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check and export the hash-chained audit log.",
        discussion: "Example:\n  gatehouse audit verify && gatehouse audit export --since 7d",
        subcommands: [Verify.self, Export.self, BreakGlass.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's hash chain: exit 0 when intact, else name the first bad entry and exit 1.",
            discussion: """
                Besides every link of the chain, it checks that each approval still has its entries, and prints the \
                newest entry's hash. Entries removed from the very end of the log break no link; keep that hash \
                somewhere else (a ticket, CI logs) and pass it to a later run with --expect-head to prove that \
                nothing up to it was removed.

                Example:
                  gatehouse audit verify --db ./gatehouse.sqlite
                  gatehouse audit verify --expect-head HASH   # all 64 characters an earlier run printed
                """
        )

        @OptionGroup var database: DatabaseOptions
        @Option(
            name: .customLong("expect-head"),
            help: "The full 64-character hash printed by an earlier verify, which must still be in the log.")
        var expectHead: String?

        /// The hash as stored (lowercase hex), or `nil` when it is not a whole SHA-256 hash: a shortened or mistyped
        /// one would otherwise read as entries removed from the log.
        static func normalizedHead(_ text: String) -> String? {
            let hash = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
            let letters = UInt8(ascii: "a")...UInt8(ascii: "f")
            guard hash.utf8.count == 64, hash.utf8.allSatisfy({ digits.contains($0) || letters.contains($0) }) else { return nil }
            return hash
        }

        func validate() throws {
            if let expectHead, Self.normalizedHead(expectHead) == nil {
                throw ValidationError(
                    "--expect-head '\(expectHead)' is not a whole hash: give all 64 hexadecimal characters that verify printed after 'newest #N'.")
            }
        }

        func run() async throws {
            let db = try await DatabaseAccess.reading(database)
            defer { try? db.close() }
            switch try await db.verifyAuditLog(expectedHead: expectHead.flatMap(Self.normalizedHead)) {
            case .intact(let entries):
                if let head = try await db.auditHead() {
                    let expected = expectHead == nil ? "" : "; the expected head is still in it"
                    Terminal.standard.out(
                        "audit log intact: \(entries == 1 ? "1 entry" : "\(entries) entries"); newest #\(head.seq) \(head.hash)" + expected)
                } else {
                    Terminal.standard.out("audit log intact: 0 entries")
                }
            case .broken(let seq, let reason):
                // A head that is not found is missed after the last entry, which has no number of its own.
                if let head = try await db.auditHead(), seq > head.seq {
                    Terminal.standard.err("audit log broken after its last entry (#\(head.seq)): \(reason)")
                } else {
                    Terminal.standard.err("audit log broken at entry \(seq): \(reason)")
                }
                throw ExitCode(1)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the audit log as JSON lines or CSV.",
            discussion: """
                --since takes an RFC 3339 time (2026-11-22T00:00:00Z) or an age (90m, 24h, 7d).

                Example:
                  gatehouse audit export --since 24h --format csv > audit.csv
                """
        )

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only entries from this time on.") var since: String?
        @Option(help: "jsonl or csv.") var format: String = "jsonl"

        func validate() throws {
            guard ["jsonl", "csv"].contains(format) else { throw ValidationError("--format must be jsonl or csv.") }
            if let since, AuditExport.parseSince(since, now: Date()) == nil {
                throw ValidationError("--since '\(since)' is neither an RFC 3339 time nor an age like 24h.")
            }
        }

        func run() async throws {
            let db = try await DatabaseAccess.reading(database)
            defer { try? db.close() }
            let from = since.flatMap { AuditExport.parseSince($0, now: Date()) }
            let entries = try await db.auditEntries(since: from, approvalID: nil)
            if format == "csv" {
                Terminal.standard.out(AuditExport.csvHeader)
                for entry in entries { Terminal.standard.out(AuditExport.csv(entry)) }
            } else {
                for entry in entries { Terminal.standard.out(AuditExport.jsonLine(entry)) }
            }
        }
    }
}

/// Formats for `audit export`.
public enum AuditExport {
    public static let csvHeader = "seq,at,kind,approval_id,actor,details,prev_hash,hash"

    public static func jsonLine(_ e: AuditEntry) -> String { CanonicalJSON.serialize(e.json) }

    public static func csv(_ e: AuditEntry) -> String {
        [String(e.seq), RFC3339.string(from: e.at), e.kind, e.approvalID ?? "", e.actor, CanonicalJSON.serialize(e.details), e.prevHash, e.hash]
            .map(field).joined(separator: ",")
    }

    /// RFC 4180 quoting; a leading formula character is prefixed with `'` so spreadsheets do not evaluate it.
    static func field(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }

    /// An RFC 3339 time, or an age before `now` such as `90m`, `24h`, `7d`.
    public static func parseSince(_ text: String, now: Date) -> Date? {
        if let date = RFC3339.date(from: text) { return date }
        guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = amount
        case "m": seconds = amount * 60
        case "h": seconds = amount * 3600
        case "d": seconds = amount * 86_400
        default: return nil
        }
        return now.addingTimeInterval(-seconds)
    }
}

extension AuditCommand {
    /// `gatehouse audit break-glass [--unreviewed]`: every break-glass use, newest first, with its review.
    struct BreakGlass: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "break-glass",
            abstract: "List the break-glass approvals, newest first, and who reviewed each.",
            discussion: "Example:\n  gatehouse audit break-glass --unreviewed")

        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Only those no admin has reviewed yet.") var unreviewed = false

        func run() async throws {
            let code = await Self.run(database: database, unreviewed: unreviewed, terminal: .standard)
            if code != 0 { throw ExitCode(code) }
        }

        static func run(database: DatabaseOptions, unreviewed: Bool, terminal: Terminal) async -> Int32 {
            do {
                let db = try await DatabaseAccess.reading(database)
                defer { try? db.close() }
                let uses = try await db.breakGlassUses(unreviewedOnly: unreviewed)
                if uses.isEmpty {
                    terminal.out(unreviewed ? "No unreviewed break-glass approvals." : "No break-glass approvals.")
                    return 0
                }
                for use in uses {
                    let who = use.byName.map { "\(use.by) (\($0))" } ?? use.by
                    let review = use.reviewedAt.map { "reviewed by \(use.reviewedBy ?? "?") at \(RFC3339.string(from: $0))" } ?? "NOT REVIEWED"
                    let limit = use.overLimit ? " · over the 30-day limit" : ""
                    terminal.out("\(RFC3339.string(from: use.at))  \(use.approvalID)  \(who)  \(review)\(limit)")
                    terminal.out("    \(use.action) — \(use.reason)")
                }
                return 0
            } catch {
                terminal.err("gatehouse: \(error)")
                return 1
            }
        }
    }
}
