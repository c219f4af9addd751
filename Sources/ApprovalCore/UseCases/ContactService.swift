import Foundation

/// Why a question cannot be answered (beyond the refusals it shares with approvals: unknown, forbidden, invalid).
public enum ContactError: Error, Sendable, Equatable {
    /// It was answered already, by this answer.
    case alreadyAnswered(ContactAnswer)
    /// The person is not among those who may answer: the approvers of the default gate's chain.
    case notAnswerer(approvers: [EscalationChain.Approver])

    public var code: String {
        switch self {
        case .alreadyAnswered: "already_answered"
        case .notAnswerer: "not_approver"
        }
    }
}

/// The use cases of contact requests ("ask a human"): ask, read, list, answer. Who may answer is who may decide
/// approvals of the default gate (in Slack: its chain's approvers, anyone when it has none; by key: the decide scope,
/// never the key that asked). Every refusal is audited.
public struct ContactService: Sendable {
    let store: any ContactStore
    let clock: any WallClock
    /// The chain whose approvers may answer, read when a question is asked and kept with it.
    let answerers: @Sendable () async throws -> EscalationChain
    /// The outbox rows that go with a new or answered question (its Slack message, posted or updated).
    let planner: @Sendable (ContactRequest) -> [NewOutboxItem]

    public init(
        store: any ContactStore, clock: any WallClock,
        answerers: @escaping @Sendable () async throws -> EscalationChain = { .default },
        planner: @escaping @Sendable (ContactRequest) -> [NewOutboxItem] = { _ in [] }
    ) {
        self.store = store
        self.clock = clock
        self.answerers = answerers
        self.planner = planner
    }

    /// Stores a question asked with `key`, or gives back the one it asked before under the same `call_id` (the same
    /// request; another is `.idempotencyConflict`). Returns it and whether it was stored now.
    public func ask(_ question: ContactQuestion, requestDigest: String, by key: APIKey) async throws -> (contact: ContactRequest, created: Bool) {
        let now = clock.now.truncatedToMilliseconds
        let contact = ContactRequest(
            id: .random(at: now), ownerKey: key.name, ownerKeyID: key.id, question: question, createdAt: now, chain: try await answerers())
        try contact.validate()
        switch try await store.insertContact(contact, requestDigest: requestDigest, audit: contact.requestedEvent, outbox: planner(contact)) {
        case .created(let stored): return (stored, true)
        case .existing(let earlier): return (earlier, false)
        }
    }

    /// The question `key` may read under `callID`: its own, else (with a scope that sees everything) the newest any key
    /// asked. An unknown one is audited and `.notFound`.
    public func contact(callID: String, as key: APIKey) async throws -> ContactRequest {
        if callID.count <= ContactRequest.identifierLimit {
            if let own = try await store.contact(callID: callID, ownerKeyID: key.id) { return own }
            if key.scope.seesEverything, let any = try await store.contact(callID: callID, ownerKeyID: nil) { return any }
        }
        try await store.append(.unknownCall(callID, by: key.actor))
        throw ApprovalError.notFound
    }

    /// The question, for readers that may see every one (Slack).
    public func contact(_ id: ContactID) async throws -> ContactRequest {
        guard let contact = try await store.contact(id) else { throw ApprovalError.notFound }
        return contact
    }

    /// Unanswered questions `key` may see, oldest first: a `request` key's own only.
    public func pending(as key: APIKey, limit: Int = 200) async throws -> [ContactRequest] {
        try await store.pendingContacts(ownerKeyID: key.scope.seesEverything ? nil : key.id, limit: limit)
    }

    /// The user groups whose members must be known to tell whether Slack user `user` may answer.
    public static func groupsToResolve(_ contact: ContactRequest, for user: String) -> [String] {
        contact.isAnswered ? [] : contact.chain.groupsToCheck(for: user, atLevel: max(1, contact.chain.levels.count))
    }

    /// Whether `actor` may answer `contact` now; throws the refusal (`ContactError` or `ApprovalError`).
    public static func checkAnswerer(_ actor: Actor, of contact: ContactRequest) throws {
        if let answer = contact.answer { throw ContactError.alreadyAnswered(answer) }
        switch actor {
        case .key(let key, _):
            try actor.checkMayDecide()
            if key.id == contact.ownerKeyID { throw ApprovalError.forbidden("The key that asked cannot answer its own question.") }
        case .slackUser(let user, _, let groups):
            let level = max(1, contact.chain.levels.count)
            guard contact.chain.mayDecide(user: user, atLevel: level, memberOf: groups) else {
                throw ContactError.notAnswerer(approvers: contact.chain.approvers(upTo: level))
            }
        case .cli, .local:
            return
        case .policy, .system:
            throw ApprovalError.forbidden("Only a person answers a question.")
        }
    }

    /// Checks that `actor` could answer now (before a form is opened), auditing a refusal.
    public func checkAnswer(_ contact: ContactRequest, by actor: Actor) async throws {
        try await refusingAudited(contact, actor) { try Self.checkAnswerer(actor, of: contact) }
    }

    /// Records `actor`'s answer: `response` as typed, or the text of the option named `optionName` when no text is
    /// given. Of two answers at once exactly one is kept; the other gets `.alreadyAnswered`.
    public func answer(_ contact: ContactRequest, response: String?, optionName: String?, by actor: Actor) async throws -> ContactRequest {
        try await refusingAudited(contact, actor) { try Self.checkAnswerer(actor, of: contact) }
        var text = response
        if let optionName {
            guard let option = contact.option(named: optionName) else {
                throw ApprovalError.invalidField("response_option_name", "`response_option_name` names no option of this question.")
            }
            if text == nil { text = option.answerText }
        }
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ApprovalError.invalidField("response", "`response` must not be empty (or name an option in `response_option_name`).")
        }
        guard text.count <= ContactRequest.responseLimit else {
            throw ApprovalError.invalidField("response", "`response` is longer than \(ContactRequest.responseLimit) characters.")
        }
        let answer = ContactAnswer(response: text, optionName: optionName, by: actor.id, byName: actor.name, at: clock.now.truncatedToMilliseconds)
        var answered = contact
        answered.answer = answer
        if try await store.recordAnswer(contact.id, answer, audit: contact.answeredEvent(answer), outbox: planner(answered)) {
            return answered
        }
        // Answered by someone else since it was read.
        let current = try await self.contact(contact.id)
        return try await refusingAudited(current, actor) { () throws -> ContactRequest in
            try Self.checkAnswerer(actor, of: current)
            throw ApprovalError.notFound
        }
    }

    /// Runs a check; a refusal is appended to the audit log (`answer_refused`, with its reason) and rethrown.
    private func refusingAudited<T>(_ contact: ContactRequest, _ actor: Actor, _ check: () throws -> T) async throws -> T {
        do {
            return try check()
        } catch {
            let reason = (error as? ContactError)?.code ?? (error as? ApprovalError)?.code ?? "refused"
            try await store.append(AuditEvent(.answerRefused, actor: actor.id, details: [
                "contact_id": .string(contact.id.rawValue), "call_id": .string(contact.callID), "reason": .string(reason),
            ]))
            throw error
        }
    }
}
