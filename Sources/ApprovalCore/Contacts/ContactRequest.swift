import Foundation
import Signing

/// A contact request's identity inside Gatehouse (`hc_…`): buttons and forms carry it; clients use their own `call_id`.
public struct ContactID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A new id, sortable by creation time as approval ids are.
    public static func random(at now: Date) -> ContactID {
        ContactID(rawValue: "hc_" + String(ApprovalID.random(at: now).rawValue.dropFirst(4)))
    }

    public var description: String { rawValue }
}

/// One of the answers a question offers as a button.
public struct ResponseOption: Sendable, Equatable {
    /// What the answer records as `response_option_name`.
    public var name: String
    /// The button's label (else `name`) and, when the option has no `promptFill`, the answer's text.
    public var title: String?
    public var description: String?
    /// Text the answer form opens with, to be edited before it is sent.
    public var promptFill: String?
    public var interactive: Bool

    public init(name: String, title: String? = nil, description: String? = nil, promptFill: String? = nil, interactive: Bool = false) {
        self.name = name
        self.title = title
        self.description = description
        self.promptFill = promptFill
        self.interactive = interactive
    }

    /// The text recorded when the option is chosen as it is.
    public var answerText: String { title ?? name }
}

/// The answer a person gave.
public struct ContactAnswer: Sendable, Equatable {
    public var response: String
    /// The option chosen, if the answer came from one.
    public var optionName: String?
    /// As in the audit log: a Slack user ID, `key:NAME`, `local:NAME`.
    public var by: String
    public var byName: String?
    public var at: Date

    public init(response: String, optionName: String?, by: String, byName: String?, at: Date) {
        self.response = response
        self.optionName = optionName
        self.by = by
        self.byName = byName
        self.at = at
    }
}

/// A question as a client asks it, before it is stored.
public struct ContactQuestion: Sendable, Equatable {
    public var runID: String
    public var callID: String
    public var message: String
    public var subject: String?
    public var options: [ResponseOption]
    /// The specification as sent, given back unchanged.
    public var spec: JSONValue

    public init(runID: String, callID: String, message: String, subject: String?, options: [ResponseOption], spec: JSONValue) {
        self.runID = runID
        self.callID = callID
        self.message = message
        self.subject = subject
        self.options = options
        self.spec = spec
    }
}

/// A question an agent asks a person ("ask a human"): posted to Slack, answered once, in free text or by choosing one
/// of its options. Its question's fields read as its own (`contact.message`).
@dynamicMemberLookup
public struct ContactRequest: Sendable, Equatable {
    public static let messageLimit = ApprovalRequest.textLimit
    public static let subjectLimit = 1_000
    public static let responseLimit = 3_000
    public static let optionLimit = 20
    public static let identifierLimit = 255

    public var id: ContactID
    /// The key that asked, by name and identity: it reads the answer; others see it only with a wider scope.
    public var ownerKey: String
    public var ownerKeyID: Int64
    public var question: ContactQuestion
    public var createdAt: Date
    /// Who may answer: the approvers of the default gate's chain when it was asked (anyone, without one).
    public var chain: EscalationChain
    public var answer: ContactAnswer?

    public init(
        id: ContactID, ownerKey: String, ownerKeyID: Int64, question: ContactQuestion, createdAt: Date,
        chain: EscalationChain = .default, answer: ContactAnswer? = nil
    ) {
        self.id = id
        self.ownerKey = ownerKey
        self.ownerKeyID = ownerKeyID
        self.question = question
        self.createdAt = createdAt
        self.chain = chain
        self.answer = answer
    }

    public subscript<T>(dynamicMember field: KeyPath<ContactQuestion, T>) -> T { question[keyPath: field] }

    public var isAnswered: Bool { answer != nil }

    /// The option named `name`.
    public func option(named name: String) -> ResponseOption? { question.options.first { $0.name == name } }

    /// Checks every field of the question; the first problem is thrown as `.invalidField(name, sentence)`.
    public func validate() throws(ApprovalError) {
        try question.validate()
    }
}

