import ApprovalCore
import Foundation

/// Policies as stored: compact JSON with sorted keys, so equal sets are equal text.
enum PolicyCoding {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain strings, numbers, arrays and enums: encoding cannot fail.
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decodeApplied(_ text: String) throws -> AppliedPolicy {
        do {
            return try JSONDecoder().decode(AppliedPolicy.self, from: Data(text.utf8))
        } catch {
            throw StorageError.corrupt("policy of a request")
        }
    }

    static func decodeSet(_ text: String) throws -> PolicySet {
        do {
            return try JSONDecoder().decode(PolicySet.self, from: Data(text.utf8))
        } catch {
            throw StorageError.corrupt("policy set")
        }
    }
}
