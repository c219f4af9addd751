import ApprovalCore
import ArgumentParser
import Foundation
import GatehouseServer

/// `gatehouse login-link`: a one-time link to the web page for a person at the server machine (`local:NAME`).
struct LoginLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login-link",
        abstract: "Print a one-time link that signs a local person in to the web page (valid 10 minutes, used once).",
        discussion: """
            The person is recorded as local:NAME in decisions and the audit log. The link starts with the public URL \
            (--public-url, else GATEHOUSE_PUBLIC_URL, else http://127.0.0.1:8080).

            Example:
              gatehouse login-link --as alice
              gatehouse login-link --as bob --scope admin --public-url https://gatehouse.example.com
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(name: .customLong("as"), help: "The person's name: letters, digits, '-', '_' or '.'.") var name: String
    @Option(help: "decide (default) or admin.") var scope: String = "decide"
    @Option(name: .customLong("public-url"), help: "The URL people reach the service at (else GATEHOUSE_PUBLIC_URL).")
    var publicURL: String?

    func validate() throws {
        guard WebScope(rawValue: scope) != nil else { throw ValidationError("--scope must be decide or admin.") }
        guard APIKey.isValidName(name) else { throw ValidationError("--as must be 1–64 letters, digits, '-', '_' or '.'.") }
    }

    func run() async throws {
        try await run(as: CLIActor.current(), terminal: .standard, environment: ProcessInfo.processInfo.environment)
    }

    func run(as actor: Actor, terminal: Terminal, environment: [String: String]) async throws {
        let scope = WebScope(rawValue: scope) ?? .decide
        let token = try await DatabaseAccess.changing(database, command: "login-link") { administration in
            try await administration.createLoginLink(for: WebSession.localPrefix + name, scope: scope, by: actor)
        }
        let base = publicURL ?? environment["GATEHOUSE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080"
        terminal.err("A link for local:\(name) (\(scope.rawValue)), valid 10 minutes, for one sign-in:")
        terminal.out((base.hasSuffix("/") ? String(base.dropLast()) : base) + "/ui/login/" + token)
    }
}

/// `gatehouse sessions`: who is signed in to the web page, and ending their sessions.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List and revoke web page sessions.",
        discussion: "Example:\n  gatehouse sessions list\n  gatehouse sessions revoke alice\n  gatehouse sessions revoke --id 12",
        subcommands: [List.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List live sessions: number, person, scope, started, last seen.",
            discussion: "Example:\n  gatehouse sessions list")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await run(terminal: .standard)
        }

        func run(terminal: Terminal) async throws {
            let db = try await DatabaseAccess.reading(database)
            defer { try? db.close() }
            let sessions = try await db.liveSessions(idleTimeout: 12 * 3600)
            if sessions.isEmpty {
                terminal.out("No one is signed in.")
                return
            }
            for session in sessions {
                terminal.out(
                    "\(session.id)\t\(session.person)\t\(session.scope.rawValue)\tstarted \(RFC3339.string(from: session.createdAt))"
                        + "\tseen \(RFC3339.string(from: session.lastSeenAt))")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End every session of a person (local:NAME, NAME for local:NAME, or a Slack user ID), or one by number.",
            discussion: "Example:\n  gatehouse sessions revoke alice\n  gatehouse sessions revoke U012ABC\n  gatehouse sessions revoke --id 12")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "local:NAME, a NAME (for local:NAME), or a Slack user ID.") var person: String?
        @Option(help: "The session's number, from `gatehouse sessions list`.") var id: Int64?

        func validate() throws {
            guard (person == nil) != (id == nil) else { throw ValidationError("Name a person or give --id, not both.") }
        }

        /// A bare name is a local person's; a Slack user ID (`U…`, `W…`) and `local:NAME` are kept as they are.
        static func person(_ text: String) -> String {
            if text.hasPrefix(WebSession.localPrefix) { return text }
            let slackID = (text.first == "U" || text.first == "W") && text.count > 1
                && text.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
            return slackID ? text : WebSession.localPrefix + text
        }

        func run() async throws {
            try await run(as: CLIActor.current(), terminal: .standard)
        }

        func run(as actor: Actor, terminal: Terminal) async throws {
            let person = person.map(Self.person)
            let revoked = try await DatabaseAccess.changing(database, command: "sessions revoke") { administration in
                try await administration.revokeSessions(person: person, id: id, by: actor)
            }
            let whose = person.map { "of \($0)" } ?? "numbered \(id ?? 0)"
            terminal.out(revoked == 0 ? "No live session \(whose); nothing changed." : "Ended \(revoked) session\(revoked == 1 ? "" : "s") \(whose).")
        }
    }
}

extension ControlClient {
    func createLoginLink(for person: String, scope: WebScope, by actor: Actor) async throws -> String {
        let answer = try await post(
            ControlProtocol.loginLinks, ControlProtocol.LoginLinkRequest(person: person, scope: scope, user: Self.user(actor)))
        return try decode(ControlProtocol.LoginLinkCreated.self, answer).token
    }

    func revokeSessions(person: String?, id: Int64?, by actor: Actor) async throws -> Int {
        let answer = try await post(
            ControlProtocol.revokeSessions, ControlProtocol.RevokeSessionsRequest(person: person, id: id, user: Self.user(actor)))
        return try decode(ControlProtocol.SessionsRevoked.self, answer).revoked
    }
}
