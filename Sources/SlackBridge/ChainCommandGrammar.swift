import ApprovalCore
import Foundation
import SlackAPI

/// What an admin asked for with the slash command, read from the text after the command name.
public enum ChainCommand: Sendable, Equatable {
    /// `help`, or nothing at all.
    case help
    /// `chains`: every chain, one line each.
    case chains
    /// `chain show NAME`.
    case show(String)
    /// `chain set NAME LEVEL[, LEVEL…] [then reject|approve|hold]`: a chain that passed `validate()`.
    case set(EscalationChain)
    /// `chain delete NAME`.
    case delete(String)
    /// `pending`.
    case pending
    /// `admin add @person…`: Slack user IDs, each once.
    case adminAdd([String])
    /// `admin remove @person…`: Slack user IDs, each once.
    case adminRemove([String])
    /// `admin list`.
    case adminList
    /// `roles`, `role set NAME @people @groups`, `role delete NAME`, `policies`.
    case roles
    case roleSet(Role)
    case roleDelete(String)
    case policies
    /// `break-glass ID REASON…` and `break-glass list`.
    case breakGlass(ApprovalID, reason: String)
    case breakGlassList
    /// `login`: a one-time link to the web page, for the person who typed it.
    case login
}

/// Why the slash command text was refused, in one sentence that quotes the word at fault and says how to fix it.
///
/// `message` is Slack mrkdwn: the words quoted from the text are escaped, mentions are rendered as mentions.
public struct ChainCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A word the grammar has no place for.
        case unknownWord
        /// Something required is missing: a sub-command, a name, people, a final action.
        case missingWord
        /// A word after the command was already complete.
        case extraWord
        /// A chain name that breaks the gate-name rules.
        case invalidName
        /// People with no duration after them.
        case missingDuration
        /// A level with nobody in it: a duration with no one before it, or a comma too many.
        case emptyLevel
        /// A duration that breaks the duration rules.
        case invalidDuration(ChainDurationError)
        /// `@name` as plain text: the person was not picked from Slack's autocomplete, so Slack did not escape it.
        case unescapedMention
        /// A mention of something that cannot decide: a channel, `@here`, a link, a malformed ID, or a group where
        /// only people fit.
        case notAnApprover
        /// The chain as a whole was refused, such as one with too many levels.
        case invalidChain(ChainError)
    }

    public var kind: Kind
    /// The 1-based number of the word at fault among the words after the command name (commas are not words).
    public var word: Int?
    public var message: String

    public init(_ kind: Kind, word: Int?, _ message: String) {
        self.kind = kind
        self.word = word
        self.message = message
    }

    public var description: String { message }
}

/// The grammar of the slash command:
///
/// ```
/// help | chains | pending
/// chain show NAME | chain delete NAME
/// chain set NAME LEVEL[, LEVEL…] [then reject|approve|hold]     LEVEL = MENTION… DURATION
/// admin add MENTION… | admin remove MENTION… | admin list
/// ```
///
/// Keywords are case-insensitive; names are not. Mentions arrive escaped by Slack (`should_escape`): `<@U012ABC>`,
/// `<@U012ABC|name>`, `<!subteam^S012AB|@name>`, `<!subteam^S012AB>`. The comma between levels may be left out,
/// since a duration always ends a level.
public enum ChainCommandGrammar {
    /// The command `text` means, or the first mistake in it. `command` is the command's name (`/gatehouse`), used in
    /// the examples that messages give.
    public static func parse(_ text: String, command: String = "/gatehouse") throws(ChainCommandError) -> ChainCommand {
        let name = command.isEmpty ? "/gatehouse" : command
        // The reason of a break-glass is free text, kept as typed.
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(maxSplits: 2, omittingEmptySubsequences: true, whereSeparator: \.isWhitespace)
        if let first = parts.first, first.lowercased() == "break-glass" || first.lowercased() == "breakglass" {
            if parts.count == 2, parts[1].lowercased() == "list" { return .breakGlassList }
            guard parts.count == 3, parts[1].hasPrefix("apr_") else {
                throw ChainCommandError(
                    .missingWord, word: nil,
                    "`break-glass` needs a request id and a reason, like `\(name) break-glass apr_… the database is down`, or `list`.")
            }
            return .breakGlass(ApprovalID(rawValue: String(parts[1])), reason: String(parts[2]))
        }
        return try Parser(tokens: tokenize(text), command: name).parse()
    }

