import ApprovalCore
import Foundation
import GatehouseServer
import ServerTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SlackAPI
import SlackBridge
import Storage
import Testing

extension SlackDriver {
    /// The form fields Slack posts when `user` types `name text`.
    static func commandBody(_ text: String, by user: String, name: String = "/gatehouse") -> String {
        SlackRequestSigner.formBody([
            ("token", "deprecated-verification-token"), ("team_id", "T1"), ("team_domain", "acme"),
            ("channel_id", "C1"), ("channel_name", "ops"), ("user_id", user), ("user_name", "someone"),
            ("command", name), ("text", text), ("api_app_id", "A1"), ("is_enterprise_install", "false"),
            ("response_url", "https://hooks.slack.com/commands/T1/1/abc"), ("trigger_id", SlackDriver.nextTrigger()),
        ])
    }

    /// Types `name text` as `user` and returns the reply, which must be a 200 message shown to that user only.
    func command(
        _ text: String, by user: String, name: String = "/gatehouse", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let response = try await post("/slack/commands", body: Self.commandBody(text, by: user, name: name))
        #expect(response.status == .ok, sourceLocation: sourceLocation)
        #expect(response["response_type"] == .string("ephemeral"), sourceLocation: sourceLocation)
        return try #require(response["text"]?.stringValue, sourceLocation: sourceLocation)
    }
}

/// `/gatehouse …` end to end: signed form posts to the real application, checked against the database and the audit.
@Suite("Slack: the /gatehouse command for chains, admins and pending requests")
struct SlackCommandTests {
    static let admin = "U0ADMIN"

    /// `deploy-prod`, as the issue writes it: two people for 30m, then the SRE group for 1h, then reject.
    static let issueText = "chain set deploy-prod <@U0ALICE> <@U0BOB|bob> 30m, <!subteam^S0SRE|@sre> 1h then reject"
    static let issueChain = EscalationChain(
        name: "deploy-prod",
        levels: [
            .init(approvers: [.user("U0ALICE"), .user("U0BOB")], sla: 1800),
            .init(approvers: [.group("S0SRE")], sla: 3600),
        ],
        finalAction: .reject)
    static let issueLine = "<@U0ALICE> <@U0BOB> 30m → <!subteam^S0SRE> 1h → then reject"

