import Foundation

/// A JSON document as a value: what a requester sends as `payload`, and what is digested.
///
/// Numbers are IEEE 754 doubles, as RFC 8785 requires. Where payloads come in, numbers a double cannot carry exactly
/// are refused (`parse(_:exactNumbers:)`), so no two different numbers a requester sends share a digest.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The object's members, or `nil` when this is not an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// Parses a JSON text strictly (see `JSONParser`): duplicate names, trailing commas and the like are refused.
    /// With `exactNumbers`, so is a number that a double cannot carry exactly (an integer beyond ±(2^53 − 1), a
    /// decimal that reads back changed): use it wherever a payload comes in, so the approver, the digest and the
    /// runner see one value.
    public static func parse(_ data: Data, exactNumbers: Bool = false) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(data), exactNumbers: exactNumbers)
    }

    public static func parse(_ text: String, exactNumbers: Bool = false) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8), exactNumbers: exactNumbers)
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            guard value.isFinite else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "number out of range")
            }
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            // Integral values print without a fraction, as in the canonical form.
            if value.rounded() == value, abs(value) < 9.007_199_254_740_992e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
