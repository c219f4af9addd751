import ApprovalCore
import Foundation

/// Reading HumanLayer's request bodies: `null` and a missing member mean the same (its clients send explicit `null`s
/// for every optional field, nested ones too), unknown members are ignored, and a wrong type is the contract's 422
/// naming the field.
struct HumanLayerBody {
    let members: [String: JSONValue]
    /// Where these members are, for messages: `spec.`, or empty at the top.
    let path: String

    init(_ json: JSONValue, path: String = "") throws {
        guard let members = json.objectValue else {
            throw APIError.invalid(path, "`\(path.isEmpty ? "body" : String(path.dropLast()))` must be a JSON object.")
        }
        self.members = members
        self.path = path
    }

    /// The member, `nil` when missing or `null`.
    func value(_ name: String) -> JSONValue? {
        guard let value = members[name], value != .null else { return nil }
        return value
    }

    func string(_ name: String) throws -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw APIError.invalid(path + name, "`\(path + name)` must be a string.") }
        return text
    }

    func requiredString(_ name: String, limit: Int) throws -> String {
        guard let text = try string(name), !text.isEmpty, text.count <= limit else {
            throw APIError.invalid(path + name, "`\(path + name)` must be a string of 1–\(limit) characters.")
        }
        return text
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw APIError.invalid(path + name, "`\(path + name)` must be true or false.") }
        return flag
    }

    /// A nested object's members.
    func object(_ name: String) throws -> HumanLayerBody? {
        guard let value = value(name) else { return nil }
        return try HumanLayerBody(value, path: path + name + ".")
    }

    /// A member that must be an object or an array when given (`channel`, `state`, option lists): kept as it is.
    func kept(_ name: String, array: Bool = false) throws -> JSONValue? {
        guard let value = value(name) else { return nil }
        switch (value, array) {
        case (.object, false), (.array, true): return value
        default: throw APIError.invalid(path + name, "`\(path + name)` must be \(array ? "a list" : "a JSON object").")
        }
    }

    /// The `run_id`, `call_id` and `spec` of a create body, and the digest a repeat with the same `call_id` must match:
    /// of those three, with the spec's `null` members left out (nested ones too, but for the client's own values in
    /// `kwargs` and `state`), so spelling an absent field as `null` changes nothing.
    static func call(_ json: JSONValue) throws -> (runID: String, callID: String, spec: HumanLayerBody, digest: String) {
        let body = try HumanLayerBody(json)
        let runID = try body.requiredString("run_id", limit: ContactRequest.identifierLimit)
        let callID = try body.requiredString("call_id", limit: ContactRequest.identifierLimit)
        guard let spec = try body.object("spec") else { throw APIError.invalid("spec", "`spec` is required.") }
        var meaningful: [String: JSONValue] = [:]
        for (name, value) in spec.members where value != .null {
            meaningful[name] = clientValues.contains(name) ? value : withoutNulls(value)
        }
        let digest = CanonicalJSON.sha256(of: .object([
            "run_id": .string(runID), "call_id": .string(callID), "spec": .object(meaningful),
        ]))
        return (runID, callID, spec, digest)
    }

    /// Members of a spec whose values are the client's own, where `null` is a value like any other.
    static let clientValues: Set<String> = ["kwargs", "state"]

    /// `value` without the `null` members of any object in it.
    static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): .object(members.filter { $0.value != .null }.mapValues(withoutNulls))
        case .array(let items): .array(items.map(withoutNulls))
        default: value
        }
    }
}
