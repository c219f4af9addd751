import ApprovalCore
import NIOCore
import Synchronization

/// An approval with its JSON answer rendered at most once, so that every long-poll it wakes sends the same
/// bytes instead of serialising the same approval again (a thousand pollers, one rendering).
final class RenderedApproval: Sendable {
    let approval: Approval
    /// The last rendering and the Slack link it was made with; a different link renders anew.
    private let rendered = Mutex<(link: String?, body: ByteBuffer)?>(nil)

    init(_ approval: Approval) {
        self.approval = approval
    }

    /// The canonical JSON of the approval object (CONTRACT.md §3) with `slackLink`.
    func body(slackLink: String?) -> ByteBuffer {
        if let cached = rendered.withLock({ $0 }), cached.link == slackLink { return cached.body }
        // Rendered outside the lock: pollers racing here each render once, and the last one is kept.
        let body = ByteBuffer(bytes: ApprovalJSON.utf8(approval, slackLink: slackLink))
        rendered.withLock { $0 = (slackLink, body) }
        return body
    }
}
