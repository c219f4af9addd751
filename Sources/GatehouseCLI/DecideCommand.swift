import ApprovalCore
import ArgumentParser
import Foundation

struct DecideCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Approve or reject a pending request from the terminal (needs a key with the decide scope).",
        discussion: """
            Example:
              gatehouse decide apr_AZq3VfJ2b0cZtq9Lw4XnP7e1 approve --as alice \\
                --reason "checked the diff"
            """
    )

    @OptionGroup var service: ServiceOptions

    @Argument(help: "The approval's id (apr_…).")
    var id: String

    @Argument(help: "approve or reject.")
    var outcome: String

    @Option(help: "Why; shown to the requester.")
    var reason: String?

    @Option(name: .customLong("as"), help: "Who decides: a name or a Slack user ID.")
    var decider: String

    func validate() throws {
        guard ["approve", "reject"].contains(outcome) else { throw ValidationError("The outcome must be approve or reject.") }
    }

    func run() async throws {
        let code = await Self.run(id: id, outcome: outcome, reason: reason, decider: decider, client: try service.client(), terminal: .standard)
        if code != 0 { throw ExitCode(code) }
    }

    static func run(id: String, outcome: String, reason: String?, decider: String, client: GatehouseClient, terminal: Terminal) async -> Int32 {
        var body: [String: JSONValue] = ["outcome": .string(outcome), "as": .string(decider)]
        if let reason { body["reason"] = .string(reason) }
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