    /// The command (`chain set`, `chain delete`, `admin add` or `admin remove`) when `text` starts like one that
    /// changes configuration, even if the rest does not parse: a mistake in one is answered by the admin check first,
    /// so people who may not change anything are not walked through the grammar.
    public static func configurationChange(startingWith text: String) -> String? {
        let words = tokenize(text).prefix(2).map(\.keyword)
        guard words.count == 2 else { return nil }
        switch (words[0], words[1]) {
        case ("chain", "set"), ("chain", "delete"), ("admin", "add"), ("admin", "remove"), ("role", "set"), ("role", "delete"):
            return words.joined(separator: " ")
        default: return nil
        }
    }

    /// The grammar with examples, for `help` and after a mistake.
    public static func help(command: String) -> String {
        let name = command.isEmpty ? "/gatehouse" : command
        return """
            *Gatehouse* — approvals for agents and pipelines.
            • `\(name) chain set NAME LEVEL[, LEVEL…] [then reject|approve|hold]` — create or replace a chain. \
            A LEVEL is people or user groups (pick them from the autocomplete) and then how long they have: \
            `90s`, `30m`, `1h30m`, `2d` (1s to 30d). When a level's time runs out, the next level is asked too.
            • After the last level: `then reject` (the default: the request expires), `then approve` (low risk only; \
            other requests expire) or `then hold` (ask the last level again every time its time runs out, until \
            the request expires).
            • `\(name) chain show NAME` — one chain
            • `\(name) chains` — all chains, one line each
            • `\(name) chain delete NAME` — requests already waiting keep the chain they started with
            • `\(name) pending` — requests waiting for a decision
            • `\(name) admin add @person…`, `\(name) admin remove @person…`, `\(name) admin list` — who may change chains
            • `\(name) roles`, `\(name) role set NAME @person… @group…`, `\(name) role delete NAME` — named sets of \
            people that policies ask approvals from (`lead`, `director`)
            • `\(name) policies` — the policy rules in order: which requests are approved at once (`auto`), go ahead \
            unless rejected in time (`notify`), or need several people (`require`)
            • `\(name) break-glass ID REASON` — in an emergency, members of the break-glass roles approve a pending \
            request at once; it is posted loudly and an admin must review it. `\(name) break-glass list` lists them
            • `\(name) login` — a one-time link (10 minutes) that signs you in to the web page
            • `\(name) help` — this text
            Examples:
            `\(name) chain set deploy-prod @alice @bob 30m, @sre-oncall 1h then reject`
            `\(name) chain set db-migrations @dba 2h, @cto 1d then hold`
            `\(name) chain set docs @writers 1h30m then approve`
            Chain names use a–z, 0–9, `-`, `_` and `.`; a request's `gate` picks its chain, and requests with no chain \
            may be decided by anyone in the approvals channel.
            """
    }

    /// A word of the text, or a comma; `word` numbers words from 1, and a comma carries the number of the word before it.
    struct Token {
        var text: String
        var word: Int
        var isComma: Bool

        var keyword: String { text.lowercased() }
    }

