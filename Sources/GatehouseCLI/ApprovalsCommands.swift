import ApprovalCore
import ArgumentParser
import Foundation

/// `gatehouse list`: the requests a key may see, as a table a person reads, or as the API's JSON.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List requests, newest first: pending ones unless --status says otherwise.",
        discussion: """
            A table of id, age, risk, action, requester, level and deadline; --json prints the API's objects, one per \
            line. A key with the request scope sees only what it filed.

            Example:
              gatehouse list --gate deploy-prod
              gatehouse list --status all --mine --json | jq .action
            """
    )

    @OptionGroup var service: ServiceOptions

    @Option(help: "pending, approved, modified, rejected, expired, cancelled, or all.")
    var status: String = "pending"

    @Option(help: "Only this gate.")
    var gate: String?

    @Flag(help: "Only the requests filed with this key.")
    var mine = false

    @Flag(help: "One JSON object per line instead of the table.")
    var json = false

    @Option(help: "At most this many (1–1000).")
    var limit: Int = 50

    func validate() throws {
        guard status == "all" || ApprovalStatus(rawValue: status) != nil else {
            throw ValidationError("--status must be all or one of \(ApprovalStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000.") }
    }

    func run() async throws {
        let code = await Self.run(
            status: status, gate: gate, mine: mine, json: json, limit: limit, client: try service.client(), terminal: .standard)
        if code != 0 { throw ExitCode(code) }
    }

    static func run(
        status: String, gate: String?, mine: Bool, json: Bool, limit: Int, client: GatehouseClient, terminal: Terminal,
        now: Date = Date()
    ) async -> Int32 {
        var approvals: [JSONValue] = []
        var cursor: String?
        do {
            repeat {
                var query = ["limit=\(min(200, limit - approvals.count))"]
                if status != "all" { query.append("status=\(status)") }
                if let gate { query.append("gate=\(gate.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? gate)") }
                if mine { query.append("mine=true") }
                if let cursor { query.append("cursor=\(cursor)") }
                let page = try await client.call("GET", "v1/approvals?" + query.joined(separator: "&"))
                approvals += page["approvals"]?.arrayValue ?? []
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil && approvals.count < limit
        } catch {
            terminal.err("gatehouse: \(error)")
            return 1
        }
        if json {
            for approval in approvals { terminal.out(CanonicalJSON.serialize(approval)) }
            return 0
        }
        if approvals.isEmpty {
            terminal.err("No \(status == "all" ? "" : status + " ")requests\(gate.map { " in gate \($0)" } ?? "").")
            return 0
        }
        for line in ApprovalTable.lines(approvals, now: now) { terminal.out(line) }
        return 0
    }
}

/// `gatehouse show ID`: one request, everything about it, and its audit trail.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one request: every field, its decision and votes, and its audit trail.",
        discussion: """
            Example:
              gatehouse show apr_AZq3VfJ2b0cZtq9Lw4XnP7e1
            """
    )

    @OptionGroup var service: ServiceOptions

    @Argument(help: "The approval's id (apr_…).")
    var id: String

    func validate() throws { try ApprovalIDArgument.validate(id) }

    @Flag(help: "Print {\"approval\": …, \"audit\": […]} as JSON instead.")
    var json = false

    func run() async throws {
        let code = await Self.run(id: id, json: json, client: try service.client(), terminal: .standard)
        if code != 0 { throw ExitCode(code) }
    }

    static func run(id: String, json: Bool, client: GatehouseClient, terminal: Terminal, now: Date = Date()) async -> Int32 {
        let approval: JSONValue
        let audit: [JSONValue]
        do {
            approval = try await client.call("GET", "v1/approvals/\(id)")
            audit = try await client.call("GET", "v1/approvals/\(id)/audit")["entries"]?.arrayValue ?? []
        } catch {
            terminal.err("gatehouse: \(error)")
            return 1
        }
        if json {
            terminal.out(CanonicalJSON.serialize(.object(["approval": approval, "audit": .array(audit)])))
            return 0
        }
        for line in ApprovalTable.details(approval, audit: audit, now: now) { terminal.out(line) }
        return 0
    }
}

/// `gatehouse cancel ID`: the requester withdraws a pending request.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Withdraw a pending request (with the key that filed it, or an admin key).",
        discussion: """
            Example:
              gatehouse cancel apr_AZq3VfJ2b0cZtq9Lw4XnP7e1 --reason "superseded by the 4.2 release"
            """
    )

    @OptionGroup var service: ServiceOptions

    @Argument(help: "The approval's id (apr_…).")
    var id: String

    func validate() throws { try ApprovalIDArgument.validate(id) }

    @Option(help: "Why; shown in Slack and kept in the audit log.")
    var reason: String?

    func run() async throws {
        let code = await Self.run(id: id, reason: reason, client: try service.client(), terminal: .standard)
        if code != 0 { throw ExitCode(code) }
    }

    static func run(id: String, reason: String?, client: GatehouseClient, terminal: Terminal) async -> Int32 {
        do {
            let body: JSONValue = .object(reason.map { ["reason": .string($0)] } ?? [:])
            let approval = try await client.call("POST", "v1/approvals/\(id)/cancel", body: body)
            terminal.out(CanonicalJSON.serialize(approval))
            return 0
        } catch {
            terminal.err("gatehouse: \(error)")
            return 1
        }
    }
}

