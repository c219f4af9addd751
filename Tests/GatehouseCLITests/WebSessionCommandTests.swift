import ApprovalCore
import Foundation
@testable import GatehouseCLI
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import DomainTestSupport
import Storage
import Testing

@Suite("Command line: login-link and sessions")
struct WebSessionCommandTests {
    /// `GET path` with `cookie`: the status and the cookie the answer sets.
    static func get(_ client: some TestClientProtocol, _ path: String, cookie: String? = nil) async throws -> (HTTPResponse.Status, String?) {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        return try await client.execute(uri: path, method: .get, headers: headers, body: nil) { response in
            (response.status, response.headers[.setCookie].flatMap { $0.split(separator: ";").first.map(String.init) })
        }
    }

    @Test("login-link through the running service prints a link that signs local:NAME in once; sessions revoke ends it")
    func linkAndRevokeThroughTheService() async throws {
        // `sessions list` reads the file with the system's clock: the service's test clock starts at the same time.
        let env = try await TestEnvironment(clock: TestClock(now: Date()))
        defer { env.cleanUp() }
        let started = env.controlSocketsReady.count
        try await env.application(configuration: env.withControlSocket()).test(.live) { client in
            try await withTimeout { await env.controlSocketsReady.wait(after: started) }
            let printed = CapturedTerminal()
            try await LoginLinkCommand.parse(["--as", "alice", "--db", env.databasePath, "--public-url", "http://127.0.0.1:9/"])
                .run(as: .cli("tester"), terminal: printed.terminal, environment: [:])
            let link = try #require(printed.out.last)
            #expect(link.hasPrefix("http://127.0.0.1:9/ui/login/"))
            #expect(printed.err.joined().contains("local:alice"))
            let path = String(link.dropFirst("http://127.0.0.1:9".count))
            let (status, cookie) = try await Self.get(client, path)
            #expect(status == .seeOther)
            let session = try #require(cookie)
            #expect(try await Self.get(client, "/ui", cookie: session).0 == .ok)
            #expect(try await Self.get(client, path).0 == .gone)

            let listed = CapturedTerminal()
            try await SessionsCommand.List.parse(["--db", env.databasePath]).run(terminal: listed.terminal)
            #expect(listed.out.count == 1)
            #expect(listed.out.first?.contains("\tlocal:alice\tdecide\tstarted ") == true)

            let revoked = CapturedTerminal()
            try await SessionsCommand.Revoke.parse(["alice", "--db", env.databasePath]).run(as: .cli("tester"), terminal: revoked.terminal)
            #expect(revoked.out == ["Ended 1 session of local:alice."])
            #expect(try await Self.get(client, "/ui", cookie: session).0 == .unauthorized)
            let again = CapturedTerminal()
            try await SessionsCommand.Revoke.parse(["alice", "--db", env.databasePath]).run(as: .cli("tester"), terminal: again.terminal)
            #expect(again.out == ["No live session of local:alice; nothing changed."])
            let none = CapturedTerminal()
            try await SessionsCommand.List.parse(["--db", env.databasePath]).run(terminal: none.terminal)
            #expect(none.out == ["No one is signed in."])
        }
        let entries = try await env.database.auditEntries()
        #expect(entries.filter { $0.kind == "login_link_created" }.map(\.actor) == ["cli:tester"])
        #expect(entries.filter { $0.kind == "session_revoked" }.map(\.actor) == ["cli:tester"])
    }

    @Test("login-link refuses a bad name or scope before touching anything; a bare name, local:NAME and a Slack ID name whom to revoke")
    func validation() throws {
        #expect(throws: (any Error).self) { try LoginLinkCommand.parse(["--as", "al ice"]) }
        #expect(throws: (any Error).self) { try LoginLinkCommand.parse(["--as", "alice", "--scope", "request"]) }
        #expect(throws: (any Error).self) { try SessionsCommand.Revoke.parse([]) }
        #expect(SessionsCommand.Revoke.person("alice") == "local:alice")
        #expect(SessionsCommand.Revoke.person("local:bob") == "local:bob")
        #expect(SessionsCommand.Revoke.person("U012ABC") == "U012ABC")
    }
}