    /// Splits at blanks and commas; `<…>` is one token even with blanks inside, as Slack may send `<@U1|first last>`.
    static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var word = 0
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isWhitespace {
                index = text.index(after: index)
                continue
            }
            if character == "," {
                tokens.append(Token(text: ",", word: word, isComma: true))
                index = text.index(after: index)
                continue
            }
            let end: String.Index
            if character == "<" {
                end = text[index...].firstIndex(of: ">").map { text.index(after: $0) } ?? text.endIndex
            } else {
                end =
                    text[text.index(after: index)...].firstIndex { $0.isWhitespace || $0 == "," || $0 == "<" }
                    ?? text.endIndex
            }
            word += 1
            tokens.append(Token(text: String(text[index..<end]), word: word, isComma: false))
            index = end
        }
        return tokens
    }

    /// What a word is, for the parts of the grammar that take people.
    enum Reading {
        case approver(EscalationChain.Approver)
        /// `@name` typed as text.
        case plainMention
        /// `<…>` that cannot decide; the text quotes it and says what it is: "`#general` (word 4) is a channel".
        case notAnApprover(String)
        case other
    }

    static func read(_ token: Token) -> Reading {
        let text = token.text
        if text.hasPrefix("@") { return .plainMention }
        guard text.hasPrefix("<") else { return .other }
        guard text.hasSuffix(">"), text.count > 2 else {
            return .notAnApprover("\(quote(text)) (word \(token.word)) is not a complete mention")
        }
        let inner = text.dropFirst().dropLast()
        let target = String(inner.prefix { $0 != "|" })
        let label = inner.firstIndex(of: "|").map { String(inner[inner.index(after: $0)...]) }
        if target.hasPrefix("@") {
            let approver = EscalationChain.Approver.user(String(target.dropFirst()))
            if approver.isValid { return .approver(approver) }
        } else if target.hasPrefix("!subteam^") {
            let approver = EscalationChain.Approver.group(String(target.dropFirst("!subteam^".count)))
            if approver.isValid { return .approver(approver) }
        } else if ["!here", "!channel", "!everyone"].contains(target) {
            return .notAnApprover("`@\(target.dropFirst())` (word \(token.word)) means everyone, not one person")
        } else if target.hasPrefix("#") {
            let channel = label.map { "#" + $0 } ?? text
            return .notAnApprover("\(quote(channel)) (word \(token.word)) is a channel")
        } else if target.hasPrefix("http:") || target.hasPrefix("https:") || target.hasPrefix("mailto:") {
            return .notAnApprover("\(quote(label ?? target)) (word \(token.word)) is a link")
        }
        return .notAnApprover("\(quote(text)) (word \(token.word)) is not a person or user group")
    }

    /// Could this word be meant as a duration (`30m`, `30`, `m`, `1.5h`)?
    static func looksLikeDuration(_ text: String) -> Bool {
        text.contains { $0.isASCII && $0.isNumber } || (!text.isEmpty && text.allSatisfy { "dhms".contains($0) })
    }

    /// A word from the text, shown as code and unable to form a mention or a link.
    static func quote(_ text: String) -> String {
        "`" + Mrkdwn.escape(text.replacingOccurrences(of: "`", with: "'")) + "`"
    }

    /// How a word is shown in a message: as a mention when it is one, else quoted.
    static func show(_ token: Token) -> String {
        if case .approver(let approver) = read(token) { return approver.description }
        return quote(token.text)
    }
}

extension ChainCommandGrammar {
    struct Parser {
        let tokens: [Token]
        let command: String

        var words: [Token] { tokens.filter { !$0.isComma } }

        func parse() throws(ChainCommandError) -> ChainCommand {
            let words = words
            guard let first = words.first else { return .help }
            switch first.keyword {
            case "help":
                return .help
            case "chains":
                try expectEnd(words, from: 1, after: "`chains`")
                return .chains
            case "pending":
                try expectEnd(words, from: 1, after: "`pending`")
                return .pending
            case "login":
                try expectEnd(words, from: 1, after: "`login`")
                return .login
            case "chain":
                return try chain(words)
            case "admin", "admins":
                return try admin(words)
            case "roles":
                try expectEnd(words, from: 1, after: "`roles`")
                return .roles
            case "policies", "policy":
                try expectEnd(words, from: 1, after: "`policies`")
                return .policies
            case "role":
                return try role(words)
            default:
                throw ChainCommandError(
                    .unknownWord, word: first.word,
                    "\(show(first)) (word 1) is not a command I know; try `\(command) help` for the list."
                )
            }
        }

        // MARK: chain …

