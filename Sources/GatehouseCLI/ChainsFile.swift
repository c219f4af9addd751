import ApprovalCore
import Foundation
import Storage
import Yams

/// Escalation chains as a YAML file, read by `gatehouse chains apply` and written by `gatehouse chains export`:
///
/// ```yaml
/// chains:
///   - name: deploy-prod
///     levels:
///       - users: [U012ABCDEF, U02BCDEFGH]
///         groups: [S0SREONCALL]
///         sla: 30m
///     then: reject          # reject (default) | approve | hold
/// ```
///
/// Reading walks the composed YAML tree rather than decoding with `Codable`, which would silently skip an unknown
/// key: a typo like `sal:` must stop the apply, with the path and line of the mistake. Pure: no database, no I/O.
enum ChainsFile {
    /// The keys of each mapping, in the order the format documents them.
    static let topKeys = ["chains"]
    static let chainKeys = ["name", "levels", "then"]
    static let levelKeys = ["users", "groups", "sla"]

    // MARK: Reading

    /// The chains in `data`, which must be UTF-8 text; see ``parse(_:)-(String)``.
    static func parse(_ data: Data) throws(ChainsFileError) -> [EscalationChain] {
        try parse(text(data))
    }

    /// `data` as text: a file that is not UTF-8 is one problem. Shared by the chains and the policies files.
    static func text(_ data: Data) throws(ChainsFileError) -> String {
        guard let text = String(data: data, encoding: .utf8) else {
            throw ChainsFileError([
                ChainsFileProblem(path: "", message: "the file is not UTF-8 text; save it as UTF-8 and try again")
            ])
        }
        return text
    }

