import ApprovalCore
import DomainTestSupport
import Foundation
import PostgresTestSupport
import SlackRecords
import Testing

@testable import PostgresStorage

@Suite("Contact requests on both engines")
struct ContactTests {
    typealias Store = any ContactStore & ContactPosts & OutboxStore

    static let digestA = String(repeating: "a", count: 64)
    static let digestB = String(repeating: "b", count: 64)

    static func contact(keyID: Int64, callID: String = "call-1", at now: Date) -> ContactRequest {
        ContactRequest(
            id: .random(at: now), ownerKey: "agent", ownerKeyID: keyID,
            question: ContactQuestion(
                runID: "run-1", callID: callID, message: "Which region?", subject: "Deploy",
                options: [ResponseOption(name: "eu", title: "Europe", promptFill: "Put it in "), ResponseOption(name: "us")],
                spec: .object(["msg": .string("Which region?")])),
            createdAt: now.truncatedToMilliseconds, chain: Fixture.threeLevels())
    }

    /// A new store on `engine` holding one question, asked by key `agent`: close it at the end.
    static func storedQuestion(on engine: Engine, clock: TestClock) async throws -> (opened: Opened<Store>, contact: ContactRequest) {
        let opened = try await engine.open(Store.self, clock: clock)
        let contact = Self.contact(keyID: try await opened.addKey("agent", at: clock.now), at: clock.now)
        _ = try await opened.store.insertContact(contact, requestDigest: Self.digestA, audit: contact.requestedEvent, outbox: [])
        return (opened, contact)
    }

    static func answer(_ text: String, by: String, at now: Date) -> ContactAnswer {
        ContactAnswer(response: text, optionName: "eu", by: by, byName: "alice", at: now.truncatedToMilliseconds)
    }

    @Test("a question is stored once per key and call_id; the same request gives it back, another is a conflict", arguments: Engine.all)
    func idempotent(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open(Store.self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let key = try await opened.addKey("agent", at: clock.now)
        let contact = Self.contact(keyID: key, at: clock.now)
        let event = contact.requestedEvent
        #expect(try await db.insertContact(contact, requestDigest: Self.digestA, audit: event, outbox: []) == .created(contact))
        let again = Self.contact(keyID: key, at: clock.now)
        #expect(try await db.insertContact(again, requestDigest: Self.digestA, audit: event, outbox: []) == .existing(contact))
        await #expect(throws: ApprovalError.idempotencyConflict) {
            try await db.insertContact(again, requestDigest: Self.digestB, audit: event, outbox: [])
        }
        let other = try await opened.addKey("other", at: clock.now)
        let theirs = Self.contact(keyID: other, at: clock.now)
        #expect(try await db.insertContact(theirs, requestDigest: Self.digestA, audit: event, outbox: []) == .created(theirs))
        #expect(try await db.contact(callID: "call-1", ownerKeyID: key) == contact)
        #expect(try await db.contact(callID: "call-1", ownerKeyID: nil) == theirs)
        #expect(try await db.contact(callID: "call-2", ownerKeyID: key) == nil)
        #expect(try await db.contact(contact.id) == contact)
        #expect(try await db.contact(ContactID(rawValue: "hc_none")) == nil)
        #expect(try await db.pendingContacts(ownerKeyID: key, limit: 10) == [contact])
        #expect(try await db.pendingContacts(ownerKeyID: nil, limit: 10) == [contact, theirs])
        #expect(try await db.pendingContacts(ownerKeyID: nil, limit: 1) == [contact])
        #expect(try await opened.auditTrail().filter { $0.kind == "contact_requested" }.count == 2)
    }