extension ContactQuestion {
    /// Checks every field; the first problem is thrown as `.invalidField(name, sentence)`.
    public func validate() throws(ApprovalError) {
        typealias Limits = ContactRequest
        for (field, value) in [("run_id", runID), ("call_id", callID)] where value.isEmpty || value.count > Limits.identifierLimit {
            throw .invalidField(field, "`\(field)` must be 1–\(Limits.identifierLimit) characters.")
        }
        if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw .invalidField("spec.msg", "`spec.msg` must not be empty.")
        }
        if message.count > Limits.messageLimit {
            throw .invalidField("spec.msg", "`spec.msg` is longer than \(Limits.messageLimit) characters.")
        }
        if let subject, subject.count > Limits.subjectLimit {
            throw .invalidField("spec.subject", "`spec.subject` is longer than \(Limits.subjectLimit) characters.")
        }
        if options.count > Limits.optionLimit {
            throw .invalidField("spec.response_options", "`spec.response_options` may hold at most \(Limits.optionLimit) options.")
        }
        var names: Set<String> = []
        for (index, option) in options.enumerated() {
            let field = "spec.response_options[\(index)]"
            if option.name.trimmingCharacters(in: .whitespaces).isEmpty || option.name.count > 100 {
                throw .invalidField(field + ".name", "`\(field).name` must be 1–100 characters.")
            }
            if !names.insert(option.name).inserted {
                throw .invalidField(field + ".name", "`\(field).name` repeats an earlier option's name.")
            }
            for (part, value) in [("title", option.title), ("description", option.description)] {
                if let value, value.count > 1_000 { throw .invalidField("\(field).\(part)", "`\(field).\(part)` is longer than 1000 characters.") }
            }
            if let fill = option.promptFill, fill.count > Limits.responseLimit {
                throw .invalidField(field + ".prompt_fill", "`\(field).prompt_fill` is longer than \(Limits.responseLimit) characters.")
            }
        }
    }
}

extension ContactRequest {
    /// The `contact_requested` entry for the audit log.
    public var requestedEvent: AuditEvent {
        var details: [String: JSONValue] = [
            "contact_id": .string(id.rawValue), "call_id": .string(question.callID), "run_id": .string(question.runID),
            "message_sha256": .string(SHA256.hexDigest(of: question.message)),
            "options": .array(question.options.map { .string($0.name) }),
        ]
        if let subject = question.subject { details["subject"] = .string(subject) }
        return AuditEvent(.contactRequested, actor: "key:\(ownerKey)", details: details)
    }

    /// The `contact_answered` entry for the audit log.
    public func answeredEvent(_ answer: ContactAnswer) -> AuditEvent {
        var details: [String: JSONValue] = [
            "contact_id": .string(id.rawValue), "call_id": .string(question.callID), "response": .string(answer.response),
        ]
        if let name = answer.optionName { details["response_option_name"] = .string(name) }
        if let byName = answer.byName { details["by_name"] = .string(byName) }
        return AuditEvent(.contactAnswered, actor: answer.by, details: details)
    }
}

extension ResponseOption {
    /// As HumanLayer's clients write it: `{"name", "title", "description", "prompt_fill", "interactive"}`.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["name": .string(name), "interactive": .bool(interactive)]
        members["title"] = title.map(JSONValue.string) ?? .null
        members["description"] = description.map(JSONValue.string) ?? .null
        members["prompt_fill"] = promptFill.map(JSONValue.string) ?? .null
        return .object(members)
    }

    /// An option from its JSON form (`null` and missing members alike are absent), or the sentence saying what is wrong
    /// with it, naming it as `field`.
    public init(json: JSONValue, field: String) throws(ApprovalError) {
        guard let members = json.objectValue else { throw .invalidField(field, "`\(field)` must be an object.") }
        func text(_ name: String) throws(ApprovalError) -> String? {
            switch members[name] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw .invalidField("\(field).\(name)", "`\(field).\(name)` must be a string.")
            }
        }
        guard let name = try text("name") else { throw .invalidField("\(field).name", "`\(field).name` is required.") }
        var interactive = false
        switch members["interactive"] {
        case nil, .null?: break
        case .bool(let flag)?: interactive = flag
        default: throw .invalidField("\(field).interactive", "`\(field).interactive` must be true or false.")
        }
        self.init(
            name: name, title: try text("title"), description: try text("description"), promptFill: try text("prompt_fill"),
            interactive: interactive)
    }
}
