import ApprovalCore
import ArgumentParser
import Foundation

struct DecideCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Approve, reject or modify a pending request from the terminal (needs a key with the decide scope).",
        discussion: """
            modify approves with an edited payload (--payload JSON or @FILE): the requester must run that one.

            Examples:
              gatehouse decide apr_AZq3VfJ2b0cZtq9Lw4XnP7e1 approve --as alice \\
                --reason "checked the diff"
              gatehouse decide apr_AZq3VfJ2b0cZtq9Lw4XnP7e1 modify --as alice \\
                --payload '{"service":"api","replicas":2}'
            """
    )

    @OptionGroup var service: ServiceOptions

    @Argument(help: "The approval's id (apr_…).")
    var id: String

    @Argument(help: "approve, reject or modify.")
    var outcome: String

    @Option(help: "With modify: the payload approved instead, a JSON object or @FILE.")
    var payload: String?

    @Option(help: "Why; shown to the requester.")
    var reason: String?

    @Option(name: .customLong("as"), help: "Who decides: a name or a Slack user ID.")
    var decider: String

    func validate() throws {
        try ApprovalIDArgument.validate(id)
        guard ["approve", "reject", "modify"].contains(outcome) else {
            throw ValidationError("The outcome must be approve, reject or modify.")
        }
        switch (outcome, payload) {
        case ("modify", nil): throw ValidationError("modify needs --payload: the JSON object (or @FILE) approved instead.")
        case ("modify", let payload?): try PayloadArgument.validate(payload)
        case (_, .some): throw ValidationError("--payload goes only with modify.")
        default: break
        }
    }

    func run() async throws {
        let edited = try payload.map(PayloadArgument.value)
        let code = await Self.run(
            id: id, outcome: outcome, reason: reason, decider: decider, payload: edited, client: try service.client(), terminal: .standard)
        if code != 0 { throw ExitCode(code) }
    }

    static func run(
        id: String, outcome: String, reason: String?, decider: String, payload: JSONValue? = nil, client: GatehouseClient,
        terminal: Terminal
    ) async -> Int32 {
        var body: [String: JSONValue] = ["outcome": .string(outcome), "as": .string(decider)]
        if let reason { body["reason"] = .string(reason) }
        if let payload { body["payload"] = payload }
        do {
            let approval = try await client.call("POST", "v1/approvals/\(id)/decision", body: .object(body))
            terminal.out(CanonicalJSON.serialize(approval))
            return 0
        } catch {
            terminal.err("gatehouse: \(error)")
            return 1
        }
    }
}