    @Test("a new question's outbox items are stored with it; a repeated one adds none", arguments: Engine.all)
    func outboxWithInsert(engine: Engine) async throws {
        let clock = TestClock()
        let opened = try await engine.open(Store.self, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let contact = Self.contact(keyID: try await opened.addKey("agent", at: clock.now), at: clock.now)
        let post = NewOutboxItem(kind: "contact_post", approvalID: nil, payload: .object(["contact_id": .string(contact.id.rawValue)]))
        _ = try await db.insertContact(contact, requestDigest: Self.digestA, audit: contact.requestedEvent, outbox: [post])
        _ = try await db.insertContact(contact, requestDigest: Self.digestA, audit: contact.requestedEvent, outbox: [post])
        #expect(try await db.outboxBacklog() == ["contact_post": 1])
        #expect(try await opened.auditTrail().filter { $0.kind == "contact_requested" }.count == 1)
    }

    @Test("an answer is recorded once, with its audit entry and outbox items", arguments: Engine.all)
    func answeredOnce(engine: Engine) async throws {
        let clock = TestClock()
        let (opened, contact) = try await Self.storedQuestion(on: engine, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let answer = Self.answer("Europe", by: "U0ALICE", at: clock.now)
        let update = NewOutboxItem(kind: "contact_update", approvalID: nil, payload: .object([:]))
        #expect(try await db.recordAnswer(contact.id, answer, audit: contact.answeredEvent(answer), outbox: [update]))
        let late = ContactAnswer(response: "Asia", optionName: nil, by: "U0BOB", byName: nil, at: clock.now)
        #expect(try await db.recordAnswer(contact.id, late, audit: contact.answeredEvent(late), outbox: [update]) == false)
        #expect(try await db.contact(contact.id)?.answer == answer)
        #expect(try await db.pendingContacts(ownerKeyID: nil, limit: 10).isEmpty)
        #expect(try await opened.auditTrail().filter { $0.kind == "contact_answered" }.map(\.actor) == ["U0ALICE"])
        #expect(try await db.outboxBacklog() == ["contact_update": 1])
    }

    @Test("answers sent together: exactly one is recorded", arguments: Engine.all)
    func concurrentAnswers(engine: Engine) async throws {
        let clock = TestClock()
        let (opened, contact) = try await Self.storedQuestion(on: engine, clock: clock)
        defer { opened.close() }
        let db = opened.store
        let recorded = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<8 {
                group.addTask {
                    let answer = Self.answer("answer \(n)", by: "U\(n)", at: clock.now)
                    return try await db.recordAnswer(contact.id, answer, audit: contact.answeredEvent(answer), outbox: [])
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(recorded == 1)
        #expect(try await opened.auditTrail().filter { $0.kind == "contact_answered" }.count == 1)
    }

    @Test("where a question was posted is remembered with its audit entry", arguments: Engine.all)
    func posts(engine: Engine) async throws {
        let clock = TestClock()
        let (opened, contact) = try await Self.storedQuestion(on: engine, clock: clock)
        defer { opened.close() }
        let db = opened.store
        #expect(try await db.contactPost(contact.id) == nil)
        #expect(try await db.contactPost(ContactID(rawValue: "hc_none")) == nil)
        try await db.recordContactPost(contact.id, channel: "C1", ts: "1.5", audit: AuditEvent(.posted, actor: "system:slack"))
        let post = try #require(try await db.contactPost(contact.id))
        #expect(post.channel == "C1" && post.ts == "1.5")
        #expect(try await opened.auditTrail().map(\.kind).suffix(1) == ["posted"])
    }
}

@Suite("Contact requests across replicas", .enabled(if: PostgresServer.available))
struct ContactReplicaTests {
    @Test("two replicas storing the same call at once store it once; answering it at once records one answer")
    func sharedContacts() async throws {
        let clock = TestClock()
        let (a, b) = try await postgresReplicas(clock: clock)
        defer {
            a.close()
            b.close()
        }
        let opened = Opened<any ContactStore>(store: a, raw: .postgres(a)) {}
        let key = try await opened.addKey("agent", at: clock.now)
        var contacts: [ContactRequest] = []
        for n in 0..<20 {
            // Each replica names the question it was sent on its own, as it would.
            let asked = [a, b].map { _ in ContactTests.contact(keyID: key, callID: "call-\(n)", at: clock.now) }
            let results = try await withThrowingTaskGroup(of: ContactInsertResult.self) { group in
                for (replica, contact) in zip([a, b], asked) {
                    group.addTask {
                        try await replica.insertContact(contact, requestDigest: ContactTests.digestA, audit: contact.requestedEvent, outbox: [])
                    }
                }
                return try await group.reduce(into: [ContactInsertResult]()) { $0.append($1) }
            }
            let created = results.compactMap { if case .created(let contact) = $0 { contact } else { nil } }
            let existing = results.compactMap { if case .existing(let contact) = $0 { contact } else { nil } }
            #expect(created.count == 1 && existing == created)
            // The same question again, with the id one replica gave it: the one stored.
            let stored = try #require(created.first)
            #expect(try await b.insertContact(stored, requestDigest: ContactTests.digestA, audit: stored.requestedEvent, outbox: []) == .existing(stored))
            contacts.append(stored)
        }
        for contact in contacts {
            let recorded = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (replica, who) in [(a, "U0ALICE"), (b, "U0BOB")] {
                    group.addTask {
                        let answer = ContactTests.answer("Europe", by: who, at: clock.now)
                        return try await replica.recordAnswer(contact.id, answer, audit: contact.answeredEvent(answer), outbox: [])
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(recorded.filter { $0 }.count == 1)
        }
        let trail = try await opened.auditTrail()
        #expect(trail.filter { $0.kind == "contact_requested" }.count == 20)
        #expect(trail.filter { $0.kind == "contact_answered" }.count == 20)
        #expect(try await b.pendingContacts(ownerKeyID: key, limit: 100).isEmpty)
    }
}