        func chain(_ words: [Token]) throws(ChainCommandError) -> ChainCommand {
            guard words.count > 1 else {
                throw ChainCommandError(
                    .missingWord, word: nil,
                    "`chain` needs `set`, `show` or `delete` after it, like `\(command) chain show deploy-prod`."
                )
            }
            let verb = words[1]
            switch verb.keyword {
            case "set":
                let rest = tokens.drop { $0.isComma || $0.word <= verb.word }
                return .set(try chainSet(rest, after: verb))
            case "show", "delete":
                let name = try chainName(words.dropFirst(2).first, verb: "chain \(verb.keyword)")
                try expectEnd(words, from: 3, after: "the chain name")
                return verb.keyword == "show" ? .show(name) : .delete(name)
            default:
                throw ChainCommandError(
                    .unknownWord, word: verb.word,
                    "\(show(verb)) (word \(verb.word)) is not a `chain` command; use `chain set`, `chain show` or "
                        + "`chain delete`, or `chains` for all of them."
                )
            }
        }

        func chainName(_ token: Token?, verb: String) throws(ChainCommandError) -> String {
            let example = verb == "chain set" ? "chain set deploy-prod @alice 30m" : "\(verb) deploy-prod"
            guard let token else {
                throw ChainCommandError(.missingWord, word: nil, "`\(verb)` needs a chain name after it, like `\(command) \(example)`.")
            }
            if token.text.hasPrefix("<") || token.text.hasPrefix("@") {
                throw ChainCommandError(
                    .missingWord, word: token.word,
                    "Word \(token.word) should be the chain name, not \(show(token)); write the name first, like "
                        + "`\(command) \(example)`."
                )
            }
            guard ApprovalRequest.isValidGateName(token.text) else {
                let lowered = token.text.lowercased()
                let fix =
                    ApprovalRequest.isValidGateName(lowered)
                    ? "names are lowercase, so write \(quote(lowered))"
                    : "use up to 64 of a–z, 0–9, `-`, `_` and `.`, like `deploy-prod`"
                throw ChainCommandError(
                    .invalidName, word: token.word, "\(quote(token.text)) (word \(token.word)) is not a valid chain name; \(fix)."
                )
            }
            return token.text
        }

