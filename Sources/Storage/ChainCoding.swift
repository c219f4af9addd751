import ApprovalCore
import Foundation
import Synchronization

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
