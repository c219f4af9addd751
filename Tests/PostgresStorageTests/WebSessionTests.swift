import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresStorage
import PostgresTestSupport
import Testing

@Suite("Web session store, on both engines")
struct WebSessionStoreTests {
    @Test("a login link signs in once; used, expired and unknown links are refused, the first two audited", arguments: Engine.all)
    func loginLinks(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any WebSessionStore).self, clock: clock)
        defer { opened.close() }
        let store = opened.store
        let token = try await store.createLoginLink(for: "U1", scope: .admin, lifetime: 600, by: "U0ADMIN")
        let signedIn = try await store.redeemLoginLink(token).get()
        #expect(signedIn.session.person == "U1")
        #expect(signedIn.session.scope == .admin)
        #expect(try await store.session(signedIn.secret, idleTimeout: 3_600) == signedIn.session)
        #expect(try await store.redeemLoginLink(token) == .failure(.used))
        #expect(try await store.redeemLoginLink("made-up") == .failure(.unknown))
        let late = try await store.createLoginLink(for: "U2", scope: .decide, lifetime: 600, by: "cli:alice")
        clock.advance(by: 600)
        #expect(try await store.redeemLoginLink(late) == .failure(.expired))

        let audit = try await StoredRows.audit(opened.raw)
        #expect(audit.map(\.kind) == ["login_link_created", "signed_in", "sign_in_refused", "login_link_created", "sign_in_refused"])
        #expect(audit.map(\.actor) == ["U0ADMIN", "U1", "U1", "cli:alice", "U2"])
        #expect(audit[0].details == .object(["for": .string("U1"), "scope": .string("admin")]))
        #expect(audit[1].details == .object(["session": .number(Double(signedIn.session.id)), "scope": .string("admin")]))
        #expect(audit[2].details["reason"] == .string("used"))
        #expect(audit[4].details["reason"] == .string("expired"))
        let joined = audit.map { CanonicalJSON.serialize($0.details) }.joined()
        #expect(!joined.contains(token) && !joined.contains(signedIn.secret))
        #expect(try await StoredRows.strings(opened.raw, "SELECT csrf_token FROM web_session") == [signedIn.session.csrfToken])
    }

    @Test("a session lasts while it is used within the idle timeout, marked seen at most once a minute", arguments: Engine.all)
    func idleTimeout(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any WebSessionStore).self, clock: clock)
        defer { opened.close() }
        let store = opened.store
        let signedIn = try await store.redeemLoginLink(
            try await store.createLoginLink(for: "U1", scope: .decide, lifetime: 600, by: "U0")
        ).get()
        let started = signedIn.session.lastSeenAt
        clock.advance(by: 30)
        #expect(try await store.session(signedIn.secret, idleTimeout: 300)?.lastSeenAt == started)
        clock.advance(by: 270)
        // 300 s since it was last marked seen (30 s in was too soon to mark): idle.
        #expect(try await store.session(signedIn.secret, idleTimeout: 300) == nil)
        #expect(try await store.session(signedIn.secret, idleTimeout: 400) != nil)
        clock.advance(by: 350)
        // Seen 300 s in with a longer timeout, so 350 s later it is within 400 s.
        #expect(try await store.session(signedIn.secret, idleTimeout: 400) != nil)
        #expect(try await store.liveSessions(idleTimeout: 400).map(\.id) == [signedIn.session.id])
        clock.advance(by: 400)
        #expect(try await store.liveSessions(idleTimeout: 400) == [])
        #expect(try await store.session(signedIn.secret, idleTimeout: 400) == nil)
        #expect(try await store.session("not-a-secret", idleTimeout: 400) == nil)
    }

    @Test("ending a session and revoking a person's sessions end them for good, each audited once", arguments: Engine.all)
    func endAndRevoke(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open((any WebSessionStore).self, clock: clock)
        defer { opened.close() }
        let store = opened.store
        func signIn(_ person: String) async throws -> (session: WebSession, secret: String) {
            try await store.redeemLoginLink(try await store.createLoginLink(for: person, scope: .decide, lifetime: 600, by: "U0")).get()
        }
        let first = try await signIn("U1")
        let second = try await signIn("U1")
        let other = try await signIn("U2")
        let fourth = try await signIn("U3")
        #expect(try await store.liveSessions(idleTimeout: 60).map(\.id) == [fourth, other, second, first].map(\.session.id))
        try await store.endSession(first.session.id, by: "U1")
        try await store.endSession(first.session.id, by: "U1")
        #expect(try await store.session(first.secret, idleTimeout: 60) == nil)
        #expect(try await store.revokeSessions(person: "U1", id: nil, by: "U0ADMIN") == 1)
        #expect(try await store.revokeSessions(person: nil, id: other.session.id, by: "U0ADMIN") == 1)
        #expect(try await store.revokeSessions(person: "U1", id: nil, by: "U0ADMIN") == 0)
        #expect(try await store.session(second.secret, idleTimeout: 60) == nil)
        #expect(try await store.session(other.secret, idleTimeout: 60) == nil)
        #expect(try await store.liveSessions(idleTimeout: 60).map(\.id) == [fourth.session.id])
        let audit = try await StoredRows.audit(opened.raw).filter { ["signed_out", "session_revoked"].contains($0.kind) }
        #expect(audit.map(\.kind) == ["signed_out", "session_revoked", "session_revoked"])
        #expect(audit[0].details == .object(["session": .number(Double(first.session.id))]))
        #expect(audit[1].details == .object(["session": .number(Double(second.session.id)), "person": .string("U1")]))
        #expect(audit[2].details == .object(["session": .number(Double(other.session.id))]))
    }

    @Test("two replicas redeeming one link at once: exactly one signs in", .enabled(if: PostgresServer.available))
    func redeemedOnceAcrossReplicas() async throws {
        let (a, b) = try await postgresReplicas()
        let replicas = [a, b]
        defer { replicas.forEach { $0.close() } }
        for _ in 0..<5 {
            let token = try await replicas[0].createLoginLink(for: "U1", scope: .decide, lifetime: 600, by: "U0")
            let outcomes = try await withThrowingTaskGroup(of: Result<(session: WebSession, secret: String), LoginRefusal>.self) { group in
                for index in 0..<4 {
                    let replica = replicas[index % 2]
                    group.addTask { try await replica.redeemLoginLink(token) }
                }
                return try await group.reduce(into: [Result<(session: WebSession, secret: String), LoginRefusal>]()) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .success = $0 { true } else { false } }.count == 1)
            #expect(outcomes.filter { $0 == .failure(.used) }.count == 3)
        }
        #expect(try await replicas[1].liveSessions(idleTimeout: 60).count == 5)
    }
}

extension Result where Success == (session: WebSession, secret: String), Failure == LoginRefusal {
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.failure(let left), .failure(let right)): left == right
        case (.success(let left), .success(let right)): left.session == right.session && left.secret == right.secret
        default: false
        }
    }
}
