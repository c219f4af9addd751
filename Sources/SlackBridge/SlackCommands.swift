import ApprovalCore
import Foundation
import SlackAPI
import Storage

/// The slash command (`/gatehouse …`): escalation chains, admins and pending requests.
///
/// Slack shows an error unless the command is answered within 3 seconds, so every answer comes from local database
/// work only, never a Web API call. Answers are short mrkdwn, shown only to the person who typed the command.
/// Changes are admin-only; the database audits each one with the Slack user ID as actor, and refusals are audited here.
public struct SlackCommands: Sendable {
    let database: GatehouseDatabase
    let clock: any WallClock
    /// Admins from `GATEHOUSE_ADMINS`, each once, in the configured order; those added with `admin add` are in the
    /// database.
    let configuredAdmins: [String]

    public init(database: GatehouseDatabase, clock: any WallClock, configuredAdmins: [String] = []) {
        self.database = database
        self.clock = clock
        var seen: Set<String> = []
        self.configuredAdmins = configuredAdmins.filter { seen.insert($0).inserted }
    }

    /// The reply to `command`; a user's mistake or a refusal is a reply too, never an error.
    public func answer(_ command: SlashCommand) async throws -> String {
        let name = command.command.isEmpty ? "/gatehouse" : command.command
        let parsed: ChainCommand
        let user = command.userID
        do {
            parsed = try ChainCommandGrammar.parse(command.text, command: name)
        } catch {
            if let change = ChainCommandGrammar.configurationChange(startingWith: command.text),
                let refusal = try await refusal(
                    by: user, command: name, details: ["command": .string(change), "text": .string(String(command.text.prefix(200)))])
            {
                return refusal
            }
            return Self.mistake(error, command: name)
        }
        switch parsed {
        case .help:
            return ChainCommandGrammar.help(command: name)
        case .pending:
            return try await pending()
        case .chains:
            return try await chains(command: name)
        case .show(let chain):
            return try await show(chain, command: name)
        case .adminList:
            return Self.adminList(try await admins(), command: name)
        case .set(let chain):
            return try await asAdmin(parsed, by: user, command: name) { _ in try await set(chain, by: user) }
        case .delete(let chain):
            return try await asAdmin(parsed, by: user, command: name) { _ in try await delete(chain, by: user) }
        case .adminAdd(let users):
            return try await asAdmin(parsed, by: user, command: name) { admins in
                try await addAdmins(users, by: user, admins: admins)
            }
        case .adminRemove(let users):
            return try await asAdmin(parsed, by: user, command: name) { admins in
                try await removeAdmins(users, by: user, admins: admins, command: name)
            }
        }
    }

    /// The grammar's sentence, and where to find the grammar unless the sentence already says.
    static func mistake(_ error: ChainCommandError, command: String) -> String {
        let pointer = "`\(command) help`"
        if error.message.contains(pointer) { return error.message }
        return error.message + "\nType \(pointer) for the grammar and examples."
    }

    // MARK: Admins

    /// Who may change configuration: those in `GATEHOUSE_ADMINS` and those added from Slack.
    struct Admins {
        var configured: [String]
        var stored: [String]

        var all: Set<String> { Set(configured).union(stored) }
        var isEmpty: Bool { configured.isEmpty && stored.isEmpty }
    }

    func admins() async throws -> Admins {
        Admins(configured: configuredAdmins, stored: try await database.storedAdmins())
    }

    /// Runs `change` when `user` is an admin; otherwise audits the refusal and answers it politely.
    ///
    /// With no admin at all, nobody may change anything: the first person to type a command must not become admin.
    func asAdmin(
        _ request: ChainCommand, by user: String, command: String, _ change: (Admins) async throws -> String
    ) async throws -> String {
        let admins = try await admins()
        if let refusal = try await refusal(by: user, command: command, details: Self.refusalDetails(request), admins: admins) {
            return refusal
        }
        return try await change(admins)
    }

    /// The polite refusal for `user`, audited with `details`, or `nil` when they are an admin.
    func refusal(by user: String, command: String, details: [String: JSONValue], admins known: Admins? = nil) async throws -> String? {
        let admins = if let known { known } else { try await admins() }
        if admins.all.contains(user) { return nil }
        var details = details
        details["reason"] = .string(admins.isEmpty ? "no_admins" : "not_admin")
        try await database.append(AuditEvent(.requestRefused, actor: user, details: details))
        if admins.isEmpty {
            return "Sorry, only Gatehouse admins can change chains and admins, and none is configured yet. "
                + Self.configurationHint + " Until then, chains can still be read with `\(command) chains`."
        }
        let mentions = Self.mentions(admins.configured + admins.stored.filter { !admins.configured.contains($0) })
        return "Sorry, only Gatehouse admins can change chains and admins; nothing was changed. "
            + "Ask one of them for help: \(mentions)."
    }

