import ApprovalCore
import Foundation
import Testing

@testable import SlackBridge

@Suite("Slash command grammar for chains")
struct ChainCommandGrammarTests {
    typealias Level = EscalationChain.Level

    static func parse(_ text: String) throws(ChainCommandError) -> ChainCommand {
        try ChainCommandGrammar.parse(text, command: "/gatehouse")
    }

    /// The refusal of `text`, or `nil` when it parses.
    static func refusal(_ text: String, command: String = "/gatehouse") -> ChainCommandError? {
        do {
            _ = try ChainCommandGrammar.parse(text, command: command)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Valid forms

    @Test(
        "help, chains, pending, show and delete, in any letter case",
        arguments: [
            ("", ChainCommand.help), ("   ", .help), ("help", .help), ("HELP", .help), ("help chain set", .help),
            ("chains", .chains), ("Chains", .chains), ("pending", .pending), (" pending ", .pending),
            ("chain show deploy-prod", .show("deploy-prod")), ("Chain Show deploy-prod", .show("deploy-prod")),
            ("chain delete a.b_c-9", .delete("a.b_c-9")), ("admin list", .adminList), ("Admin List", .adminList),
        ])
    func simpleCommands(text: String, expected: ChainCommand) throws {
        #expect(try Self.parse(text) == expected)
    }

    @Test("the issue's example: two people for 30m, then a user group for 1h, then reject")
    func issueExample() throws {
        let command = try Self.parse("chain set deploy-prod <@U1> <@U2> 30m, <!subteam^S1|@sre> 1h then reject")
        let expected = EscalationChain(
            name: "deploy-prod",
            levels: [Level(approvers: [.user("U1"), .user("U2")], sla: 1_800), Level(approvers: [.group("S1")], sla: 3_600)],
            finalAction: .reject
        )
        #expect(command == .set(expected))
    }

    @Test(
        "every mention form Slack sends, every final action, and the optional `then`",
        arguments: [
            (
                "chain set deploy-prod <@U012ABC> 90s",
                EscalationChain(name: "deploy-prod", levels: [Level(approvers: [.user("U012ABC")], sla: 90)])
            ),
            (
                "chain set deploy-prod <@U012ABC|alice> <!subteam^S012AB|@sre> <!subteam^S0XY> 1h30m then approve",
                EscalationChain(
                    name: "deploy-prod",
                    levels: [Level(approvers: [.user("U012ABC"), .group("S012AB"), .group("S0XY")], sla: 5_400)],
                    finalAction: .approve
                )
            ),
            (
                "chain set db <@W0GRID> 2d then hold",
                EscalationChain(name: "db", levels: [Level(approvers: [.user("W0GRID")], sla: 172_800)], finalAction: .hold)
            ),
            (
                "CHAIN SET db <@U1> 1d12h THEN Hold",
                EscalationChain(name: "db", levels: [Level(approvers: [.user("U1")], sla: 129_600)], finalAction: .hold)
            ),
            (
                "chain set db <@U1|Ann Lee> 30m",
                EscalationChain(name: "db", levels: [Level(approvers: [.user("U1")], sla: 1_800)])
            ),
        ]
    )
    func mentionsAndActions(text: String, expected: EscalationChain) throws {
        #expect(try Self.parse(text) == .set(expected))
    }

    @Test(
        "commas between levels may touch either word, stand alone, or be left out",
        arguments: [
            "chain set x <@U1> 30m, <@U2> 1h, <@U3> 2h",
            "chain set x <@U1> 30m,<@U2> 1h ,<@U3> 2h",
            "chain set x <@U1> 30m , <@U2> 1h , <@U3> 2h then reject",
            "chain set x <@U1> 30m <@U2> 1h <@U3> 2h",
            "chain set x\t<@U1>  30m,\n<@U2> 1h, <@U3> 2h",
        ]
    )
    func commas(text: String) throws {
        let expected = EscalationChain(
            name: "x",
            levels: [
                Level(approvers: [.user("U1")], sla: 1_800), Level(approvers: [.user("U2")], sla: 3_600),
                Level(approvers: [.user("U3")], sla: 7_200),
            ]
        )
        #expect(try Self.parse(text) == .set(expected))
    }

    @Test("a person named twice in a level counts once; across levels they stay in each")
    func duplicates() throws {
        let command = try Self.parse("chain set x <@U1> <@U1|alice> 30m, <@U1> <@U2> 1h")
        let expected = EscalationChain(
            name: "x",
            levels: [Level(approvers: [.user("U1")], sla: 1_800), Level(approvers: [.user("U1"), .user("U2")], sla: 3_600)]
        )
        #expect(command == .set(expected))
    }

    @Test("ten levels are accepted")
    func tenLevels() throws {
        let text = "chain set x " + (1...10).map { "<@U\($0)> \($0)m" }.joined(separator: ", ")
        guard case .set(let chain) = try Self.parse(text) else {
            Issue.record("not a chain")
            return
        }
        #expect(chain.levels.count == 10)
        #expect(chain.levels.last == Level(approvers: [.user("U10")], sla: 600))
    }

    @Test("admin add and remove take people, each once, with or without commas")
    func adminPeople() throws {
        #expect(try Self.parse("admin add <@U1>") == .adminAdd(["U1"]))
        #expect(try Self.parse("admin add <@U1|alice>, <@U2> <@U1>") == .adminAdd(["U1", "U2"]))
        #expect(try Self.parse("Admin Remove <@W9>") == .adminRemove(["W9"]))
    }

    // MARK: Refusals

    @Test(
        "each refusal quotes the word at fault, says where it is, and how to fix it",
        arguments: [
            // Commands and sub-commands.
            ("deploy", 1, "`deploy` (word 1) is not a command I know; try `/gatehouse help` for the list."),
            ("chain", nil, "`chain` needs `set`, `show` or `delete` after it, like `/gatehouse chain show deploy-prod`."),
            (
                "chain list", 2,
                "`list` (word 2) is not a `chain` command; use `chain set`, `chain show` or `chain delete`, or `chains` for all of them."
            ),
            ("chains all", 2, "`all` (word 2) is not expected after `chains`; remove it."),
            ("pending now", 2, "`now` (word 2) is not expected after `pending`; remove it."),
            ("chain show", nil, "`chain show` needs a chain name after it, like `/gatehouse chain show deploy-prod`."),
            ("chain show a b", 4, "`b` (word 4) is not expected after the chain name; remove it."),
            ("chain delete", nil, "`chain delete` needs a chain name after it, like `/gatehouse chain delete deploy-prod`."),
            // Names.
            (
                "chain set", nil,
                "`chain set` needs a chain name after it, like `/gatehouse chain set deploy-prod @alice 30m`."
            ),
            (
                "chain set Deploy-Prod <@U1> 30m", 3,
                "`Deploy-Prod` (word 3) is not a valid chain name; names are lowercase, so write `deploy-prod`."
            ),
            (
                "chain show deploy/prod", 3,
                "`deploy/prod` (word 3) is not a valid chain name; use up to 64 of a–z, 0–9, `-`, `_` and `.`, like `deploy-prod`."
            ),
            (
                "chain set <@U1> 30m", 3,
                "Word 3 should be the chain name, not <@U1>; write the name first, like `/gatehouse chain set deploy-prod @alice 30m`."
            ),
            // Levels.
            (
                "chain set deploy-prod", nil,
                "`deploy-prod` needs at least one level after its name: people or groups and then how long they have, like `/gatehouse chain set deploy-prod @alice 30m`."
            ),
            ("chain set x <@U1> <@U2>", 5, "Level 1 needs a duration after <@U2> (word 5), like `30m`."),
            (
                "chain set x <@U1> 30m, <!subteam^S1|@sre>, <@U3> 1h", 6,
                "Level 2 needs a duration after <!subteam^S1> (word 6), like `30m`."
            ),
            ("chain set x <@U1> then reject", 4, "Level 1 needs a duration after <@U1> (word 4), like `30m`."),
            ("chain set x 30m", 4, "Level 1 has nobody before `30m` (word 4); put people or groups first, like `@sre 30m`."),
            ("chain set x <@U1> 30m, 1h", 6, "Level 2 has nobody before `1h` (word 6); put people or groups first, like `@sre 1h`."),
            (
                "chain set x <@U1> 30m 1h", 6,
                "Level 1 already has `30m`; remove `1h` (word 6), or put people before it to start level 2."
            ),
            ("chain set x <@U1> 30m,, <@U2> 1h", 5, "Level 2 is empty; remove the comma after `30m` (word 5)."),
            ("chain set x <@U1> 30m,", 5, "Level 2 is empty; remove the comma after `30m` (word 5)."),
            ("chain set x <@U1> 30m, then hold", 5, "Level 2 is empty; remove the comma after `30m` (word 5)."),
            ("chain set x , <@U1> 30m", 3, "Level 1 is empty; remove the comma after `x` (word 3)."),
            // Durations.
            ("chain set x <@U1> 30", 5, "`30` (word 5) has no unit; add d, h, m or s: `30s` is 30 seconds, `30m` 30 minutes."),
            ("chain set x <@U1> m", 5, "`m` (word 5) needs a number before `m`, like `30m`."),
            ("chain set x <@U1> 0s", 5, "`0s` (word 5) is under 1 second; the shortest is `1s`."),
            ("chain set x <@U1> 1x", 5, "`1x` (word 5) has `x`, which is not a unit; use d, h, m or s, like `1h30m`."),
            ("chain set x <@U1> 1h1h", 5, "`1h1h` (word 5) uses `h` twice; write `2h`."),
            ("chain set x <@U1> 1m1h", 5, "`1m1h` (word 5) has its units out of order; they go d, h, m, s, so write `1h1m`."),
            ("chain set x <@U1> 31d", 5, "`31d` (word 5) is over 30 days; the longest is `30d`."),
            ("chain set x <@U1> 30min", 5, "`30min` (word 5) spells out its unit; write `30m`."),
            // What cannot decide.
            (
                "chain set x @alice 30m", 4,
                "`@alice` (word 4) is plain text, not a mention; pick the person or group from the autocomplete as you type `@`."
            ),
            ("chain set x <#C1|general> 30m", 4, "`#general` (word 4) is a channel; mention people or user groups instead."),
            ("chain set x <!here> 30m", 4, "`@here` (word 4) means everyone, not one person; mention people or user groups instead."),
            (
                "chain set x <!channel|channel> 30m", 4,
                "`@channel` (word 4) means everyone, not one person; mention people or user groups instead."
            ),
            ("chain set x <https://x.example|site> 30m", 4, "`site` (word 4) is a link; mention people or user groups instead."),
            ("chain set x <@u1> 30m", 4, "`&lt;@u1&gt;` (word 4) is not a person or user group; mention people or user groups instead."),
            ("chain set x <@U1 30m", 4, "`&lt;@U1 30m` (word 4) is not a complete mention; mention people or user groups instead."),
            // Unknown words and final actions.
            (
                "chain set x <@U1> soon", 5,
                "`soon` (word 5) is neither a mention nor a duration; a level is people or groups and then how long they have, like `@alice 30m`."
            ),
            (
                "chain set x <@U1> and <@U2> 30m", 5,
                "`and` (word 5) is neither a mention nor a duration; a level is people or groups and then how long they have, like `@alice 30m`."
            ),
            ("chain set x <@U1> 30m reject", 6, "`reject` (word 6) needs `then` before it: write `then reject`."),
            ("chain set x <@U1> 30m then", 6, "`then` (word 6) needs `reject`, `approve` or `hold` after it."),
            (
                "chain set x <@U1> 30m then deny", 7,
                "`deny` (word 7) is not a final action; write `then reject`, `then approve` or `then hold`."
            ),
            (
                "chain set x <@U1> 30m then hold please", 8,
                "`please` (word 8) comes after the final action; remove it, since `then hold` ends the command."
            ),
            (
                "chain set x <@U1> 30m then hold, <@U2> 1h", 8,
                "<@U2> (word 8) comes after the final action; remove it, since `then hold` ends the command."
            ),
            (
                "chain set x then reject", 4,
                "`then` (word 4) comes before any level; put people and a duration first, like `@alice 30m then reject`."
            ),
            (
                "chain set x <a&b> 30m", 4,
                "`&lt;a&amp;b&gt;` (word 4) is not a person or user group; mention people or user groups instead."
            ),
            // The chain as a whole.
            (
                "chain set x " + (1...11).map { "<@U\($0)> 1m" }.joined(separator: ", "), nil,
                "A chain has at most 10 levels; this one has 11."
            ),
            // Admins.
            ("admin", nil, "`admin` needs `add`, `remove` or `list` after it, like `/gatehouse admin add @alice`."),
            ("admin promote <@U1>", 2, "`promote` (word 2) is not an `admin` command; use `admin add`, `admin remove` or `admin list`."),
            ("admin add", nil, "`admin add` needs one or more people after it, like `/gatehouse admin add @alice`."),
            ("admin remove", nil, "`admin remove` needs one or more people after it, like `/gatehouse admin remove @alice`."),
            ("admin list <@U1>", 3, "<@U1> (word 3) is not expected after `admin list`; remove it."),
            (
                "admin add <!subteam^S1|@sre>", 3,
                "<!subteam^S1> (word 3) is a user group; admins are people, so mention each person."
            ),
            (
                "admin add @bob", 3,
                "`@bob` (word 3) is plain text, not a mention; pick the person or group from the autocomplete as you type `@`."
            ),
            ("admin add bob", 3, "`bob` (word 3) is not a person; mention people, like `/gatehouse admin add @alice`."),
            ("admin add <!here>", 3, "`@here` (word 3) means everyone, not one person; admins are people, so mention each person."),
        ]
    )
    func refusals(text: String, word: Int?, message: String) throws {
        let error = try #require(Self.refusal(text), "accepted: \(text)")
        #expect(error.message == message)
        #expect(error.word == word)
        #expect(error.description == message)
    }

    @Test("refusals carry a kind the caller can branch on")
    func kinds() {
        #expect(Self.refusal("chain set x <@U1> 30")?.kind == .invalidDuration(.noUnit("30")))
        #expect(Self.refusal("chain set x <@U1>")?.kind == .missingDuration)
        #expect(Self.refusal("chain set x <@U1> 30m,")?.kind == .emptyLevel)
        #expect(Self.refusal("chain set x @alice 30m")?.kind == .unescapedMention)
        #expect(Self.refusal("chain set x <!here> 30m")?.kind == .notAnApprover)
        #expect(Self.refusal("chain set Big <@U1> 30m")?.kind == .invalidName)
        #expect(Self.refusal("chain set x <@U1> 30m so")?.kind == .unknownWord)
        #expect(Self.refusal("chain set x <@U1> 30m then hold now")?.kind == .extraWord)
        #expect(Self.refusal("admin add")?.kind == .missingWord)
        let tooMany = "chain set x " + (1...11).map { "<@U\($0)> 1m" }.joined(separator: " ")
        #expect(Self.refusal(tooMany)?.kind == .invalidChain(.levelCount(11)))
    }

    @Test("every refusal is one sentence: one full stop, at the end, no line breaks")
    func oneSentence() throws {
        for text in ["deploy", "chain set x <@U1> 30", "chain set x <@U1> 30m, 1h", "admin add bob", "chain set x @a 1m"] {
            let message = try #require(Self.refusal(text)).message
            #expect(message.hasSuffix("."))
            #expect(!message.contains("\n"))
            #expect(!message.dropLast().contains(". "), "\(message)")
        }
    }

    @Test("a different command name shows in the examples")
    func commandName() throws {
        let error = try #require(Self.refusal("chain", command: "/approve"))
        #expect(error.message.contains("`/approve chain show deploy-prod`"))
        #expect(Self.refusal("chain", command: "")?.message.contains("`/gatehouse chain show deploy-prod`") == true)
    }

    // MARK: Help

    @Test("help shows the grammar, the final actions and examples with the command's name")
    func help() {
        let text = ChainCommandGrammar.help(command: "/gatehouse")
        for part in [
            "`/gatehouse chain set NAME LEVEL[, LEVEL…] [then reject|approve|hold]`", "`90s`", "`30m`", "`1h30m`", "`2d`",
            "`then reject`", "`then approve`", "`then hold`", "`/gatehouse chain show NAME`", "`/gatehouse chains`",
            "`/gatehouse chain delete NAME`", "`/gatehouse pending`", "`/gatehouse admin list`",
            "`/gatehouse chain set deploy-prod @alice @bob 30m, @sre-oncall 1h then reject`",
        ] {
            #expect(text.contains(part), "\(part)")
        }
        #expect(ChainCommandGrammar.help(command: "/approve").contains("`/approve chain show NAME`"))
        #expect(ChainCommandGrammar.help(command: "").contains("`/gatehouse help`"))
    }
}