    /// Runs `body` against an application whose `GATEHOUSE_ADMINS` is `admins`.
    static func withCommands(
        admins: [String] = [admin],
        _ body: @escaping @Sendable (TestEnvironment, FakeSlackWebAPI, SlackDriver) async throws -> Void
    ) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let fake = try await FakeSlackWebAPI.start()
        var configuration = env.slackConfiguration(fake)
        configuration.admins = admins
        try await env.application(configuration: configuration).test(.live) { client in
            try await body(env, fake, SlackDriver(env: env, client: client))
        }
        await fake.stop()
    }

    static func configChanges(_ env: TestEnvironment) async throws -> [AuditEntry] {
        try await env.database.auditEntries().filter { $0.kind == "config_changed" }
    }

    static func refusals(_ env: TestEnvironment) async throws -> [AuditEntry] {
        try await env.database.auditEntries().filter { $0.kind == "request_refused" }
    }

    /// Everything a configuration command could change.
    struct Configuration: Equatable {
        var chains: [EscalationChain]
        var storedAdmins: [String]
        var configChanges: [AuditEntry]

        init(_ env: TestEnvironment) async throws {
            chains = try await env.database.chains()
            storedAdmins = try await env.database.storedAdmins()
            configChanges = try await SlackCommandTests.configChanges(env)
        }
    }

    // MARK: help

    @Test("help and an empty command show the grammar with examples, using the command name Slack sent")
    func help() async throws {
        try await Self.withCommands { env, fake, slack in
            let help = try await slack.command("help", by: "U0ANYONE")
            #expect(help.contains("`/gatehouse chain set NAME LEVEL[, LEVEL…] [then reject|approve|hold]`"))
            #expect(help.contains("`/gatehouse chain set deploy-prod @alice @bob 30m, @sre-oncall 1h then reject`"))
            #expect(help.contains("`/gatehouse admin add @person…`"))
            #expect(try await slack.command("", by: "U0ANYONE") == help)
            let renamed = try await slack.command("HELP", by: "U0ANYONE", name: "/gh")
            #expect(renamed.contains("`/gh chains`"))
            #expect(!renamed.contains("/gatehouse"))
            #expect(fake.calls.isEmpty)
        }
    }

    // MARK: chain set

    @Test("an admin's chain set stores the chain and audits it with the admin, before and after; no Slack call is made")
    func adminSetsChain() async throws {
        try await Self.withCommands { env, fake, slack in
            let reply = try await slack.command(Self.issueText, by: Self.admin)
            #expect(reply.hasPrefix("Saved chain `deploy-prod`: \(Self.issueLine)."))
            #expect(!reply.contains("replaced"))
            #expect(reply.contains("requests already waiting keep the chain they started with"))
            #expect(try await env.database.chain(named: "deploy-prod") == Self.issueChain)

            let changes = try await Self.configChanges(env)
            #expect(changes.count == 1)
            let change = try #require(changes.first)
            #expect(change.actor == Self.admin)
            #expect(change.details["name"] == .string("deploy-prod"))
            #expect(change.details["change"] == .string("added"))
            #expect(change.details["before"] == .null)
            #expect(try change.details["after"]?.decode(EscalationChain.self) == Self.issueChain)
            #expect(fake.calls.isEmpty)
        }
    }

    @Test("then hold with a last SLA under 10 minutes, or levels longer than 30 days, are saved with a note; others are not")
    func frequentHoldNoted() async throws {
        try await Self.withCommands { env, _, slack in
            let often = try await slack.command("chain set noisy <@U0ALICE> 1h, <@U0BOB> 90s then hold", by: Self.admin)
            #expect(often.hasPrefix("Saved chain `noisy`"))
            #expect(often.hasSuffix(
                "\n:warning: Note: with then hold, level 2 is asked again every 90s until the request expires: 960 pings a day "
                    + "for a request nobody decides. A longer last SLA (10m or more) is easier on the people asked."))
            #expect(try await env.database.chain(named: "noisy") != nil)
            #expect(!(try await slack.command("chain set calm <@U0ALICE> 10m then hold", by: Self.admin)).contains(":warning:"))
            #expect(!(try await slack.command("chain set quick <@U0ALICE> 90s then reject", by: Self.admin)).contains(":warning:"))
            // Levels longer than a request can live: the last ones would be cut short.
            let long = try await slack.command("chain set long <@U0ALICE> 20d, <@U0BOB> 20d", by: Self.admin)
            #expect(long.hasSuffix(
                "\n:warning: Note: the levels add up to 40d, but a request lives at most 30d: level 2 gets 10d of its 20d."))
            let never = try await slack.command("chain set never <@U0ALICE> 30d, <@U0BOB> 1s", by: Self.admin)
            #expect(never.hasSuffix("the levels add up to 30d1s, but a request lives at most 30d: level 2 is never reached."))
            let three = try await slack.command("chain set three <@U0ALICE> 20d, <@U0BOB> 20d, <@U0CAROL> 1d, <@U0DAVE> 1d", by: Self.admin)
            #expect(three.hasSuffix("level 2 gets 10d of its 20d and level 3 on is never reached."))
        }
    }

    @Test("a second chain set replaces the chain at once; the reply and the audit show the old one")
    func secondSetReplaces() async throws {
        try await Self.withCommands { env, _, slack in
            _ = try await slack.command(Self.issueText, by: Self.admin)
            let reply = try await slack.command("chain set deploy-prod <@U0DAVE> 2h then hold", by: Self.admin)
            #expect(reply.contains("Saved chain `deploy-prod`: <@U0DAVE> 2h → then hold (it replaced: \(Self.issueLine))."))
            #expect(reply.contains("requests already waiting keep the chain they started with"))
            let replacement = EscalationChain(name: "deploy-prod", levels: [.init(approvers: [.user("U0DAVE")], sla: 7200)], finalAction: .hold)
            #expect(try await env.database.chains() == [replacement])

            let changes = try await Self.configChanges(env)
            #expect(changes.count == 2)
            let second = try #require(changes.last)
            #expect(second.actor == Self.admin)
            #expect(second.details["change"] == .string("changed"))
            #expect(try second.details["before"]?.decode(EscalationChain.self) == Self.issueChain)
            #expect(try second.details["after"]?.decode(EscalationChain.self) == replacement)

            // The same chain again changes nothing and says so.
            let same = try await slack.command("chain set deploy-prod <@U0DAVE> 2h then hold", by: Self.admin)
            #expect(same.contains("nothing changed"))
            #expect(try await Self.configChanges(env).count == 2)
        }
    }

    @Test("chain set, chain delete, admin add and admin remove by a non-admin change nothing, are refused politely naming the admins, and are audited")
    func nonAdminRefused() async throws {
        try await Self.withCommands { env, _, slack in
            _ = try await slack.command(Self.issueText, by: Self.admin)
            _ = try await slack.command("admin add <@U0BOB>", by: Self.admin)
            let before = try await Configuration(env)
            let attempts: [(text: String, command: String)] = [
                ("chain set deploy-prod <@U0MALLORY> 1s then approve", "chain set"),
                ("chain set other <@U0MALLORY> 1m", "chain set"),
                ("chain delete deploy-prod", "chain delete"),
                ("admin add <@U0MALLORY>", "admin add"),
                ("admin remove <@U0BOB>", "admin remove"),
                // Mistyped changes get the same refusal, not a lesson in the grammar.
                ("chain set deploy-prod <@U0MALLORY> soon", "chain set"),
                ("Chain Delete", "chain delete"),
                ("admin add everyone", "admin add"),
            ]
            for attempt in attempts {
                let reply = try await slack.command(attempt.text, by: "U0MALLORY")
                #expect(reply.hasPrefix("Sorry, only Gatehouse admins can change chains and admins; nothing was changed."))
                #expect(reply.contains("<@U0ADMIN>, <@U0BOB>"))
                #expect(!reply.contains("`/gatehouse help`"), "\(attempt.text): \(reply)")
            }
            #expect(try await Configuration(env) == before)
            let refusals = try await Self.refusals(env)
            #expect(refusals.map(\.actor) == Array(repeating: "U0MALLORY", count: attempts.count))
            #expect(refusals.map { $0.details["command"]?.stringValue } == attempts.map(\.command))
            #expect(refusals.allSatisfy { $0.details["reason"] == .string("not_admin") })
            #expect(refusals.first?.details["name"] == .string("deploy-prod"))
            #expect(refusals[3].details["users"] == .array([.string("U0MALLORY")]))
            // A mistyped change cannot name what it would change, so the text is kept as typed.
            #expect(refusals[5].details["text"] == .string("chain set deploy-prod <@U0MALLORY> soon"))

            // Reading stays open to everyone.
            #expect(try await slack.command("chain show deploy-prod", by: "U0MALLORY").contains("*Chain `deploy-prod`*"))
            #expect(try await slack.command("chains", by: "U0MALLORY").contains("`deploy-prod`"))
            #expect(try await slack.command("admin list", by: "U0MALLORY").contains("<@U0ADMIN>"))
        }
    }

    @Test(
        "a grammar refusal changes nothing, quotes the mistake and points at help without repeating it",
        arguments: [
            // Unknown words.
            ("chain sett deploy-prod <@U0ALICE> 30m", "`sett` (word 2) is not a `chain` command"),
            ("chain set deploy-prod <@U0ALICE> 30m please", "`please` (word 6) is neither a mention nor a duration"),
            // Missing durations.
            ("chain set deploy-prod <@U0ALICE> <@U0BOB>, <!subteam^S0SRE|@sre> 1h", "Level 1 needs a duration after <@U0BOB> (word 5)"),
            ("chain set deploy-prod <@U0ALICE> 30m, <@U0BOB> then reject", "Level 2 needs a duration after <@U0BOB> (word 6)"),
            // Empty levels.
            ("chain set deploy-prod <@U0ALICE> 30m,, <@U0BOB> 1h", "Level 2 is empty; remove the comma after `30m` (word 5)."),
            ("chain set deploy-prod <@U0ALICE> 30m, 1h", "Level 2 has nobody before `1h` (word 6)"),
            // Durations out of range.
            ("chain set deploy-prod <@U0ALICE> 0s", "`0s` (word 5) is under 1 second; the shortest is `1s`."),
            ("chain set deploy-prod <@U0ALICE> 31d", "`31d` (word 5) is over 30 days; the longest is `30d`."),
        ]
    )
    func grammarRefusals(text: String, mistake: String) async throws {
        try await Self.withCommands { env, fake, slack in
            _ = try await slack.command(Self.issueText, by: Self.admin)
            let before = try await Configuration(env)
            let auditCount = try await env.database.auditEntries().count
            let reply = try await slack.command(text, by: Self.admin)
            #expect(reply.hasPrefix(mistake))
            #expect(reply.contains("`/gatehouse help`"))
            #expect(!reply.contains("Examples:"))
            #expect(try await Configuration(env) == before)
            #expect(try await env.database.auditEntries().count == auditCount)
            #expect(fake.calls.isEmpty)
        }
    }

    @Test("an unknown command is named, with one pointer at help")
    func unknownCommand() async throws {
        try await Self.withCommands { _, _, slack in
            let reply = try await slack.command("frobnicate now", by: "U0ANYONE")
            #expect(reply == "`frobnicate` (word 1) is not a command I know; try `/gatehouse help` for the list.")
        }
    }

    // MARK: Reading chains

    @Test("chains lists one line per chain and the built-in default unless a chain is named default")
    func chainsList() async throws {
        try await Self.withCommands { _, _, slack in
            let empty = try await slack.command("chains", by: "U0ANYONE")
            #expect(empty.contains("No chains yet."))
            #expect(empty.contains("Requests whose gate has no chain use the built-in `default`: anyone in the channel, until the request expires."))

            _ = try await slack.command(Self.issueText, by: Self.admin)
            _ = try await slack.command("chain set db-migrations <@U0DBA> 2h, <@U0CTO> 1d then hold", by: Self.admin)
            let lines = try await slack.command("chains", by: "U0ANYONE").split(separator: "\n").map(String.init)
            #expect(lines == [
                "*Chains* (2):",
                "• `db-migrations`: <@U0DBA> 2h → <@U0CTO> 1d → then hold",
                "• `deploy-prod`: \(Self.issueLine)",
                "Requests whose gate has no chain use the built-in `default`: anyone in the channel, until the request expires.",
            ])

            _ = try await slack.command("chain set default <@U0ALICE> 1h", by: Self.admin)
            let withDefault = try await slack.command("chains", by: "U0ANYONE")
            #expect(withDefault.contains("• `default`: <@U0ALICE> 1h → then reject"))
            #expect(!withDefault.contains("built in"))
        }
    }

    @Test("chain show lists the levels one per line with their SLA and the final action; an absent chain names the default")
    func chainShow() async throws {
        try await Self.withCommands { _, _, slack in
            _ = try await slack.command(Self.issueText, by: Self.admin)
            let shown = try await slack.command("chain show deploy-prod", by: "U0ANYONE")
            #expect(shown.split(separator: "\n").map(String.init) == [
                "*Chain `deploy-prod`*, 2 levels:",
                "1. <@U0ALICE> <@U0BOB> — 30m",
                "2. <!subteam^S0SRE> — 1h",
                "Then *reject*: if nobody decides by the end, the request expires.",
            ])
            _ = try await slack.command("chain set docs <@U0WRITER> 1h30m then hold", by: Self.admin)
            #expect(try await slack.command("chain show docs", by: "U0ANYONE").hasSuffix("Then *hold*: the last level is asked again every 90m until the request expires."))

            let absent = try await slack.command("chain show staging", by: "U0ANYONE")
            #expect(absent.hasPrefix("No chain named `staging`."))
            #expect(absent.contains("use the default chain: anyone in the approvals channel"))
        }
    }

    @Test("a chain named default serves gates without a chain of their own: show says so, delete brings back the built-in rule")
    func storedDefault() async throws {
        try await Self.withCommands { env, _, slack in
            _ = try await slack.command("chain set default <@U0ALICE> 1h", by: Self.admin)
            let absent = try await slack.command("chain show staging", by: "U0ANYONE")
            #expect(absent.hasPrefix("No chain named `staging`. Requests with gate `staging` use the `default` chain: <@U0ALICE> 1h"))
            let filed = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"staging""#)
            #expect(try await env.database.approval(filed.id)?.chain.name == "default")
            #expect(try await slack.command("chain show default", by: "U0ANYONE").contains("1 request waiting uses its own snapshot"))
            let reply = try await slack.command("chain delete default", by: Self.admin)
            #expect(reply.hasPrefix("Deleted chain `default`; 1 request in flight keeps its snapshot."))
            #expect(reply.contains("New requests whose gate has no chain of its own use the built-in rule again: anyone in the channel"))
            let later = try await slack.client.createApproval(key: env.requestKey, action: "Later", extra: #","gate":"staging""#)
            #expect(try await env.database.approval(later.id)?.chain == .default)
        }
    }

    // MARK: chain delete

    @Test("chain delete says how many requests are in flight; they keep their snapshot; new ones get the default chain")
    func deleteWithRequestsInFlight() async throws {
        try await Self.withCommands { env, _, slack in
            _ = try await slack.command(Self.issueText, by: Self.admin)
            let first = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"deploy-prod""#)
            _ = try await slack.client.createApproval(key: env.requestKey, action: "Second", extra: #","gate":"deploy-prod""#)
            _ = try await slack.client.createApproval(key: env.requestKey, action: "Elsewhere")
            #expect(try await slack.command("chain show deploy-prod", by: "U0ANYONE").contains("2 requests waiting use their own snapshot"))

            let reply = try await slack.command("chain delete deploy-prod", by: Self.admin)
            #expect(reply.hasPrefix("Deleted chain `deploy-prod`; 2 requests in flight keep their snapshot."))
            #expect(reply.contains("It was: \(Self.issueLine)."))
            #expect(try await env.database.chain(named: "deploy-prod") == nil)
            #expect(try await env.database.approval(first.id)?.chain == Self.issueChain)
            let deleted = try #require(try await Self.configChanges(env).last)
            #expect(deleted.actor == Self.admin)
            #expect(deleted.details["change"] == .string("deleted"))
            #expect(try deleted.details["before"]?.decode(EscalationChain.self) == Self.issueChain)
            #expect(deleted.details["after"] == .null)

            let later = try await slack.client.createApproval(key: env.requestKey, action: "Later", extra: #","gate":"deploy-prod""#)
            #expect(try await env.database.approval(later.id)?.chain == .default)
            let changes = try await Self.configChanges(env).count
            #expect(try await slack.command("chain delete deploy-prod", by: Self.admin) == "No chain named `deploy-prod`; nothing deleted.")
            #expect(try await Self.configChanges(env).count == changes)
        }
    }

    @Test("one request in flight is counted in the singular")
    func deleteWithOneRequest() async throws {
        try await Self.withCommands { env, _, slack in
            _ = try await slack.command("chain set docs <@U0WRITER> 1h", by: Self.admin)
            _ = try await slack.client.createApproval(key: env.requestKey, extra: #","gate":"docs""#)
            let reply = try await slack.command("chain delete docs", by: Self.admin)
            #expect(reply.hasPrefix("Deleted chain `docs`; 1 request in flight keeps its snapshot."))
        }
    }

    // MARK: Admins

    @Test("admin add by an admin lets the new admin change chains; it is audited with the lists before and after")
    func adminAdd() async throws {
        try await Self.withCommands { env, _, slack in
            let refused = try await slack.command("chain set docs <@U0WRITER> 1h", by: "U0BOB")
            #expect(refused.hasPrefix("Sorry"))
            #expect(try await env.database.chain(named: "docs") == nil)

            let added = try await slack.command("admin add <@U0BOB|bob> <@U0CAROL>", by: Self.admin)
            #expect(added == "Added <@U0BOB>, <@U0CAROL> as admins.")
            #expect(try await env.database.storedAdmins() == ["U0BOB", "U0CAROL"])
            let change = try #require(try await Self.configChanges(env).last)
            #expect(change.actor == Self.admin)
            #expect(change.details["what"] == .string("admins"))
            #expect(change.details["before"] == .array([]))
            #expect(change.details["after"] == .array([.string("U0BOB"), .string("U0CAROL")]))

            let saved = try await slack.command("chain set docs <@U0WRITER> 1h", by: "U0BOB")
            #expect(saved.hasPrefix("Saved chain `docs`"))
            #expect(try await env.database.chain(named: "docs")?.levels.first?.approvers == [.user("U0WRITER")])
            #expect(try await Self.configChanges(env).last?.actor == "U0BOB")

            let again = try await slack.command("admin add <@U0BOB> <@U0ADMIN> <@U0DAVE>", by: "U0CAROL")
            #expect(again.split(separator: "\n").map(String.init) == [
                "Added <@U0DAVE> as an admin.",
                "<@U0BOB> was already an admin.",
                "<@U0ADMIN> is already an admin through `GATEHOUSE_ADMINS`.",
            ])
            #expect(try await env.database.storedAdmins() == ["U0BOB", "U0CAROL", "U0DAVE"])
        }
    }

    @Test("admin remove takes away stored admins, says who was not one, and sends GATEHOUSE_ADMINS changes to the configuration")
    func adminRemove() async throws {
        try await Self.withCommands { env, _, slack in
            _ = try await slack.command("admin add <@U0BOB> <@U0CAROL>", by: Self.admin)
            let reply = try await slack.command("admin remove <@U0BOB> <@U0ZED> <@U0ADMIN>", by: Self.admin)
            #expect(reply.split(separator: "\n").map(String.init) == [
                "Removed <@U0BOB> from the admins.",
                "<@U0ZED> was not an admin.",
                "<@U0ADMIN> is an admin through `GATEHOUSE_ADMINS`; to remove them, change that setting in the configuration and restart Gatehouse.",
            ])
            #expect(try await env.database.storedAdmins() == ["U0CAROL"])
            let change = try #require(try await Self.configChanges(env).last)
            #expect(change.actor == Self.admin)
            #expect(change.details["before"] == .array([.string("U0BOB"), .string("U0CAROL")]))
            #expect(change.details["after"] == .array([.string("U0CAROL")]))

            #expect(try await slack.command("chain set docs <@U0WRITER> 1h", by: "U0BOB").hasPrefix("Sorry"))
            #expect(try await env.database.chains().isEmpty)
            // An admin from the configuration stays one.
            #expect(try await slack.command("chain set docs <@U0WRITER> 1h", by: Self.admin).hasPrefix("Saved"))
        }
    }

    @Test("the last admin cannot remove themselves")
    func lastAdminStays() async throws {
        try await Self.withCommands(admins: []) { env, _, slack in
            try await env.database.addAdmins(["U0ROOT"], by: "test")
            let changes = try await Self.configChanges(env).count
            let reply = try await slack.command("admin remove <@U0ROOT>", by: "U0ROOT")
            #expect(reply.hasPrefix("That would leave Gatehouse with no admin at all, so nothing was removed."))
            #expect(try await env.database.storedAdmins() == ["U0ROOT"])
            #expect(try await Self.configChanges(env).count == changes)

            _ = try await slack.command("admin add <@U0NEXT>", by: "U0ROOT")
            #expect(try await slack.command("admin remove <@U0ROOT>", by: "U0ROOT") == "Removed <@U0ROOT> from the admins.")
            #expect(try await env.database.storedAdmins() == ["U0NEXT"])
        }
    }

    @Test("admin list shows the configured and the added admins as mentions, labelled")
    func adminList() async throws {
        try await Self.withCommands(admins: ["U0ADMIN", "U0OPS"]) { _, _, slack in
            let before = try await slack.command("admin list", by: "U0ANYONE")
            #expect(before.contains("• From `GATEHOUSE_ADMINS`: <@U0ADMIN>, <@U0OPS>"))
            #expect(before.contains("• Added with `/gatehouse admin add`: none"))
            _ = try await slack.command("admin add <@U0BOB>", by: "U0OPS")
            let after = try await slack.command("admins list", by: "U0ANYONE")
            #expect(after.contains("• From `GATEHOUSE_ADMINS`: <@U0ADMIN>, <@U0OPS>"))
            #expect(after.contains("• Added with `/gatehouse admin add`: <@U0BOB>"))
        }
    }

    @Test("with no admin configured or added, nobody may change anything, not even the first to try, and the reply says how to configure one")
    func noAdminsAtAll() async throws {
        try await Self.withCommands(admins: []) { env, _, slack in
            let before = try await Configuration(env)
            for text in [Self.issueText, "admin add <@U0FIRST>", "chain delete deploy-prod"] {
                let reply = try await slack.command(text, by: "U0FIRST")
                #expect(reply.hasPrefix("Sorry, only Gatehouse admins can change chains and admins, and none is configured yet."))
                #expect(reply.contains("`GATEHOUSE_ADMINS`"))
            }
            #expect(try await Configuration(env) == before)
            #expect(try await env.database.storedAdmins().isEmpty)
            let refusals = try await Self.refusals(env)
            #expect(refusals.count == 3)
            #expect(refusals.allSatisfy { $0.actor == "U0FIRST" && $0.details["reason"] == .string("no_admins") })
            let list = try await slack.command("admin list", by: "U0FIRST")
            #expect(list.contains("none yet"))
            #expect(list.contains("`GATEHOUSE_ADMINS`"))
        }
    }

    // MARK: pending

    @Test("pending lists action, gate, age, level of the chain's levels, and a link to the message")
    func pending() async throws {
        try await Self.withCommands { env, fake, slack in
            #expect(try await slack.command("pending", by: "U0ANYONE") == "Nothing is waiting for a decision.")
            _ = try await slack.command("chain set deploy-prod <@U0ALICE> 30m, <@U0DAVE> 1h, <@U0CTO> 2h", by: Self.admin)
            let escalating = try await slack.client.createApproval(key: env.requestKey, action: "Deploy api", extra: #","gate":"deploy-prod""#)
            let plain = try await slack.client.createApproval(key: env.requestKey, action: "Rotate keys")
            _ = try await fake.waitForCalls("chat.postMessage", count: 2)
            try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.slackMessages(for: plain.id).count == 1 }
            env.clock.advance(by: 1800)
            try await EscalationFlowTests.waitForLevel(env, escalating.id, 2)

            let lines = try await slack.command("pending", by: "U0ANYONE").split(separator: "\n").map(String.init)
            #expect(lines.first == "*Pending requests* (newest first):")
            let deploy = try #require(lines.first { $0.contains("*Deploy api*") })
            #expect(deploy.contains("gate `deploy-prod`, 30m old, level 2 of 3"))
            let rotate = try #require(lines.first { $0.contains("*Rotate keys*") })
            #expect(rotate.contains("gate `default`, 30m old, level 1 of 1"))
            #expect(rotate.contains("— <https://fake.slack.test/archives/C0APPROVALS/p"))
            #expect(rotate.hasSuffix("|open>"))

            // An action with formatting marks of its own is not wrapped in bold, which it would break.
            _ = try await slack.client.createApproval(key: env.requestKey, action: "Run *migration* `0042`")
            let marked = try await slack.command("pending", by: "U0ANYONE").split(separator: "\n").map(String.init)
            #expect(marked.contains { $0.hasPrefix("• Run *migration* `0042` — gate `default`") })
        }
    }

    // MARK: Signatures

    @Test("a forged or missing signature gets 401 and changes nothing")
    func forgedSignature() async throws {
        try await Self.withCommands { env, _, slack in
            let before = try await Configuration(env)
            for text in [Self.issueText, "admin add <@U0MALLORY>"] {
                let body = SlackDriver.commandBody(text, by: Self.admin)
                #expect(try await slack.post("/slack/commands", body: body, signer: SlackRequestSigner(secret: "forged-secret")).status == .unauthorized)
                #expect(try await slack.post("/slack/commands", body: body, signed: false).status == .unauthorized)
            }
            #expect(try await Configuration(env) == before)
            #expect(try await env.database.chains().isEmpty)
            try await env.flushRefusals("signature_refused", expecting: 4)
            #expect(try await env.refusalCount("signature_refused") == 4)
            // The same body, signed properly, is obeyed: the refusal above was the signature's doing.
            #expect(try await slack.command(Self.issueText, by: Self.admin).hasPrefix("Saved"))
        }
    }

    @Test("a signed command missing a field Slack always sends is refused with 400, naming the field")
    func missingField() async throws {
        try await Self.withCommands { env, _, slack in
            let body = SlackRequestSigner.formBody([("team_id", "T1"), ("user_id", Self.admin), ("command", "/gatehouse"), ("text", "chains")])
            let response = try await slack.post("/slack/commands", body: body)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "malformed_payload")
            #expect(response["error"]?["message"]?.stringValue?.contains("`channel_id`") == true)
        }
    }
}
