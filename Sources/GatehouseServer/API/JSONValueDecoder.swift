import ApprovalCore
import Foundation

/// Decodes a `Decodable` from a parsed `JSONValue`: a `JSONValue` member is taken as it is (a payload is never
/// re-encoded), and a missing field or a wrong type is thrown as the contract's 422, naming the field.
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let members = value.objectValue else { throw APIError.invalid(field, "`\(field)` must be a JSON object.") }
        return KeyedDecodingContainer(Keyed(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw APIError.invalid(field, "`\(field)` cannot be read as a list here.")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        Single(value: value, codingPath: codingPath)
    }

    private var field: String { Self.name(codingPath) }

    /// `expires_in`, or `a.b` for a nested field.
    static func name(_ path: [any CodingKey]) -> String { path.map(\.stringValue).joined(separator: ".") }

    /// A value of type `T` from `value`, at `path`: the typed reads give the contract's sentences.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: [any CodingKey]) throws -> T {
        let field = name(path)
        if T.self == JSONValue.self { return value as! T }
        if T.self == String.self {
            guard case .string(let text) = value else { throw APIError.invalid(field, "`\(field)` must be a string.") }
            return text as! T
        }
        if T.self == Bool.self {
            guard case .bool(let flag) = value else { throw APIError.invalid(field, "`\(field)` must be true or false.") }
            return flag as! T
        }
        if T.self == Int.self {
            guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
                throw APIError.invalid(field, "`\(field)` must be a whole number.")
            }
            return Int(number) as! T
        }
        if let choice = T.self as? any ContractChoice.Type {
            guard case .string(let text) = value, let chosen = choice.init(rawValue: text) else {
                throw APIError.invalid(field, "`\(field)` must be \(choice.choices).")
            }
            return chosen as! T
        }
        return try T(from: JSONValueDecoder(value: value, codingPath: path))
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONValue]
        let codingPath: [any CodingKey]

        var allKeys: [Key] { members.keys.compactMap(Key.init(stringValue:)) }

        func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

        func decodeNil(forKey key: Key) throws -> Bool { (members[key.stringValue] ?? .null) == .null }

        /// A field that is missing or `null` is required here.
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let value = members[key.stringValue], value != .null else {
                let field = JSONValueDecoder.name(codingPath + [key])
                throw APIError.invalid(field, "`\(field)` is required.")
            }
            return try JSONValueDecoder.decode(type, from: value, at: codingPath + [key])
        }

        /// A field that is missing or `null` is absent.
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let value = members[key.stringValue], value != .null else { return nil }
            return try JSONValueDecoder.decode(type, from: value, at: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { JSONValueDecoder(value: .object(members), codingPath: codingPath) }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            JSONValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool { value == .null }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONValueDecoder.decode(type, from: value, at: codingPath)
        }
    }
}
