import ApprovalCore
import Foundation
import SlackAPI
import SlackRecords

/// The slash command (`/gatehouse …`): escalation chains, admins and pending requests.
///
/// Slack shows an error unless the command is answered within 3 seconds, so every answer comes from local database
/// work only, never a Web API call, with one exception: `break-glass` reads which user groups the person is in (as a
/// click does, from the directory's cache when it can), because who may break the glass depends on it. Answers are short mrkdwn, shown only to the person who typed the command. Who may
/// change what is the configuration service's rule (admins only), and it audits changes and refusals alike; this side
/// parses the text and words the answers.
public struct SlackCommands: Sendable {
    let configuration: ConfigurationService
    let approvals: ApprovalService
    let messages: any SlackMessageStore
    /// Reads a user's user groups for break-glass; answered from Slack, so only for `break-glass`.
    let groups: GroupDirectory?
    let breakGlassUses: (any BreakGlassStore)?
    /// Makes a one-time web page link for a Slack user (`login`); `nil` when the service has no public URL.
    let loginLink: (@Sendable (String) async throws -> String)?

    public init(
        configuration: ConfigurationService, approvals: ApprovalService, messages: any SlackMessageStore,
        groups: GroupDirectory? = nil, breakGlassUses: (any BreakGlassStore)? = nil,
        loginLink: (@Sendable (String) async throws -> String)? = nil
    ) {
        self.loginLink = loginLink
        self.groups = groups
        self.breakGlassUses = breakGlassUses
        self.configuration = configuration
        self.approvals = approvals
        self.messages = messages
    }

