import ApprovalCore
import Foundation

/// Accessors tests use to look into recorded Slack calls.
extension JSONValue {
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }

    /// Decodes this value as `type`; a string holding JSON (as form bodies carry `blocks`) is parsed first.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if case .string(let text) = self, let parsed = JSONValue.parseStructured(text) {
            return try parsed.decode(type)
        }
        return try JSONDecoder().decode(type, from: JSONEncoder().encode(self))
    }

    /// The text as JSON when it is an object or array, else `nil`.
    public static func parseStructured(_ text: String) -> JSONValue? {
        guard let first = text.first(where: { !$0.isWhitespace }), first == "[" || first == "{" else { return nil }
        return try? JSONValue.parse(text)
    }
}