    static let configurationHint =
        "Whoever runs Gatehouse can set `GATEHOUSE_ADMINS` (or `admins` in its configuration file) to Slack user IDs, "
        + "comma-separated like `U012ABCDEF,U034GHIJKL`, and restart it."

    /// What a refused change is audited with: the command and what it named.
    static func refusalDetails(_ request: ChainCommand) -> [String: JSONValue] {
        var details: [String: JSONValue] = [:]
        switch request {
        case .set(let chain):
            details["command"] = .string("chain set")
            details["name"] = .string(chain.name)
        case .delete(let name):
            details["command"] = .string("chain delete")
            details["name"] = .string(name)
        case .adminAdd(let users):
            details["command"] = .string("admin add")
            details["users"] = .array(users.map(JSONValue.string))
        case .adminRemove(let users):
            details["command"] = .string("admin remove")
            details["users"] = .array(users.map(JSONValue.string))
        case .help, .chains, .show, .pending, .adminList:
            break
        }
        return details
    }

    static func adminList(_ admins: Admins, command: String) -> String {
        if admins.isEmpty {
            return "*Gatehouse admins*: none yet, so nobody can change chains from Slack. " + configurationHint
        }
        let added = admins.stored.filter { !admins.configured.contains($0) }
        return """
            *Gatehouse admins* (they may change chains and admins):
            • From `GATEHOUSE_ADMINS`: \(admins.configured.isEmpty ? "none" : mentions(admins.configured))
            • Added with `\(command) admin add`: \(added.isEmpty ? "none" : mentions(added))
            """
    }

    func addAdmins(_ users: [String], by actor: String, admins: Admins) async throws -> String {
        let configured = users.filter { admins.configured.contains($0) }
        let candidates = users.filter { !admins.configured.contains($0) }
        let added = candidates.isEmpty ? [] : try await database.addAdmins(candidates, by: actor)
        let already = users.filter { !configured.contains($0) && !added.contains($0) }
        var lines: [String] = []
        if !added.isEmpty { lines.append("Added \(Self.mentions(added)) as \(added.count == 1 ? "an admin" : "admins").") }
        if !already.isEmpty { lines.append("\(Self.mentions(already)) \(already.count == 1 ? "was" : "were") already an admin.") }
        if !configured.isEmpty {
            lines.append("\(Self.mentions(configured)) \(configured.count == 1 ? "is" : "are") already an admin through `GATEHOUSE_ADMINS`.")
        }
        return lines.joined(separator: "\n")
    }

    func removeAdmins(_ users: [String], by actor: String, admins: Admins, command: String) async throws -> String {
        let remaining = admins.all.subtracting(users.filter { !admins.configured.contains($0) })
        if remaining.isEmpty {
            return "That would leave Gatehouse with no admin at all, so nothing was removed. Add another admin first "
                + "with `\(command) admin add @someone`, or set `GATEHOUSE_ADMINS`."
        }
        // A person in both lists loses the stored entry too, so that a later change to the configuration really removes them.
        let removed = try await database.removeAdmins(users, by: actor)
        let configured = users.filter { admins.configured.contains($0) }
        let gone = removed.filter { !configured.contains($0) }
        let notAdmins = users.filter { !configured.contains($0) && !removed.contains($0) }
        var lines: [String] = []
        if !gone.isEmpty { lines.append("Removed \(Self.mentions(gone)) from the admins.") }
        if !notAdmins.isEmpty { lines.append("\(Self.mentions(notAdmins)) \(notAdmins.count == 1 ? "was not an admin" : "were not admins").") }
        if !configured.isEmpty {
            lines.append(
                "\(Self.mentions(configured)) \(configured.count == 1 ? "is an admin" : "are admins") through `GATEHOUSE_ADMINS`; "
                    + "to remove \(configured.count == 1 ? "them" : "those"), change that setting in the configuration and restart Gatehouse.")
        }
        return lines.joined(separator: "\n")
    }

    static func mentions(_ users: [String]) -> String {
        users.map { EscalationChain.Approver.user($0).description }.joined(separator: ", ")
    }

    // MARK: Chains

    func set(_ chain: EscalationChain, by user: String) async throws -> String {
        let replaced: EscalationChain?
        do {
            replaced = try await database.setChain(chain, by: user)
        } catch let error as ChainError {
            return Mrkdwn.escape(error.description) + " Nothing was changed."
        }
        if replaced == chain { return "Chain `\(chain.name)` already is \(Self.rungs(of: chain)); nothing changed." }
        var text = "Saved chain `\(chain.name)`: \(Self.rungs(of: chain))"
        if let replaced { text += " (it replaced: \(Self.rungs(of: replaced)))" }
        text += ".\nNew requests with gate `\(chain.name)` follow it; requests already waiting keep the chain they started with."
        for caution in chain.cautions { text += "\n:warning: Note: " + caution }
        return text
    }

