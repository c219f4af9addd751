import ApprovalCore
import Synchronization

/// An observer that remembers every commit it is told of, in order.
public final class RecordingObserver: ApprovalObserver, Sendable {
    private let recorded = Mutex<[ApprovalTransition]>([])

    public init() {}

    public var transitions: [ApprovalTransition] { recorded.withLock { $0 } }

    public func didCommit(_ transition: ApprovalTransition) {
        recorded.withLock { $0.append(transition) }
    }
}
