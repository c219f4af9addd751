import ApprovalCore
import Foundation
import Hummingbird
import NIOCore

/// A request body read as a `Decodable` value, with the contract's errors: 400 for JSON that does not parse (or is not
/// an object), 422 naming the field for a missing field or a wrong type. The JSON is parsed strictly (duplicate names
/// refused, numbers exact, see `JSONValue.parse(_:exactNumbers:)`) and then decoded from that value, not parsed twice.
enum RequestBody {
    /// The body as a JSON object, strictly parsed.
    static func json(_ request: Request) async throws -> JSONValue {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: APIError.maxBodySize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge
        }
        return try json(utf8: Array(buffer.readableBytesView))
    }

    /// `bytes` as a JSON object, strictly parsed, with the contract's errors.
    static func json(utf8 bytes: [UInt8]) throws -> JSONValue {
        guard !bytes.isEmpty else { throw APIError.malformed("The request body is empty; send a JSON object.") }
        let value: JSONValue
        do {
            // Exact numbers: a payload number a double cannot carry would bind the approval to another value.
            value = try JSONValue.parse(utf8: bytes, exactNumbers: true)
        } catch {
            if let sentence = error.inexactNumberSentence(root: "") {
                throw APIError.invalid(error.pathText(root: ""), sentence)
            }
            throw APIError.malformed("The request body is not valid JSON: \(error).")
        }
        guard value.objectValue != nil else { throw APIError.malformed("The request body must be a JSON object.") }
        return value
    }

    /// The body decoded as `T`, and the JSON it came from.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> (value: T, json: JSONValue) {
        let json = try await json(request)
        return (try T(from: JSONValueDecoder(value: json)), json)
    }
}

/// A new request's body as `POST /v1/approvals` reads it, for those who read one elsewhere (`gatehouse policies test`):
/// the same fields, defaults and errors (`APIError`, whose message names the field).
public enum ApprovalRequestBody {
    public static func request(fromUTF8 bytes: [UInt8]) throws -> ApprovalRequest {
        let json = try RequestBody.json(utf8: bytes)
        return try ApprovalsController.CreateBody(from: JSONValueDecoder(value: json)).request
    }
}

/// A string field that takes one of a few values; a wrong one is refused naming them.
protocol ContractChoice: Decodable, RawRepresentable<String> {
    /// How the allowed values read in the sentence: `one of low, medium, high, critical`.
    static var choices: String { get }
}

extension Risk: ContractChoice {
    static var choices: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
}