        /// `NAME LEVEL[, LEVEL…] [then ACTION]`, from the tokens after `set`.
        func chainSet(_ rest: ArraySlice<Token>, after verb: Token) throws(ChainCommandError) -> EscalationChain {
            let nameToken = rest.first
            let name = try chainName(nameToken, verb: "chain set")
            var levels: [EscalationChain.Level] = []
            var people: [EscalationChain.Approver] = []
            var lastPerson: Token?
            var lastDuration: Token?
            var pendingComma = false
            var previous = nameToken ?? verb
            var finalAction = EscalationChain.FinalAction.reject
            var tokens = rest.dropFirst()[...]

            func missingDuration(after person: Token) -> ChainCommandError {
                ChainCommandError(
                    .missingDuration, word: person.word,
                    "Level \(levels.count + 1) needs a duration after \(show(person)) (word \(person.word)), like `30m`."
                )
            }
            func extraComma() -> ChainCommandError {
                ChainCommandError(
                    .emptyLevel, word: previous.word,
                    "Level \(levels.count + 1) is empty; remove the comma after \(show(previous)) (word \(previous.word))."
                )
            }

            while let token = tokens.popFirst() {
                if token.isComma {
                    if let lastPerson { throw missingDuration(after: lastPerson) }
                    if pendingComma || levels.isEmpty { throw extraComma() }
                    pendingComma = true
                    lastDuration = nil
                    continue
                }
                defer { previous = token }
                if token.keyword == "then" {
                    if let lastPerson { throw missingDuration(after: lastPerson) }
                    if levels.isEmpty {
                        throw ChainCommandError(
                            .emptyLevel, word: token.word,
                            "`then` (word \(token.word)) comes before any level; put people and a duration first, like "
                                + "`@alice 30m then reject`."
                        )
                    }
                    if pendingComma { throw extraComma() }
                    finalAction = try self.finalAction(after: token, tokens.first { !$0.isComma })
                    if let extra = tokens.filter({ !$0.isComma }).dropFirst().first {
                        throw ChainCommandError(
                            .extraWord, word: extra.word,
                            "\(show(extra)) (word \(extra.word)) comes after the final action; remove it, since "
                                + "`then \(finalAction.rawValue)` ends the command."
                        )
                    }
                    break
                }
                switch read(token) {
                case .approver(let approver):
                    people.append(approver)  // someone named twice is kept once by `Level`
                    lastPerson = token
                    lastDuration = nil
                    pendingComma = false
                    continue
                case .plainMention:
                    throw unescaped(token)
                case .notAnApprover(let what):
                    throw ChainCommandError(
                        .notAnApprover, word: token.word, "\(what); mention people or user groups instead."
                    )
                case .other:
                    break
                }
                if ChainCommandGrammar.looksLikeDuration(token.text) {
                    guard lastPerson != nil else {
                        if let lastDuration {
                            throw ChainCommandError(
                                .emptyLevel, word: token.word,
                                "Level \(levels.count) already has \(show(lastDuration)); remove \(show(token)) (word "
                                    + "\(token.word)), or put people before it to start level \(levels.count + 1)."
                            )
                        }
                        throw ChainCommandError(
                            .emptyLevel, word: token.word,
                            "Level \(levels.count + 1) has nobody before \(show(token)) (word \(token.word)); put people "
                                + "or groups first, like `@sre \(Mrkdwn.escape(token.text))`."
                        )
                    }
                    let sla: TimeInterval
                    do {
                        sla = try ChainDuration.parse(token.text)
                    } catch {
                        throw ChainCommandError(
                            .invalidDuration(error), word: token.word,
                            "\(show(token)) (word \(token.word)) \(Mrkdwn.escape(error.reason))."
                        )
                    }
                    levels.append(EscalationChain.Level(approvers: people, sla: sla))
                    people = []
                    lastPerson = nil
                    lastDuration = token
                    continue
                }
                if let action = EscalationChain.FinalAction(rawValue: token.keyword) {
                    throw ChainCommandError(
                        .unknownWord, word: token.word,
                        "\(show(token)) (word \(token.word)) needs `then` before it: write `then \(action.rawValue)`."
                    )
                }
                throw ChainCommandError(
                    .unknownWord, word: token.word,
                    "\(show(token)) (word \(token.word)) is neither a mention nor a duration; a level is people or groups "
                        + "and then how long they have, like `@alice 30m`."
                )
            }

            if let lastPerson { throw missingDuration(after: lastPerson) }
            if pendingComma { throw extraComma() }
            if levels.isEmpty {
                throw ChainCommandError(
                    .missingWord, word: nil,
                    "\(quote(name)) needs at least one level after its name: people or groups and then how long they "
                        + "have, like `\(command) chain set \(Mrkdwn.escape(name)) @alice 30m`."
                )
            }
            let chain = EscalationChain(name: name, levels: levels, finalAction: finalAction)
            do {
                try chain.validate()
            } catch {
                throw ChainCommandError(.invalidChain(error), word: nil, Mrkdwn.escape(error.description))
            }
            return chain
        }

        func finalAction(after then: Token, _ next: Token?) throws(ChainCommandError) -> EscalationChain.FinalAction {
            guard let next else {
                throw ChainCommandError(
                    .missingWord, word: then.word,
                    "`then` (word \(then.word)) needs `reject`, `approve` or `hold` after it."
                )
            }
            guard let action = EscalationChain.FinalAction(rawValue: next.keyword) else {
                throw ChainCommandError(
                    .unknownWord, word: next.word,
                    "\(show(next)) (word \(next.word)) is not a final action; write `then reject`, `then approve` or "
                        + "`then hold`."
                )
            }
            return action
        }

        // MARK: admin …

        func admin(_ words: [Token]) throws(ChainCommandError) -> ChainCommand {
            guard words.count > 1 else {
                throw ChainCommandError(
                    .missingWord, word: nil,
                    "`admin` needs `add`, `remove` or `list` after it, like `\(command) admin add @alice`."
                )
            }
            let verb = words[1]
            switch verb.keyword {
            case "list":
                try expectEnd(words, from: 2, after: "`admin list`")
                return .adminList
            case "add", "remove":
                let people = try users(words.dropFirst(2), verb: "admin \(verb.keyword)")
                return verb.keyword == "add" ? .adminAdd(people) : .adminRemove(people)
            default:
                throw ChainCommandError(
                    .unknownWord, word: verb.word,
                    "\(show(verb)) (word \(verb.word)) is not an `admin` command; use `admin add`, `admin remove` or "
                        + "`admin list`."
                )
            }
        }

