import ApprovalCore
import Foundation
import Synchronization

/// Chains as stored: compact JSON with sorted keys, so equal chains are equal text.
enum ChainCoding {
    static func encode(_ chain: EscalationChain) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value of plain strings, numbers and arrays cannot fail.
        return String(decoding: (try? encoder.encode(chain)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> EscalationChain {
        do {
            return try JSONDecoder().decode(EscalationChain.self, from: Data(text.utf8))
        } catch {
            throw StorageError.corrupt("escalation chain")
        }
    }
}

/// The chains last seen by this process, by gate, with the stored text they came from. A create builds its approval
/// from the cached chain outside the writer; the writer compares the stored text and rebuilds only if it changed.
final class ChainSnapshots: Sendable {
    struct Entry: Sendable {
        var definition: String?
        var chain: EscalationChain
    }

    private let entries = Mutex<[String: Entry]>([:])

    func guess(_ gate: String) -> Entry {
        entries.withLock { $0[gate] } ?? Entry(definition: nil, chain: .default)
    }

    func remember(_ gate: String, _ entry: Entry) {
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[gate] = entry
        }
    }
}
