import ApprovalCore
import Foundation
import SlackAPI
import SlackRecords

extension SlackDelivery {
    /// Posts a contact request's question to the approvals channel, or, once posted, updates its message to show it as
    /// it stands (answered: the answer and who gave it, no buttons). The post is recorded with its audit entry, so a
    /// retried item updates rather than posting twice; an answer given meanwhile queues an item
    /// of its own behind this one (same ordering key), which updates the message.
    func contactMessage(_ item: OutboxItem) async throws(OutboxFailure) {
        guard let contacts else { throw .permanent("contact requests are not set up") }
        guard let id = item.payload["contact"]?.stringValue.map(ContactID.init(rawValue:)) else {
            throw .permanent("the item names no contact request")
        }
        guard let contact = try await OutboxFailure.retryingDatabase({ try await contacts.contact(id) }) else {
            throw .permanent("the contact request is gone")
        }
        let rendered = ContactMessage.render(contact)
        if let post = try await OutboxFailure.retryingDatabase({ try await contacts.contactPost(id) }) {
            _ = try await call("chat.update") { () throws(SlackAPIError) in
                try await slack.updateMessage(channel: post.channel, ts: post.ts, text: rendered.text, blocks: rendered.blocks)
            }
            return
        }
        let posted = try await call("chat.postMessage") { () throws(SlackAPIError) in
            try await slack.postMessage(channel: channel, text: rendered.text, blocks: rendered.blocks, threadTS: nil)
        }
        let audit = AuditEvent(.posted, actor: "system:slack", details: [
            "contact_id": .string(id.rawValue), "call_id": .string(contact.callID), "channel": .string(posted.channel),
        ])
        try await OutboxFailure.retryingDatabase {
            try await contacts.recordContactPost(id, channel: posted.channel, ts: posted.ts, audit: audit)
        }
    }
}