    /// Whether 1-based `line` of `text` has a tab among its leading blanks: YAML's most common mistake, which its
    /// parser reports only as a character that cannot start a token.
    static func indentsWithTab(_ text: String, line: Int) -> Bool {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return false }
        return lines[line - 1].prefix { $0 == " " || $0 == "\t" }.contains("\t")
    }

    /// The chains in `text`, in the order written; every problem found is reported at once, each with its path
    /// (`chains[1].levels[0].sla`) and line.
    static func parse(_ text: String) throws(ChainsFileError) -> [EscalationChain] {
        var reader = Reader()
        let chains = reader.file(try compose(text))
        if !reader.problems.isEmpty { throw ChainsFileError(inFileOrder: reader.problems) }
        return chains
    }

    /// The YAML tree of `text`; a text that is not YAML is one problem, with a word on tabs when they are the cause.
    /// Shared by the chains and the policies files.
    static func compose(_ text: String) throws(ChainsFileError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var problem = ChainsFileProblem(error)
            if let line = problem.line, indentsWithTab(text, line: line) {
                problem.message += "; line \(line) is indented with a tab, and YAML indents with spaces only"
            }
            throw ChainsFileError([problem])
        } catch {
            throw ChainsFileError([ChainsFileProblem(path: "", message: "not valid YAML: \(error)")])
        }
    }

    /// Collects problems while walking the tree, so one run reports them all.
    struct Reader {
        var problems: [ChainsFileProblem] = []
        /// Paths of keys that an unknown key probably meant (`chains[0].levels[0].sla` for `sal:`): "missing `sla`"
        /// would only repeat the typo's message.
        var misspelled: Set<String> = []

        mutating func problem(_ path: String, at node: Node?, _ message: String) {
            problems.append(ChainsFileProblem(path: path, line: node?.mark?.line, column: node?.mark?.column, message: message))
        }

        mutating func file(_ root: Node?) -> [EscalationChain] {
            guard let root, !root.isNull else {
                problem("", at: root, "the file is empty; write `chains:` with a list of chains under it, or `chains: []` for none")
                return []
            }
            guard case .mapping = root else {
                problem("", at: root, "the file must start with `chains:`, with a list of chains under it; found \(root.kind)")
                return []
            }
            guard let fields = fields(of: root, path: "", allowed: ChainsFile.topKeys, what: "the top level", example: "`chains:`")
            else { return [] }
            guard let list = fields["chains"] else {
                if misspelled.contains("chains") { return [] }
                problem("", at: root, "missing `chains:`; the file is one key, `chains`, with a list of chains under it")
                return []
            }
            if list.isNull {
                problem("chains", at: list, "is empty; list chains under it (`- name: …`), or write `chains: []` for none")
                return []
            }
            guard case .sequence(let items) = list else {
                problem("chains", at: list, "expected a list of chains (each starting with `- name:`), found \(list.kind)")
                return []
            }
            var chains: [EscalationChain] = []
            var firstOfName: [String: (index: Int, line: Int?)] = [:]
            for (index, item) in items.enumerated() {
                let path = "chains[\(index)]"
                let chain = chain(item, path: path)
                // Names are compared even when a chain has other problems, so one run reports the repeat too.
                guard case .mapping = item, let nameNode = item["name"], case .scalar(let scalar) = nameNode,
                    ApprovalRequest.isValidGateName(scalar.string)
                else { continue }
                if let first = firstOfName[scalar.string] {
                    let line = first.line.map { " (line \($0))" } ?? ""
                    problem(
                        "\(path).name", at: nameNode,
                        "`\(scalar.string)` is already the name of chains[\(first.index)]\(line); each chain appears once")
                    continue
                }
                firstOfName[scalar.string] = (index, nameNode.mark?.line)
                if let chain { chains.append(chain) }
            }
            return chains
        }

        mutating func chain(_ node: Node, path: String) -> EscalationChain? {
            guard
                let fields = fields(
                    of: node, path: path, allowed: ChainsFile.chainKeys, what: "a chain", example: "`name:`, `levels:` and `then:`")
            else { return nil }
            let before = problems.count
            let name = self.name(fields["name"], path: path, in: node)
            let levels = self.levels(fields["levels"], path: path, in: node)
            var finalAction = EscalationChain.FinalAction.reject
            if let then = fields["then"] {
                let choices = "reject, approve or hold"
                if let text = string(then, path: "\(path).then", expected: "one of \(choices)") {
                    if let action = EscalationChain.FinalAction(rawValue: text) {
                        finalAction = action
                    } else {
                        problem("\(path).then", at: then, "`\(text)` is not a final action; use \(choices)")
                    }
                }
            }
            guard let name, let levels, problems.count == before else { return nil }
            let chain = EscalationChain(name: name, levels: levels, finalAction: finalAction)
            do {
                // The checks above cover every rule; this keeps the file from ever accepting what the database refuses.
                try chain.validate()
            } catch {
                problem(path, at: node, error.description)
                return nil
            }
            return chain
        }

        mutating func name(_ node: Node?, path: String, in chain: Node) -> String? {
            guard let node else {
                if misspelled.contains("\(path).name") { return nil }
                problem(path, at: chain, "missing `name`; every chain has one, the gate it applies to, like `name: deploy-prod`")
                return nil
            }
            guard let name = string(node, path: "\(path).name", expected: "a chain name like `deploy-prod`") else { return nil }
            guard ApprovalRequest.isValidGateName(name) else {
                let lowered = name.lowercased()
                let fix =
                    ApprovalRequest.isValidGateName(lowered)
                    ? "names are lowercase, so write `\(lowered)`"
                    : "use 1–64 characters of a–z, 0–9, `-`, `_` or `.`, like `deploy-prod`"
                problem("\(path).name", at: node, "`\(name)` is not a valid chain name; \(fix)")
                return nil
            }
            return name
        }

        mutating func levels(_ node: Node?, path: String, in chain: Node) -> [EscalationChain.Level]? {
            let example = "`- users: [U012ABCDEF]` and `sla: 30m`"
            guard let node else {
                if misspelled.contains("\(path).levels") { return nil }
                problem(path, at: chain, "missing `levels`; a chain needs at least one level, like \(example)")
                return nil
            }
            guard case .sequence(let items) = node else {
                let found = node.isNull ? "nothing" : node.kind
                problem("\(path).levels", at: node, "expected a list of levels (each starting with `-`), found \(found)")
                return nil
            }
            if items.isEmpty {
                problem("\(path).levels", at: node, "is empty; a chain needs at least one level, like \(example)")
                return nil
            }
            if items.count > EscalationChain.maximumLevels {
                problem(
                    "\(path).levels", at: node,
                    "has \(items.count) levels; a chain has at most \(EscalationChain.maximumLevels)")
            }
            var levels: [EscalationChain.Level] = []
            var complete = true
            for (index, item) in items.enumerated() {
                if let level = level(item, path: "\(path).levels[\(index)]") {
                    levels.append(level)
                } else {
                    complete = false
                }
            }
            return complete ? levels : nil
        }

        mutating func level(_ node: Node, path: String) -> EscalationChain.Level? {
            guard
                let fields = fields(
                    of: node, path: path, allowed: ChainsFile.levelKeys, what: "a level", example: "`users:`, `groups:` and `sla:`")
            else { return nil }
            let before = problems.count
            let users = ids(fields["users"], path: "\(path).users", users: true)
            let groups = ids(fields["groups"], path: "\(path).groups", users: false)
            var sla: TimeInterval?
            if let node = fields["sla"] {
                if let text = string(node, path: "\(path).sla", expected: "a duration like `30m`") {
                    do {
                        sla = try ChainDuration.parse(text)
                    } catch .empty {
                        problem("\(path).sla", at: node, "is empty; write a duration like `30m`, `1h30m` or `2d`")
                    } catch {
                        problem("\(path).sla", at: node, "`\(text)` is not a duration: it \(error.reason)")
                    }
                }
            } else if !misspelled.contains("\(path).sla") {
                problem(path, at: node, "missing `sla`; say how long this level has to decide, like `sla: 30m`")
            }
            guard let users, let groups else { return nil }
            let approvers = users + groups  // a name listed twice is kept once by `Level`
            if approvers.isEmpty && !misspelled.contains("\(path).users") && !misspelled.contains("\(path).groups") {
                problem(path, at: node, "names nobody; give it `users`, `groups` or both, like `users: [U012ABCDEF]`")
            }
            guard problems.count == before, let sla else { return nil }
            return EscalationChain.Level(approvers: approvers, sla: sla)
        }

        /// `users` or `groups`: a list of Slack IDs, each shaped like its kind; `nil` after a problem.
        mutating func ids(_ node: Node?, path: String, users: Bool) -> [EscalationChain.Approver]? {
            guard let node, !node.isNull else { return [] }
            let make: (String) -> EscalationChain.Approver = users ? { .user($0) } : { .group($0) }
            let other: (String) -> EscalationChain.Approver = users ? { .group($0) } : { .user($0) }
            let kind = users ? "user" : "user group"
            let shape = users ? "`U…` or `W…`" : "`S…`"
            guard case .sequence(let items) = node else {
                let example = users ? "[U012ABCDEF]" : "[S0SREONCALL]"
                problem(path, at: node, "expected a list of Slack \(kind) IDs like `\(example)`, found \(node.kind)")
                return nil
            }
            var approvers: [EscalationChain.Approver] = []
            var complete = true
            for (index, item) in items.enumerated() {
                let itemPath = "\(path)[\(index)]"
                guard let id = string(item, path: itemPath, expected: "a Slack \(kind) ID (\(shape))") else {
                    complete = false
                    continue
                }
                guard make(id).isValid else {
                    let hint =
                        if make(id.uppercased()).isValid {
                            "; Slack IDs are uppercase, so write `\(id.uppercased())`"
                        } else if other(id).isValid {
                            "; it looks like a \(users ? "user group" : "user") ID, which goes under `\(users ? "groups" : "users")`"
                        } else {
                            "; write \(shape) followed by 1–31 uppercase letters or digits"
                        }
                    problem(itemPath, at: item, "`\(id)` is not a Slack \(kind) ID\(hint)")
                    complete = false
                    continue
                }
                approvers.append(make(id))
            }
            return complete ? approvers : nil
        }

        /// A scalar's text as written; `nil` (with a problem) for nothing, a list or a mapping.
        mutating func string(_ node: Node, path: String, expected: String) -> String? {
            guard case .scalar(let scalar) = node, !node.isNull else {
                problem(path, at: node, "expected \(expected), found \(node.isNull ? "nothing" : node.kind)")
                return nil
            }
            return scalar.string
        }

        /// A mapping's values by key, after refusing keys not in `allowed`; `nil` when `node` is not a mapping.
        mutating func fields(of node: Node, path: String, allowed: [String], what: String, example: String) -> [String: Node]? {
            guard case .mapping(let mapping) = node else {
                problem(path, at: node, "expected \(what) (\(example)), found \(node.isNull ? "nothing" : node.kind)")
                return nil
            }
            var fields: [String: Node] = [:]
            let prefix = path.isEmpty ? "" : "\(path)."
            let known = allowed.map { "`\($0)`" }
            let list = known.count == 1 ? known[0] : known.dropLast().joined(separator: ", ") + " and " + known.last!
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    problem(path, at: key, "a key must be a plain word; \(what) has \(list)")
                    continue
                }
                guard allowed.contains(scalar.string) else {
                    let closest = Spelling.closest(to: scalar.string, among: allowed)
                    if let closest { misspelled.insert("\(prefix)\(closest)") }
                    // After a question the list starts a sentence; after the semicolon it goes on the same one.
                    let rest = closest.map { "did you mean `\($0)`? \(what.prefix(1).uppercased() + what.dropFirst())" } ?? what
                    problem("\(prefix)\(scalar.string)", at: key, "unknown key `\(scalar.string)`; \(rest) has \(list)")
                    continue
                }
                fields[scalar.string] = value
            }
            return fields
        }
    }

    // MARK: Writing

    /// `chains` in the file format, sorted by name, with a header saying how to apply it; ``parse(_:)-(String)`` reads
    /// it back as the same chains. Ends with a newline.
    static func render(_ chains: [EscalationChain]) -> String {
        var lines = [
            "# Gatehouse escalation chains, from `gatehouse chains export`.",
            "# Edit, then apply with `gatehouse chains apply FILE` (--dry-run shows what would change; --prune deletes",
            "# chains that are not in the file). Requests already filed keep the chain they were filed under.",
        ]
        if chains.isEmpty {
            lines.append("chains: []")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("chains:")
        for chain in chains.sorted(by: { $0.name < $1.name }) {
            lines.append("  - name: \(scalar(chain.name))")
            lines.append("    levels:")
            for level in chain.levels {
                var entries: [String] = []
                let users = level.approvers.compactMap { approver in if case .user(let id) = approver { id } else { nil } }
                let groups = level.approvers.compactMap { approver in if case .group(let id) = approver { id } else { nil } }
                if !users.isEmpty { entries.append("users: [\(users.map(scalar).joined(separator: ", "))]") }
                if !groups.isEmpty { entries.append("groups: [\(groups.map(scalar).joined(separator: ", "))]") }
                entries.append("sla: \(scalar(ChainDuration.format(level.sla)))")
                for (index, entry) in entries.enumerated() {
                    lines.append((index == 0 ? "      - " : "        ") + entry)
                }
            }
            lines.append("    then: \(chain.finalAction.rawValue)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as a plain YAML scalar when it reads back as itself in a flow list too, else double-quoted.
    static func scalar(_ text: String) -> String {
        if let node = try? Yams.compose(yaml: "[\(text)]"), case .sequence(let items) = node, items.count == 1,
            case .scalar(let scalar) = items[0], scalar.string == text, Resolver.default.resolveTag(of: items[0]) == .str
        {
            return text
        }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }
}

/// One mistake in a chains file: where (`chains[1].levels[0].sla`, line and column) and what, in words that say how
/// to fix it.
struct ChainsFileProblem: Sendable, Equatable, CustomStringConvertible {
    /// The path to the value at fault; empty for the file as a whole.
    var path: String
    /// 1-based, from the YAML parser, when known.
    var line: Int?
    var column: Int?
    var message: String

    init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// A problem the YAML parser itself found: the text is not YAML at all.
    init(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            self.init(path: "", line: mark.line, column: mark.column, message: "not valid YAML: \(problem)\(during)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "`\($0)`" }.joined(separator: ", ")
            self.init(
                path: "", line: context.mark.line, column: context.mark.column,
                message: "the key \(keys) appears twice in the same mapping; keep one")
        case .reader(let problem, _, _, _):
            self.init(path: "", message: "not readable as YAML: \(problem)")
        default:
            self.init(path: "", message: "not valid YAML: \(error)")
        }
    }

    /// `chains.yaml:12:14: chains[1].levels[0].sla: `5x` is not a duration: …`, as compilers print locations.
    func description(file: String) -> String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        return "\(location): " + (path.isEmpty ? "" : "\(path): ") + message
    }

    var description: String {
        let location = line.map { "line \($0): " } ?? ""
        return location + (path.isEmpty ? "" : "\(path): ") + message
    }
}

/// Why a chains file was refused: every problem found, in the order they appear in the file.
struct ChainsFileError: Error, Sendable, Equatable, CustomStringConvertible {
    var problems: [ChainsFileProblem]

    init(_ problems: [ChainsFileProblem]) {
        self.problems = problems
    }

    /// `problems` in the order of the file, as an editor lists them; the sort is stable, so a line's problems keep
    /// theirs.
    init(inFileOrder problems: [ChainsFileProblem]) {
        self.problems = problems.enumerated().sorted { a, b in
            (a.element.line ?? 0, a.element.column ?? 0, a.offset) < (b.element.line ?? 0, b.element.column ?? 0, b.offset)
        }.map(\.element)
    }

    /// Prints every problem at its place in `file`, then how many there were and that nothing was changed.
    func report(file: String, to terminal: Terminal) {
        for problem in problems { terminal.err(problem.description(file: file)) }
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        terminal.err("gatehouse: \(count) in \(file); nothing was changed.")
    }

    var description: String { problems.map(\.description).joined(separator: "\n") }
}

extension Node {
    /// `~`, `null` or nothing at all, unquoted.
    var isNull: Bool {
        if case .scalar = self { return Resolver.default.resolveTag(of: self) == .null }
        return false
    }

    /// What the value is, for "expected …, found …".
    var kind: String {
        switch self {
        case .scalar(let scalar): isNull ? "nothing" : "`\(scalar.string)`"
        case .mapping: "a mapping (`key: value` lines)"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