/// An approval id given on the command line: one path segment, not empty (an unset `$ID` otherwise reaches another
/// route and gets its refusal).
enum ApprovalIDArgument {
    static func validate(_ id: String) throws {
        guard !id.trimmingCharacters(in: .whitespaces).isEmpty, !id.contains("/"), !id.contains("?") else {
            throw ValidationError("Give the approval's id (apr_…); got '\(id)'.")
        }
    }
}

/// How requests read in a terminal.
enum ApprovalTable {
    /// A header and one row per approval, in columns.
    static func lines(_ approvals: [JSONValue], now: Date) -> [String] {
        let header = ["ID", "AGE", "RISK", "ACTION", "REQUESTER", "STATUS", "DEADLINE"]
        let rows = approvals.map { a -> [String] in
            let created = a["created_at"]?.stringValue.flatMap(RFC3339.date(from:))
            // A pending request's status says the level it has reached: `pending 1/2`.
            let level = a["status"]?.stringValue == "pending"
                ? "pending \(Int(a["escalation_level"]?.numberValue ?? 1))/\(Int(a["escalation_levels"]?.numberValue ?? 1))"
                : a["status"]?.stringValue ?? "?"
            return [
                a["id"]?.stringValue ?? "?",
                created.map { ChainDuration.glance(now.timeIntervalSince($0)) } ?? "?",
                a["risk"]?.stringValue ?? "?",
                fit(a["action"]?.stringValue ?? "", 48),
                fit(a["requester"]?.stringValue ?? "-", 24),
                level,
                deadline(a, now: now),
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    /// Every field of one approval, then its audit trail, one entry per line.
    static func details(_ a: JSONValue, audit: [JSONValue], now: Date) -> [String] {
        var lines: [String] = []
        func field(_ name: String, _ value: String?) { if let value, !value.isEmpty { lines.append(name.padding(toLength: 14, withPad: " ", startingAt: 0) + value) } }
        field("id", a["id"]?.stringValue)
        field("status", a["status"]?.stringValue)
        field("action", a["action"]?.stringValue)
        field("risk", a["risk"]?.stringValue)
        field("gate", a["gate"]?.stringValue)
        field("requester", a["requester"]?.stringValue)
        let created = a["created_at"]?.stringValue
        field("created", created.map { "\($0) (\(RFC3339.date(from: $0).map { ChainDuration.glance(now.timeIntervalSince($0)) } ?? "?") ago)" })
        if a["status"]?.stringValue == "pending" {
            field("level", "\(Int(a["escalation_level"]?.numberValue ?? 1)) of \(Int(a["escalation_levels"]?.numberValue ?? 1))")
            field("deadline", "\(a["deadline"]?.stringValue ?? "?") (\(deadline(a, now: now)))")
        }
        field("expires", a["expires_at"]?.stringValue)
        field("policy", a["policy"]?.stringValue)
        field("reasoning", a["reasoning"]?.stringValue)
        field("consequences", a["consequences"]?.stringValue)
        field("on reject", a["on_reject"]?.stringValue)
        field("payload", a["payload"].map(CanonicalJSON.serialize))
        field("payload sha", a["payload_sha256"]?.stringValue)
        if let amended = a["amended_payload"], amended != .null { field("amended", CanonicalJSON.serialize(amended)) }
        if let decision = a["decision"], decision != .null {
            let who = decision["by_name"]?.stringValue.map { "\($0) (\(decision["by"]?.stringValue ?? "?"))" } ?? decision["by"]?.stringValue
            field("decision", "\(decision["outcome"]?.stringValue ?? "?") by \(who ?? "?") at \(decision["at"]?.stringValue ?? "?")"
                + (decision["break_glass"] == .bool(true) ? " (break-glass)" : ""))
            field("reason", decision["reason"]?.stringValue)
            if decision["outcome"]?.stringValue == "modified" { field("approved", decision["payload"].map(CanonicalJSON.serialize)) }
        }
        for vote in a["votes"]?.arrayValue ?? [] {
            let withdrawn = vote["withdrawn_at"]?.stringValue.map { " (withdrawn \($0))" } ?? ""
            field("vote", "\(vote["outcome"]?.stringValue ?? "?") by \(vote["by_name"]?.stringValue ?? vote["by"]?.stringValue ?? "?") at \(vote["at"]?.stringValue ?? "?")\(withdrawn)")
        }
        field("consumed", a["consumed_at"]?.stringValue)
        field("slack", a["links"]?["slack"]?.stringValue)
        lines.append("")
        lines.append("audit trail (\(audit.count) entr\(audit.count == 1 ? "y" : "ies")):")
        for entry in audit {
            let details = entry["details"].map { $0 == .object([:]) ? "" : "  " + CanonicalJSON.serialize($0) } ?? ""
            lines.append("  \(entry["at"]?.stringValue ?? "?")  \(entry["kind"]?.stringValue ?? "?")  \(entry["actor"]?.stringValue ?? "?")\(details)")
        }
        return lines
    }

    /// For a pending request, how long until its next deadline (`in 25m`, `overdue 2m`); otherwise `-`.
    static func deadline(_ a: JSONValue, now: Date) -> String {
        guard a["status"]?.stringValue == "pending", let text = a["deadline"]?.stringValue, let date = RFC3339.date(from: text) else {
            return "-"
        }
        let left = date.timeIntervalSince(now)
        return left >= 0 ? "in " + ChainDuration.glance(left) : "overdue " + ChainDuration.glance(-left)
    }

    /// `text` on one line, cut to `width` characters with an ellipsis.
    static func fit(_ text: String, _ width: Int) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= width ? line : String(line.prefix(width - 1)) + "…"
    }
}
