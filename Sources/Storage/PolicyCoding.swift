import ApprovalCore
import Foundation
import Synchronization

/// Policies as stored: compact JSON with sorted keys, so equal sets are equal text.
enum PolicyCoding {
    static func encode(_ value: any Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain strings, numbers, arrays and enums: encoding cannot fail.
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The stored text of the rules requests matched last: many requests match the same few rules.
    private static let recent = Mutex<[String: (policy: AppliedPolicy, text: String)]>([:])

    static func encode(_ policy: AppliedPolicy) -> String {
        if let hit = recent.withLock({ $0[policy.name] }), hit.policy == policy { return hit.text }
        let text = encode(policy as any Encodable)
        recent.withLock { cache in
            if cache.count > 1_000 { cache.removeAll() }
            cache[policy.name] = (policy, text)
        }
        return text
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
