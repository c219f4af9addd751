import ApprovalCore
import Foundation
import Hummingbird
import NIOCore

/// A request body parsed as a JSON object, with typed field access that reports the contract's errors:
/// 400 for JSON that does not parse, 422 naming the field for a wrong type or a missing field.
struct JSONBody {
    let members: [String: JSONValue]
    let raw: JSONValue

    static func read(_ request: Request, context: some RequestContext) async throws -> JSONBody {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: APIError.maxBodySize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge
        }
        guard buffer.readableBytes > 0 else { throw APIError.malformed("The request body is empty; send a JSON object.") }
        let value: JSONValue
        do {
            // Exact numbers: a payload number a double cannot carry would bind the approval to another value.
            value = try JSONValue.parse(utf8: Array(buffer.readableBytesView), exactNumbers: true)
        } catch {
            if let sentence = error.inexactNumberSentence(root: "") {
                throw APIError.invalid(error.pathText(root: ""), sentence)
            }
            throw APIError.malformed("The request body is not valid JSON: \(error).")
        }
        guard let members = value.objectValue else {
            throw APIError.malformed("The request body must be a JSON object.")
        }
        return JSONBody(members: members, raw: value)
    }

    func string(_ name: String, required: Bool = false) throws(APIError) -> String? {
        switch members[name] {
        case nil, .null?:
            if required { throw APIError.invalid(name, "`\(name)` is required.") }
            return nil
        case .string(let value)?: return value
        default: throw APIError.invalid(name, "`\(name)` must be a string.")
        }
    }

    func integer(_ name: String) throws(APIError) -> Int? {
        switch members[name] {
        case nil, .null?: return nil
        case .number(let value)? where value.rounded() == value && abs(value) < 1e15: return Int(value)
        default: throw APIError.invalid(name, "`\(name)` must be a whole number.")
        }
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        switch members[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw APIError.invalid(name, "`\(name)` must be true or false.")
        }
    }

    func value(_ name: String, required: Bool = false) throws(APIError) -> JSONValue? {
        guard let value = members[name], value != .null else {
            if required { throw APIError.invalid(name, "`\(name)` is required.") }
            return nil
        }
        return value
    }

    func oneOf<T: RawRepresentable<String>>(_ name: String, _ type: T.Type, allowed: String) throws(APIError) -> T? {
        guard let text = try string(name) else { return nil }
        guard let value = T(rawValue: text) else { throw APIError.invalid(name, "`\(name)` must be one of \(allowed).") }
        return value
    }
}
