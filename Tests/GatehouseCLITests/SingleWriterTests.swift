import ApprovalCore
import ArgumentParser
import Foundation
@testable import GatehouseCLI
import GatehouseServer
import HummingbirdTesting
import ServerTestSupport
import Storage
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One process writes the database: the running service. The command line's changes go through its control socket
/// while it runs, and are made on the file, with the service's lock held, only when none runs.
@Suite("One writer: the command line and the running service")
struct SingleWriterTests {
    static func database(_ env: TestEnvironment) throws -> DatabaseOptions {
        try DatabaseOptions.parse(["--db", env.databasePath])
    }

    /// Runs `body` beside a service on `env`'s database that holds the lock and listens on the control socket, as
    /// `gatehouse serve` does.
    static func withService(_ env: TestEnvironment, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let lock = try ServiceLock.acquire(forDatabaseAt: env.databasePath)
        defer { lock.release() }
        let started = env.controlSocketsReady.count
        try await env.application(configuration: env.withControlSocket()).test(.live) { client in
            try await withTimeout { await env.controlSocketsReady.wait(after: started) }
            try await body(client)
        }
    }

    @Test("while the service runs, keys made and revoked from the command line go through it, work at once and are audited as cli:NAME")
    func keysThroughTheService() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await Self.withService(env) { client in
            let created = CapturedTerminal()
            try await KeysCommand.Create.parse(["ops", "--scope", "decide", "--db", env.databasePath])
                .run(as: .cli("tester"), terminal: created.terminal)
            let secret = try #require(created.out.last)
            #expect(secret.hasPrefix("gh_"))
            let list = try await client.call(.get, "/v1/approvals", key: secret)
            #expect(list.status == .ok)

            try await KeysCommand.Revoke.parse(["ops", "--db", env.databasePath]).run(as: .cli("tester"), terminal: CapturedTerminal().terminal)
            // Revoked through the service that caches keys: refused on the very next call.
            let refused = try await client.call(.get, "/v1/approvals", key: secret)
            #expect(refused.status == .unauthorized)

            let taken = CapturedTerminal()
            await #expect(throws: CommandFailure.self) {
                try await KeysCommand.Create.parse(["lead", "--db", env.databasePath]).run(as: .cli("tester"), terminal: taken.terminal)
            }
        }
        let entries = try await env.database.auditEntries().filter { ["key_created", "key_revoked"].contains($0.kind) }
        #expect(entries.suffix(2).map(\.actor) == ["cli:tester", "cli:tester"])
    }

    @Test("while the service runs, chains apply goes through it: the same report, audited, and a bad chain exits 65")
    func chainsThroughTheService() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let file = env.directory.path("chains.yaml")
        try """
            chains:
              - name: deploy-prod
                levels:
                  - users: [U012ABCDEF]
                    sla: 30m
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let broken = env.directory.path("broken.yaml")
        try "chains:\n  - name: x\n    levels:\n      - users: [U1, U1X]\n        sla: 1s\n  - name: x\n    levels:\n      - users: [U2]\n        sla: 1s\n"
            .write(toFile: broken, atomically: true, encoding: .utf8)
        try await Self.withService(env) { _ in
            let dry = CapturedTerminal()
            let dryCode = await ChainsCommand.Apply.run(
                file: file, database: try Self.database(env), prune: false, dryRun: true, actor: .cli("tester"), terminal: dry.terminal)
            #expect(dryCode == 0)
            #expect(dry.out.last == "dry run, nothing written: 1 added, 0 changed, 0 unchanged, 0 deleted")
            let run = CapturedTerminal()
            let code = await ChainsCommand.Apply.run(
                file: file, database: try Self.database(env), prune: false, dryRun: false, actor: .cli("tester"), terminal: run.terminal)
            #expect(code == 0)
            #expect(run.out.first == "added deploy-prod: U012ABCDEF 30m → then reject")
            let twice = CapturedTerminal()
            let duplicate = await ChainsCommand.Apply.run(
                file: broken, database: try Self.database(env), prune: false, dryRun: false, actor: .cli("tester"), terminal: twice.terminal)
            #expect(duplicate == ChainsCommand.dataError)
            // The file is checked before anything is sent; the service checks what it is sent all the same.
            let chain = EscalationChain(name: "x", levels: [.init(approvers: [.user("U1")], sla: 60)])
            await #expect {
                try await ControlClient(socketPath: env.controlSocketPath).applyChains(
                    [chain, chain], pruning: false, dryRun: false, by: .cli("tester"))
            } throws: { error in
                guard let failure = error as? ControlClient.Failure else { return false }
                return failure.code == "invalid_chain" && failure.message == "The chain `x` is defined twice."
            }
        }
        let changes = try await env.database.auditEntries().filter { $0.kind == "config_changed" }
        #expect(changes.map(\.actor) == ["cli:tester"])
    }

    @Test("with no service, the command line writes the file itself, holding the lock, so a service cannot start meanwhile")
    func directWhenNoService() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let holding = try await DatabaseAccess.changing(try Self.database(env), command: "keys create") { administration in
            // A service starting now is told who holds the file, and to try again.
            #expect(throws: ServiceLock.Failure.self) { _ = try ServiceLock.acquire(forDatabaseAt: env.databasePath) }
            do throws(ServiceLock.Failure) {
                _ = try ServiceLock.acquire(forDatabaseAt: env.databasePath)
            } catch {
                #expect(error.description.hasPrefix("gatehouse keys create (process \(getpid())) is changing this database"))
            }
            return try await administration.createKey(name: "direct", scope: .request, boundTo: nil, breakGlass: false, by: .cli("tester"))
        }
        #expect(holding.hasPrefix("gh_"))
        #expect(try await env.database.authenticate(holding)?.name == "direct")
        // Released afterwards: a service may start.
        try ServiceLock.acquire(forDatabaseAt: env.databasePath).release()
    }

    @Test("a command started while the service holding the database is still opening its control socket waits for it")
    func waitsForStartingService() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lock = try ServiceLock.acquire(forDatabaseAt: env.databasePath)
        defer { lock.release() }
        let options = try Self.database(env)
        // As after `gatehouse serve & gatehouse keys create …`: the command starts before the socket is open.
        let command = Task {
            try await DatabaseAccess.changing(options, command: "keys create") { administration in
                try await administration.createKey(name: "early", scope: .request, boundTo: nil, breakGlass: false, by: .cli("tester"))
            }
        }
        let started = env.controlSocketsReady.count
        try await env.application(configuration: env.withControlSocket()).test(.live) { _ in
            try await withTimeout { await env.controlSocketsReady.wait(after: started) }
            _ = try await withTimeout { try await command.value }
        }
        #expect(try await env.database.listKeys().contains { $0.name == "early" })
    }

    @Test("a service holding the database whose control socket does not answer is named, with what to do")
    func serviceWithoutSocket() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let lock = try ServiceLock.acquire(forDatabaseAt: env.databasePath)
        defer { lock.release() }
        do {
            _ = try await DatabaseAccess.changing(try Self.database(env), command: "keys create") { administration in
                try await administration.createKey(name: "ops", scope: .request, boundTo: nil, breakGlass: false, by: .cli("tester"))
            }
            Issue.record("the change was not refused")
        } catch let failure as CommandFailure {
            #expect(failure.description.contains("gatehouse serve (process \(getpid())) is using"))
            #expect(failure.description.contains("cannot reach the service"))
        }
    }

    @Test("reading commands open the file read-only beside the service, and write nothing")
    func readersDoNotWrite() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let before = try await env.database.auditEntries().count
        let reader = try await DatabaseAccess.reading(try Self.database(env))
        defer { try? reader.close() }
        #expect(try await reader.listKeys().count == 4)
        await #expect(throws: (any Error).self) { try await reader.createKey(name: "sneaky", scope: .admin, boundTo: nil, breakGlass: false, by: "cli:x") }
        #expect(try await env.database.auditEntries().count == before)
        #expect(try await env.database.listKeys().count == 4)
    }
}
