import Foundation
@testable import GatehouseCLI
import GatehouseServer
import ServerTestSupport
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("One service per database file")
struct ServiceLockTests {
    @Test("a second lock on the same database is refused, naming the holder's process; after release it is free again")
    func secondServiceRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = dir.path("gatehouse.sqlite")
        let first = try ServiceLock.acquire(forDatabaseAt: database)
        #expect(first.path == database + "-lock")
        #expect(throws: ServiceLock.Failure.held(path: database + "-lock", pid: getpid())) {
            _ = try ServiceLock.acquire(forDatabaseAt: database)
        }
        let other = try ServiceLock.acquire(forDatabaseAt: dir.path("other.sqlite"))
        other.release()
        first.release()
        let again = try ServiceLock.acquire(forDatabaseAt: database)
        again.release()
    }

    @Test("the refusal says what to do")
    func refusalText() {
        let text = ServiceLock.Failure.held(path: "/srv/g.sqlite-lock", pid: 4242).description
        #expect(text.contains("process 4242"))
        #expect(text.contains("one service owns one database file"))
        #expect(text.contains("--db"))
    }

    @Test("a failure to listen names the setting to change: port in use, unknown or foreign host, privileged port")
    func listenFailures() throws {
        let inUse = ServeCommand.listenFailure(IOError(errnoCode: EADDRINUSE, reason: "bind"), host: "127.0.0.1", port: 8080)
        #expect(inUse.contains("port 8080 on 127.0.0.1 is already in use"))
        #expect(inUse.contains("--port"))
        #expect(!inUse.contains("errno"))
        let foreign = ServeCommand.listenFailure(IOError(errnoCode: EADDRNOTAVAIL, reason: "bind"), host: "10.9.9.9", port: 8080)
        #expect(foreign.contains("10.9.9.9 is not an address of this machine"))
        #expect(foreign.contains("--host"))
        let resolution = #expect(throws: (any Error).self) { try SocketAddress.makeAddressResolvingHost("999.1.1.1", port: 8080) }
        let unknown = ServeCommand.listenFailure(try #require(resolution), host: "999.1.1.1", port: 8080)
        #expect(unknown.contains("cannot find the address '999.1.1.1'"))
        #expect(!unknown.contains("port?"))
        let privileged = ServeCommand.listenFailure(IOError(errnoCode: EACCES, reason: "bind"), host: "0.0.0.0", port: 80)
        #expect(privileged.contains("below 1024"))
    }
}