        func role(_ words: [Token]) throws(ChainCommandError) -> ChainCommand {
            guard words.count > 2, ["set", "delete"].contains(words[1].keyword) else {
                throw ChainCommandError(
                    .missingWord, word: nil,
                    "`role` needs `set NAME @people…` or `delete NAME`, like `\(command) role set lead @alice @bob`.")
            }
            let name = words[2].text
            guard PolicySet.isValidName(name) else {
                throw ChainCommandError(
                    .invalidName, word: words[2].word,
                    "\(show(words[2])) (word \(words[2].word)) is not a role name; use 1–64 characters of a–z, 0–9, `-`, `_` or `.`.")
            }
            if words[1].keyword == "delete" {
                try expectEnd(words, from: 3, after: "the role's name")
                return .roleDelete(name)
            }
            var users: [String] = []
            var groups: [String] = []
            for token in words.dropFirst(3) {
                switch read(token) {
                case .approver(.user(let id)): if !users.contains(id) { users.append(id) }
                case .approver(.group(let id)): if !groups.contains(id) { groups.append(id) }
                case .plainMention: throw unescaped(token)
                case .notAnApprover(let what):
                    throw ChainCommandError(.notAnApprover, word: token.word, "\(what); a role is people and user groups.")
                case .other:
                    throw ChainCommandError(
                        .unknownWord, word: token.word,
                        "\(show(token)) (word \(token.word)) is not a person or user group; mention them, like `\(command) role set lead @alice`.")
                }
            }
            if users.isEmpty && groups.isEmpty {
                throw ChainCommandError(
                    .missingWord, word: nil, "`role set \(name)` needs people or user groups after it, like `\(command) role set \(name) @alice`.")
            }
            return .roleSet(Role(name: name, users: users, groups: groups))
        }

        func users(_ words: ArraySlice<Token>, verb: String) throws(ChainCommandError) -> [String] {
            var ids: [String] = []
            for token in words {
                switch read(token) {
                case .approver(.user(let id)):
                    if !ids.contains(id) { ids.append(id) }
                case .approver(.group):
                    throw ChainCommandError(
                        .notAnApprover, word: token.word,
                        "\(show(token)) (word \(token.word)) is a user group; admins are people, so mention each person."
                    )
                case .plainMention:
                    throw unescaped(token)
                case .notAnApprover(let what):
                    throw ChainCommandError(.notAnApprover, word: token.word, "\(what); admins are people, so mention each person.")
                case .other:
                    throw ChainCommandError(
                        .unknownWord, word: token.word,
                        "\(show(token)) (word \(token.word)) is not a person; mention people, like `\(command) \(verb) @alice`."
                    )
                }
            }
            if ids.isEmpty {
                throw ChainCommandError(
                    .missingWord, word: nil,
                    "`\(verb)` needs one or more people after it, like `\(command) \(verb) @alice`."
                )
            }
            return ids
        }

        // MARK: Shared

        func unescaped(_ token: Token) -> ChainCommandError {
            ChainCommandError(
                .unescapedMention, word: token.word,
                "\(show(token)) (word \(token.word)) is plain text, not a mention; pick the person or group from the "
                    + "autocomplete as you type `@`."
            )
        }

        func expectEnd(_ words: [Token], from index: Int, after what: String) throws(ChainCommandError) {
            guard index < words.count else { return }
            let extra = words[index]
            throw ChainCommandError(
                .extraWord, word: extra.word,
                "\(show(extra)) (word \(extra.word)) is not expected after \(what); remove it."
            )
        }

        func show(_ token: Token) -> String { ChainCommandGrammar.show(token) }
        func quote(_ text: String) -> String { ChainCommandGrammar.quote(text) }
        func read(_ token: Token) -> Reading { ChainCommandGrammar.read(token) }
    }
}