    func delete(_ name: String, by user: String) async throws -> String {
        let result = try await database.deleteChain(named: name, by: user)
        guard let deleted = result.deleted else { return "No chain named `\(name)`; nothing deleted." }
        let waiting = result.pending == 1 ? "1 request in flight keeps its snapshot" : "\(result.pending) requests in flight keep their snapshot"
        let next = name == EscalationChain.default.name
            ? "New requests whose gate has no chain of its own use the built-in rule again: \(Self.rungs(of: .default))."
            : "New requests with gate `\(name)` use the `default` chain."
        return "Deleted chain `\(name)`; \(waiting).\nIt was: \(Self.rungs(of: deleted)). " + next
    }

    func chains(command: String) async throws -> String {
        let chains = try await database.chains()
        var lines = chains.isEmpty ? ["No chains yet."] : ["*Chains* (\(chains.count)):"]
        lines += chains.map { "• `\($0.name)`: \(Self.rungs(of: $0))" }
        if !chains.contains(where: { $0.name == EscalationChain.default.name }) {
            lines.append("Requests whose gate has no chain use the built-in `default`: \(Self.rungs(of: .default)).")
        }
        if chains.isEmpty { lines.append("Create one with `\(command) chain set deploy-prod @alice 30m`.") }
        return lines.joined(separator: "\n")
    }

    func show(_ name: String, command: String) async throws -> String {
        guard let chain = try await database.chain(named: name) else {
            var fallback = "Requests with gate `\(name)` use the default chain: anyone in the approvals channel (except the requester) may decide."
            if name != EscalationChain.default.name, let house = try await database.chain(named: EscalationChain.default.name) {
                fallback = "Requests with gate `\(name)` use the `default` chain: \(Self.rungs(of: house))."
            }
            if name == EscalationChain.default.name {
                return "`default` is the built-in chain, not changed so far. " + fallback
            }
            return "No chain named `\(name)`. \(fallback)\nCreate one with `\(command) chain set \(name) @alice 30m`."
        }
        var lines = ["*Chain `\(chain.name)`*, \(chain.levels.count == 1 ? "1 level" : "\(chain.levels.count) levels"):"]
        for (index, level) in chain.levels.enumerated() {
            let who = level.approvers.map(\.description).joined(separator: " ")
            lines.append("\(index + 1). \(who) — \(ChainDuration.format(level.sla))")
        }
        lines.append(Self.finalText(chain))
        let pending = try await database.pendingCount(gate: name)
        if pending > 0 {
            lines.append(pending == 1 ? "1 request waiting uses its own snapshot of this chain." : "\(pending) requests waiting use their own snapshot of this chain.")
        }
        return lines.joined(separator: "\n")
    }

    static func finalText(_ chain: EscalationChain) -> String {
        switch chain.finalAction {
        case .reject:
            return "Then *reject*: if nobody decides by the end, the request expires."
        case .approve:
            return "Then *approve*: if nobody decides by the end, a low-risk request is approved; others expire."
        case .hold:
            let every = ChainDuration.format(chain.levels.last?.sla ?? 0)
            return "Then *hold*: the last level is asked again every \(every) until the request expires."
        }
    }

    /// The chain's one-line form without its name: `<@U1> 30m → <!subteam^S1> 1h → then reject`.
    static func rungs(of chain: EscalationChain) -> String {
        let line = chain.description
        let prefix = "\(chain.name): "
        return line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : line
    }

    // MARK: Pending

    func pending() async throws -> String {
        let page = try await database.list(ApprovalFilter(status: .pending), limit: 20)
        if page.approvals.isEmpty { return "Nothing is waiting for a decision." }
        let now = clock.now
        var lines = ["*Pending requests* (newest first):"]
        for approval in page.approvals {
            let levels = max(1, approval.chain.levels.count)
            // Bold only when the action has no formatting marks of its own, which mrkdwn cannot escape and which
            // would end the bold early.
            let action = Mrkdwn.escape(String(approval.action.prefix(80)))
            let shown = action.contains(where: { "*_~`".contains($0) }) ? action : "*\(action)*"
            var line = "• \(shown) — gate `\(Mrkdwn.escape(approval.gate))`, "
                + "\(Self.age(now.timeIntervalSince(approval.createdAt))) old, level \(min(approval.escalationLevel, levels)) of \(levels)"
            if let link = try await database.slackMessages(for: approval.id).first(where: { $0.kind == .channel })?.permalink {
                line += " — <\(link)|open>"
            }
            lines.append(line)
        }
        if page.next != nil { lines.append("… and more; see `GET /v1/approvals?status=pending`.") }
        return lines.joined(separator: "\n")
    }

    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 90 { return "\(s)s" }
        if s < 5400 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86_400)d"
    }
}