    /// The reply to `command`; a user's mistake or a refusal is a reply too, never an error.
    public func answer(_ command: SlashCommand) async throws -> String {
        let name = command.command.isEmpty ? "/gatehouse" : command.command
        let parsed: ChainCommand
        let user = Actor.slackUser(command.userID)
        do {
            parsed = try ChainCommandGrammar.parse(command.text, command: name)
        } catch {
            // A change by someone who may not change anything is refused as such, before any word on its grammar.
            if let change = ChainCommandGrammar.configurationChange(startingWith: command.text) {
                do {
                    try await configuration.checkMayChange(
                        user, attempt: ["command": .string(change), "text": .string(String(command.text.prefix(200)))])
                } catch let refusal as ConfigurationService.Refusal {
                    return Self.refusal(refusal, command: name)
                }
            }
            return Self.mistake(error, command: name)
        }
        do {
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
                return Self.adminList(try await configuration.admins(), command: name)
            case .set(let chain):
                return try await set(chain, by: user)
            case .delete(let chain):
                return try await delete(chain, by: user)
            case .adminAdd(let users):
                return Self.addition(try await configuration.addAdmins(users, by: user))
            case .adminRemove(let users):
                return Self.removal(try await configuration.removeAdmins(users, by: user), command: name)
            case .roles:
                let roles = try await configuration.policySet().roles
                if roles.isEmpty { return "*Roles*: none yet. Add one with `\(name) role set NAME @person…`." }
                return "*Roles*\n" + roles.map { "• `\($0.name)`: \($0.mentions)" }.joined(separator: "\n")
            case .roleSet(let role):
                let change = try await configuration.setRole(role, by: user)
                return (change.before == nil ? "Added" : "Changed") + " the role `\(role.name)`: \(role.mentions)"
                    + (change.before.map { " (was \($0.mentions))" } ?? "") + ". Requests already filed keep the members they were filed with."
            case .roleDelete(let role):
                let deleted = try await configuration.deleteRole(named: role, by: user)
                return deleted == nil ? "There is no role `\(role)`; nothing was changed." : "Deleted the role `\(role)`."
            case .policies:
                return try await policies(command: name)
            case .breakGlassList:
                let uses = try await breakGlassUses?.breakGlassUses(unreviewedOnly: false) ?? []
                if uses.isEmpty { return "No break-glass approvals." }
                return "*Break-glass approvals*, newest first\n" + uses.prefix(20).map { use in
                    "• `\(use.approvalID.rawValue)` \(SlackText.fit(Mrkdwn.escape(use.action), 100)) — \(SlackText.who(use.by, name: use.byName)) · \(SlackText.date(use.at)) · "
                        + (use.reviewedAt == nil ? "*not reviewed*" : "reviewed by \(SlackText.who(use.reviewedBy ?? "?", name: nil))")
                        + (use.overLimit ? " · over the limit" : "")
                }.joined(separator: "\n")
            case .breakGlass(let id, let reason):
                return try await breakGlass(id, reason: reason, command: command)
            case .login:
                guard let loginLink else {
                    return "The web page needs the service's public URL: an operator sets `GATEHOUSE_PUBLIC_URL` (or `public_url`)."
                }
                return "Your sign-in link for the web page, valid 10 minutes, for one sign-in (do not share it): "
                    + (try await loginLink(command.userID))
            }
        } catch let refusal as ConfigurationService.Refusal {
            return Self.refusal(refusal, command: name)
        } catch let problems as PolicyProblems {
            return "That would make the policies invalid, so nothing was changed: " + problems.problems.map { "`\($0.path)` \($0.message)" }.joined(separator: "; ")
        }
    }

    /// The rules in order, one line each.
    func policies(command: String) async throws -> String {
        let set = try await configuration.policySet()
        guard !set.rules.isEmpty else {
            return "*Policies*: none, so every request needs one approval from its gate's chain. Apply a file with `gatehouse policies apply`."
        }
        var lines = ["*Policies*, first match wins:"]
        for (index, rule) in set.rules.enumerated() {
            let then: String =
                switch rule.then {
                case .auto: "approve at once (low risk only)"
                case .notify(let window): "go ahead after \(ChainDuration.format(window)) unless rejected (low and medium risk)"
                case .require(let approvals, let roles, let chain):
                    "\(max(approvals, roles.count)) approval\(max(approvals, roles.count) == 1 ? "" : "s")"
                        + (roles.isEmpty ? "" : ", one from each of " + roles.map { "`\($0)`" }.joined(separator: ", "))
                        + (chain.map { ", pinging the `\($0)` chain" } ?? "")
                }
            let when = rule.when.described
            lines.append("\(index + 1). `\(rule.name)`: \(when.isEmpty ? "every request" : Mrkdwn.escape(when.joined(separator: ", "))) → \(then)")
        }
        lines.append("Otherwise: one approval from the gate's chain.")
        if let glass = set.breakGlass {
            lines.append("Break-glass: \(glass.roles.map { "`\($0)`" }.joined(separator: ", ")); review within \(ChainDuration.format(glass.reviewWithin)); flagged past \(glass.maxPer30Days) uses per person in 30 days.")
        }
        return SlackText.fit(lines.joined(separator: "\n"), 3_900)
    }

    /// Breaks the glass for the person who typed it, after reading which break-glass user groups they are in.
    func breakGlass(_ id: ApprovalID, reason: String, command: SlashCommand) async throws -> String {
        var person = Actor.slackUser(command.userID)
        if let groups {
            do {
                person = try await groups.breakingGlass(command.userID, roleGroups: try await approvals.breakGlassGroups())
            } catch let error as SlackAPIError {
                return SlackInteractions.membershipUnknown(error)
            }
        }
        do {
            let approval = try await approvals.breakGlass(id, reason: reason, by: person)
            return ":rotating_light: You broke the glass: `\(approval.id.rawValue)` (\(Mrkdwn.escape(approval.action))) is approved. "
                + "It is posted in the approvals channel for an admin to review."
        } catch let error as ApprovalError {
            return SlackInteractions.refusal(error, to: command.userID)
        }
    }

    /// The grammar's sentence, and where to find the grammar unless the sentence already says.
    static func mistake(_ error: ChainCommandError, command: String) -> String {
        let pointer = "`\(command) help`"
        if error.message.contains(pointer) { return error.message }
        return error.message + "\nType \(pointer) for the grammar and examples."
    }

    // MARK: Admins

    /// The polite refusal of a change by someone who is not an admin (audited by the configuration service).
    static func refusal(_ refusal: ConfigurationService.Refusal, command: String) -> String {
        switch refusal {
        case .noAdmins:
            return "Sorry, only Gatehouse admins can change chains and admins, and none is configured yet. "
                + Self.configurationHint + " Until then, chains can still be read with `\(command) chains`."
        case .notAdmin(let admins):
            return "Sorry, only Gatehouse admins can change chains and admins; nothing was changed. "
                + "Ask one of them for help: \(mentions(admins.everyone))."
        case .forbidden:
            return "Sorry, only Gatehouse admins can change chains and admins; nothing was changed."
        }
    }

    static let configurationHint =
        "Whoever runs Gatehouse can set `GATEHOUSE_ADMINS` (or `admins` in its configuration file) to Slack user IDs, "
        + "comma-separated like `U012ABCDEF,U034GHIJKL`, and restart it."

    static func adminList(_ admins: ConfigurationService.Admins, command: String) -> String {
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

    static func addition(_ result: ConfigurationService.AdminAddition) -> String {
        var lines: [String] = []
        let (added, already, configured) = (result.added, result.already, result.configured)
        if !added.isEmpty { lines.append("Added \(mentions(added)) as \(added.count == 1 ? "an admin" : "admins").") }
        if !already.isEmpty { lines.append("\(mentions(already)) \(already.count == 1 ? "was" : "were") already an admin.") }
        if !configured.isEmpty {
            lines.append("\(mentions(configured)) \(configured.count == 1 ? "is" : "are") already an admin through `GATEHOUSE_ADMINS`.")
        }
        return lines.joined(separator: "\n")
    }

    static func removal(_ result: ConfigurationService.AdminRemoval, command: String) -> String {
        if result.wouldLeaveNone {
            return "That would leave Gatehouse with no admin at all, so nothing was removed. Add another admin first "
                + "with `\(command) admin add @someone`, or set `GATEHOUSE_ADMINS`."
        }
        let (gone, notAdmins, configured) = (result.removed, result.notAdmins, result.configured)
        var lines: [String] = []
        if !gone.isEmpty { lines.append("Removed \(mentions(gone)) from the admins.") }
        if !notAdmins.isEmpty { lines.append("\(mentions(notAdmins)) \(notAdmins.count == 1 ? "was not an admin" : "were not admins").") }
        if !configured.isEmpty {
            lines.append(
                "\(mentions(configured)) \(configured.count == 1 ? "is an admin" : "are admins") through `GATEHOUSE_ADMINS`; "
                    + "to remove \(configured.count == 1 ? "them" : "those"), change that setting in the configuration and restart Gatehouse.")
        }
        return lines.joined(separator: "\n")
    }

    static func mentions(_ users: [String]) -> String {
        users.map { EscalationChain.Approver.user($0).description }.joined(separator: ", ")
    }

    // MARK: Chains

    func set(_ chain: EscalationChain, by user: Actor) async throws -> String {
        let change: ChainChange
        do {
            change = try await configuration.setChain(chain, by: user)
        } catch let error as ChainError {
            return Mrkdwn.escape(error.description) + " Nothing was changed."
        }
        if change.kind == .unchanged { return "Chain `\(chain.name)` already is \(chain.rungs()); nothing changed." }
        var text = "Saved chain `\(chain.name)`: \(chain.rungs())"
        if let replaced = change.before { text += " (it replaced: \(replaced.rungs()))" }
        text += ".\nNew requests with gate `\(chain.name)` follow it; requests already waiting keep the chain they started with."
        for caution in chain.cautions { text += "\n:warning: Note: " + caution }
        return text
    }

    func delete(_ name: String, by user: Actor) async throws -> String {
        let result = try await configuration.deleteChain(named: name, by: user)
        guard let deleted = result.deleted else { return "No chain named `\(name)`; nothing deleted." }
        let waiting = result.pending == 1 ? "1 request in flight keeps its snapshot" : "\(result.pending) requests in flight keep their snapshot"
        let next = name == EscalationChain.default.name
            ? "New requests whose gate has no chain of its own use the built-in rule again: \(EscalationChain.default.rungs())."
            : "New requests with gate `\(name)` use the `default` chain."
        return "Deleted chain `\(name)`; \(waiting).\nIt was: \(deleted.rungs()). " + next
    }

    func chains(command: String) async throws -> String {
        let chains = try await configuration.chains()
        var lines = chains.isEmpty ? ["No chains yet."] : ["*Chains* (\(chains.count)):"]
        lines += chains.map { "• `\($0.name)`: \($0.rungs())" }
        if !chains.contains(where: { $0.name == EscalationChain.default.name }) {
            lines.append("Requests whose gate has no chain use the built-in `default`: \(EscalationChain.default.rungs()).")
        }
        if chains.isEmpty { lines.append("Create one with `\(command) chain set deploy-prod @alice 30m`.") }
        return lines.joined(separator: "\n")
    }

    func show(_ name: String, command: String) async throws -> String {
        guard let chain = try await configuration.chain(named: name) else {
            var fallback = "Requests with gate `\(name)` use the default chain: anyone in the approvals channel (except the requester) may decide."
            if name != EscalationChain.default.name, let house = try await configuration.chain(named: EscalationChain.default.name) {
                fallback = "Requests with gate `\(name)` use the `default` chain: \(house.rungs())."
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
        let pending = try await configuration.pendingCount(gate: name)
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

    // MARK: Pending

    func pending() async throws -> String {
        let page = try await approvals.repository.list(ApprovalFilter(status: .pending), limit: 20, before: nil)
        if page.approvals.isEmpty { return "Nothing is waiting for a decision." }
        let links = try await messages.slackPermalinks(for: page.approvals.map(\.id))
        let now = approvals.clock.now
        var lines = ["*Pending requests* (newest first):"]
        for approval in page.approvals {
            let levels = max(1, approval.chain.levels.count)
            // Bold only when the action has no formatting marks of its own, which mrkdwn cannot escape and which
            // would end the bold early.
            let action = Mrkdwn.escape(String(approval.action.prefix(80)))
            let shown = action.contains(where: { "*_~`".contains($0) }) ? action : "*\(action)*"
            var line = "• \(shown) — gate `\(Mrkdwn.escape(approval.gate))`, "
                + "\(Self.age(now.timeIntervalSince(approval.createdAt))) old, level \(min(approval.escalationLevel, levels)) of \(levels)"
            if let link = links[approval.id] {
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
