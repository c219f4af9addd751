import ApprovalCore
import DomainTestSupport
import Foundation
import GRDB
import Testing

@testable import Storage

@Suite("Contact requests in storage")
struct ContactStorageTests {
    static func contact(_ db: GatehouseDatabase, keyID: Int64, callID: String = "call-1", at now: Date) -> ContactRequest {
        ContactRequest(
            id: .random(at: now), ownerKey: "agent", ownerKeyID: keyID,
            question: ContactQuestion(
                runID: "run-1", callID: callID, message: "Which region?", subject: nil,
                options: [ResponseOption(name: "eu", title: "Europe", promptFill: "Put it in ")], spec: .object(["msg": .string("Which region?")])),
            createdAt: now.truncatedToMilliseconds)
    }

    static func keyID(_ db: GatehouseDatabase, _ name: String = "agent") async throws -> Int64 {
        _ = try await db.createKey(name: name, scope: .request)
        return try #require(try await db.listKeys().first { $0.name == name }?.id)
    }

    @Test("a question is stored once per key and call_id; the same request gives it back, another is a conflict")
    func idempotent() async throws {
        try await withDatabases { db, clock in
            let key = try await Self.keyID(db)
            let contact = Self.contact(db, keyID: key, at: clock.now)
            let event = contact.requestedEvent
            #expect(try await db.insertContact(contact, requestDigest: String(repeating: "a", count: 64), audit: event, outbox: []) == .created(contact))
            let again = Self.contact(db, keyID: key, at: clock.now)
            #expect(try await db.insertContact(again, requestDigest: String(repeating: "a", count: 64), audit: event, outbox: []) == .existing(contact))
            await #expect(throws: ApprovalError.idempotencyConflict) {
                try await db.insertContact(again, requestDigest: String(repeating: "b", count: 64), audit: event, outbox: [])
            }
            let other = try await Self.keyID(db, "other")
            let theirs = Self.contact(db, keyID: other, at: clock.now)
            #expect(try await db.insertContact(theirs, requestDigest: String(repeating: "a", count: 64), audit: event, outbox: []) == .created(theirs))
            #expect(try await db.contact(callID: "call-1", ownerKeyID: key) == contact)
            #expect(try await db.contact(callID: "call-1", ownerKeyID: nil) == theirs)
            #expect(try await db.pendingContacts(ownerKeyID: key, limit: 10) == [contact])
            #expect(try await db.auditEntries().filter { $0.kind == "contact_requested" }.count == 2)
        }
    }

    @Test("an answer is recorded once, with its audit entry; the row refuses any other change and deletion")
    func answeredOnce() async throws {
        try await withDatabases { db, clock in
            let contact = Self.contact(db, keyID: try await Self.keyID(db), at: clock.now)
            _ = try await db.insertContact(contact, requestDigest: String(repeating: "a", count: 64), audit: contact.requestedEvent, outbox: [])
            let answer = ContactAnswer(response: "Europe", optionName: "eu", by: "U0ALICE", byName: "alice", at: clock.now.truncatedToMilliseconds)
            #expect(try await db.recordAnswer(contact.id, answer, audit: contact.answeredEvent(answer), outbox: []))
            let late = ContactAnswer(response: "Asia", optionName: nil, by: "U0BOB", byName: nil, at: clock.now)
            #expect(try await db.recordAnswer(contact.id, late, audit: contact.answeredEvent(late), outbox: []) == false)
            #expect(try await db.contact(contact.id)?.answer == answer)
            #expect(try await db.pendingContacts(ownerKeyID: nil, limit: 10).isEmpty)
            #expect(try await db.auditEntries().filter { $0.kind == "contact_answered" }.map(\.actor) == ["U0ALICE"])
            for sql in ["UPDATE contact_request SET response = 'Asia' WHERE id = ?", "UPDATE contact_request SET msg = 'Other?' WHERE id = ?",
                        "DELETE FROM contact_request WHERE id = ?"] {
                await #expect(throws: DatabaseError.self) { try await db.writer.write { try $0.execute(sql: sql, arguments: [contact.id.rawValue]) } }
            }
        }
    }
}
