import ApprovalCore
import Foundation
import Logging
import MCP
import ServiceLifecycle
import Signing
import Synchronization

/// The open MCP sessions of `/mcp`, each bound to the key that opened it. A key keeps at most `perKey` of them (opening
/// one more ends its least recently used), and a session unused for `idleLimit` ends when the next one opens. As a
/// service, it writes a keep-alive on every open answer stream each `keepAlive`.
public final class MCPSessions: Service, Sendable {
    struct Session: Sendable {
        let id: String
        let keyID: Int64
        let transport: MCPSessionTransport
        let server: Server
        var lastUsed: Date
    }

    private let sessions = Mutex<[String: Session]>([:])
    let perKey: Int
    let idleLimit: TimeInterval
    let keepAlive: Duration

    public init(perKey: Int = 16, idleLimit: TimeInterval = 24 * 3600, keepAlive: Duration = .seconds(15)) {
        self.perKey = perKey
        self.idleLimit = idleLimit
        self.keepAlive = keepAlive
    }

    /// Keep-alives until the service stops: on the real clock, since they are about connections, not deadlines.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.keepAlive)
                for session in self.sessions.withLock({ Array($0.values) }) { await session.transport.keepAlive() }
            }
        }
    }

    /// How many sessions are open.
    public var count: Int { sessions.withLock { $0.count } }

    /// The session `id` if `key` opened it.
    func session(_ id: String, for key: APIKey, at now: Date) -> Session? {
        sessions.withLock { sessions in
            guard var session = sessions[id], session.keyID == key.id else { return nil }
            session.lastUsed = now
            sessions[id] = session
            return session
        }
    }

    /// A new session for `key`, serving `tools`.
    func open(for key: APIKey, tools: ApprovalTools, at now: Date, logger: Logger) async throws -> Session {
        let transport = MCPSessionTransport(logger: logger)
        let server = try await tools.serve(over: transport, logger: logger)
        let session = Session(
            id: SecureRandom.urlSafeToken(byteCount: 18), keyID: key.id, transport: transport, server: server, lastUsed: now)
        let ended = sessions.withLock { sessions -> [Session] in
            sessions[session.id] = session
            var ended = sessions.values.filter { now.timeIntervalSince($0.lastUsed) > idleLimit }
            let mine = sessions.values.filter { $0.keyID == key.id }.sorted { $0.lastUsed < $1.lastUsed }
            if mine.count > perKey { ended += mine.prefix(mine.count - perKey) }
            for old in ended { sessions[old.id] = nil }
            return ended
        }
        for old in ended { await Self.end(old) }
        return session
    }

    /// Ends session `id` if `key` opened it.
    func close(_ id: String, for key: APIKey) async -> Bool {
        let session = sessions.withLock { sessions -> Session? in
            guard let session = sessions[id], session.keyID == key.id else { return nil }
            sessions[id] = nil
            return session
        }
        guard let session else { return false }
        await Self.end(session)
        return true
    }

    private static func end(_ session: Session) async {
        await session.transport.close()
        await session.server.stop()
    }
}
