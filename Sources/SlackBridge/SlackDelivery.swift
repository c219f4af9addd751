import ApprovalCore
import Foundation
import Signing
import SlackAPI
import SlackRecords
import Synchronization

/// The Slack side of the outbox: posts new requests to the approvals channel, updates every message about a
/// request when it changes, and sends ephemeral replies. A post that succeeded is never repeated.
public struct SlackDelivery: OutboxHandler {
    let slack: any SlackWebAPI
    let approvals: any ApprovalRepository
    let messages: any SlackMessageStore
    let channel: String
    let clock: any WallClock
    let groups: GroupDirectory
    /// The most DMs one escalation sends (a large user group is reached through the thread mention instead).
    static let dmLimit = 25
    /// Told about every failed Web API call: method, Slack's error (or the failure's kind), and whether it is permanent.
    let onError: @Sendable (_ method: String, _ error: SlackAPIError) -> Void
    /// Break-glass posts and who to tell when one is over its limit.
    let breakGlass: (any BreakGlassPosts)?
    let admins: @Sendable () async throws -> [String]
    let breakGlassLimit: @Sendable () async throws -> Int?
    /// Contact requests and where their messages are.
    let contacts: (any ContactStore & ContactPosts)?

    public init(
        slack: any SlackWebAPI, approvals: any ApprovalRepository, messages: any SlackMessageStore, channel: String,
        clock: any WallClock, groups: GroupDirectory? = nil,
        onError: @escaping @Sendable (_ method: String, _ error: SlackAPIError) -> Void,
        breakGlass: (any BreakGlassPosts)? = nil, admins: @escaping @Sendable () async throws -> [String] = { [] },
        breakGlassLimit: @escaping @Sendable () async throws -> Int? = { nil },
        contacts: (any ContactStore & ContactPosts)? = nil
    ) {
        self.contacts = contacts
        self.breakGlass = breakGlass
        self.admins = admins
        self.breakGlassLimit = breakGlassLimit
        self.groups = groups ?? GroupDirectory(slack: slack, clock: clock)
        self.slack = slack
        self.approvals = approvals
        self.messages = messages
        self.channel = channel
        self.clock = clock
        self.onError = onError
    }

    public var kinds: [String] { SlackOutboxKind.all }

    public func deliver(_ item: OutboxItem) async throws(OutboxFailure) {
        switch item.kind {
        case SlackOutboxKind.post: try await post(item)
        case SlackOutboxKind.update: try await update(item)
        case SlackOutboxKind.ephemeral: try await ephemeral(item)
        case SlackOutboxKind.escalate: try await escalate(item)
        case SlackOutboxKind.breakGlass: try await breakGlassPost(item)
        case SlackOutboxKind.adminNotice: try await adminNotice(item)
        case SlackOutboxKind.contact: try await contactMessage(item)
        default: throw .permanent("unknown Slack outbox kind \(item.kind)")
        }
    }

    /// Posts the loud message about a break-glass use (or, once posted, updates it to show its review); the first
    /// time, when it is over the limit, tells each admin by DM.
    private func breakGlassPost(_ item: OutboxItem) async throws(OutboxFailure) {
        guard let store = breakGlass else { throw .permanent("break-glass posts are not set up") }
        let approval = try await approval(of: item)
        let use = try await OutboxFailure.retryingDatabase { try await store.breakGlassUse(approval.id) }
        let limit = try? await breakGlassLimit()
        let rendered = BreakGlassMessage.render(approval, use: use, maxPer30Days: limit)
        if let post = try await OutboxFailure.retryingDatabase({ try await store.breakGlassPost(approval.id) }) {
            _ = try await call("chat.update") { () throws(SlackAPIError) in
                try await slack.updateMessage(channel: post.channel, ts: post.ts, text: rendered.text, blocks: rendered.blocks)
            }
            return
        }
        let posted = try await call("chat.postMessage") { () throws(SlackAPIError) in
            try await slack.postMessage(channel: channel, text: rendered.text, blocks: rendered.blocks, threadTS: nil)
        }
        try await OutboxFailure.retryingDatabase { try await store.recordBreakGlassPost(approval.id, channel: posted.channel, ts: posted.ts) }
        if use?.overLimit == true {
            let who = approval.decision.map { $0.byName ?? $0.by } ?? "someone"
            try await sendToAdmins(":warning: \(who) broke the glass on `\(approval.id.rawValue)` (\(Mrkdwn.escape(approval.action))), more than \(limit.map(String.init) ?? "the allowed number of") times in 30 days.")
        }
    }

    /// A DM to each admin: `{"text": …}`.
    private func adminNotice(_ item: OutboxItem) async throws(OutboxFailure) {
        guard let text = item.payload["text"]?.stringValue else { throw .permanent("the notice has no text") }
        try await sendToAdmins(text, only: item.payload["admins"].flatMap { value in
            if case .array(let ids) = value { ids.compactMap(\.stringValue) } else { nil }
        })
    }

    private func sendToAdmins(_ text: String, only: [String]? = nil) async throws(OutboxFailure) {
        let everyone: [String]
        if let only {
            everyone = only
        } else {
            do { everyone = try await admins() } catch { throw .retry("could not read the admins: \(error)") }
        }
        // As an escalation's DMs: an admin Slack refuses for good is skipped, so the others are still told.
        for admin in everyone.prefix(Self.dmLimit) {
            guard let dm = try await callForOne("conversations.open", { () throws(SlackAPIError) in
                try await slack.openConversation(users: [admin])
            }) else { continue }
            _ = try await callForOne("chat.postMessage") { () throws(SlackAPIError) in
                try await slack.postMessage(channel: dm, text: text, blocks: nil, threadTS: nil)
            }
        }
    }

    private func approval(of item: OutboxItem) async throws(OutboxFailure) -> Approval {
        guard let id = item.approvalID else { throw .permanent("the item names no approval") }
        guard let approval = try await OutboxFailure.retryingDatabase({ try await approvals.approval(id) }) else {
            throw .permanent("the approval is gone")
        }
        return approval
    }

    private func posted(about id: ApprovalID) async throws(OutboxFailure) -> [SlackMessageRecord] {
        try await OutboxFailure.retryingDatabase { try await self.messages.slackMessages(for: id) }
    }

    private func post(_ item: OutboxItem) async throws(OutboxFailure) {
        let approval = try await approval(of: item)
        if let posted = try await posted(about: approval.id).first(where: { $0.kind == .channel }) {
            // Posted already (the item is delivered again after a stop): only a missing link is left to fetch.
            if posted.permalink == nil { try await fetchPermalink(of: posted) }
            return
        }
        let rendered = ApprovalMessage.render(approval)
        let posted = try await call("chat.postMessage") { () throws(SlackAPIError) in
            try await slack.postMessage(channel: channel, text: rendered.text, blocks: rendered.blocks, threadTS: nil)
        }
        let message = SlackMessageRecord(
            approvalID: approval.id, kind: .channel, channel: posted.channel, ts: posted.ts, postedAt: clock.now,
            shownSHA256: Self.digest(text: rendered.text, blocks: rendered.blocks))
        let audit = AuditEvent(.posted, approvalID: approval.id, actor: "system:slack", details: ["channel": .string(posted.channel)])
        try await OutboxFailure.retryingDatabase { try await self.messages.recordSlackMessage(message, audit: audit) }
        try await fetchPermalink(of: message)
    }

    /// The link for the API's `links.slack`, a convenience: the post stands without it. While the service stops it is
    /// not asked for; the item is then delivered again after the restart, which asks for it.
    private func fetchPermalink(of message: SlackMessageRecord) async throws(OutboxFailure) {
        let answer = try await Self.attempt("chat.getPermalink") { () throws(SlackAPIError) in
            try await slack.permalink(channel: message.channel, messageTS: message.ts)
        }
        guard case .success(let link) = answer else { return }
        try await OutboxFailure.retryingDatabase {
            try await self.messages.updateSlackMessage(channel: message.channel, ts: message.ts, permalink: link, shownSHA256: nil)
        }
    }

    private func update(_ item: OutboxItem) async throws(OutboxFailure) {
        // Every update shows the state at the time it runs; a message already showing it is left alone, so updates
        // queued one after another (several overdue steps after a restart, say) send the new content once.
        let approval = try await approval(of: item)
        let rendered = ApprovalMessage.render(approval)
        let messages = try await posted(about: approval.id)
        // Of a person's reminders only the latest, the one their DM shows last, is changed once decided: a held request
        // can leave hundreds, and changing them all would be a burst of updates nobody reads.
        let latestReminder = Dictionary(grouping: messages.filter { $0.kind == .dm && !$0.followsState }, by: \.channel)
            .compactMapValues { $0.last?.ts }
        for message in messages where message.followsState || latestReminder[message.channel] == message.ts {
            guard let content = Self.content(of: message, for: approval, rendered: rendered) else { continue }
            let shown = Self.digest(text: content.text, blocks: content.blocks ?? [])
            // Already showing this: a DM posted after the change this update is for, or one updated before a retry.
            if let shown, message.shownSHA256 == shown { continue }
            let updated = try await Self.attempt("chat.update") { () throws(SlackAPIError) in
                try await slack.updateMessage(channel: message.channel, ts: message.ts, text: content.text, blocks: content.blocks)
            }
            switch updated {
            case .success: break
            case .failure(.api("message_not_found")): continue  // deleted by someone in Slack: nothing left to update
            case .failure(let error): throw failure("chat.update", error)
            }
            guard let shown else { continue }
            try await OutboxFailure.retryingDatabase {
                try await self.messages.updateSlackMessage(channel: message.channel, ts: message.ts, permalink: nil, shownSHA256: shown)
            }
        }
    }

    /// What `message` is to show now, or `nil` to leave it as it is: the request as the channel shows it (below a DM's
    /// header) for the messages that follow the state; for a reminder DM, one line with the outcome once the request
    /// is decided; thread replies never change.
    static func content(
        of message: SlackMessageRecord, for approval: Approval, rendered: (text: String, blocks: [Block])
    ) -> (text: String, blocks: [Block]?)? {
        if message.followsState { return (rendered.text, blocks(rendered.blocks, header: message.header)) }
        guard message.kind == .dm, approval.status != .pending else { return nil }
        return (EscalationText.settledReminder(approval), nil)
    }

    /// What a message shows, as the SHA-256 of its text and its blocks' JSON (keys sorted): equal digests, same
    /// content. `nil` if the blocks cannot be encoded, which leaves the message to be updated every time.
    static func digest(text: String, blocks: [Block]) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(blocks) else { return nil }
        return SHA256.hexDigest(of: text + "\n" + String(decoding: json, as: UTF8.self))
    }

    /// A DM's blocks: the line saying why it was sent, then the request as the channel shows it.
    static func blocks(_ blocks: [Block], header: String?) -> [Block] {
        guard let header else { return blocks }
        return [Block.section(text: .mrkdwn(SlackText.fit(header, BlockKitLimits.sectionText)))] + blocks
    }

    /// A level is asked: a reply in the request's thread mentioning its approvers, and a DM with the buttons to
    /// each of them (groups expanded, the requester left out). Someone who already has a DM with the buttons (a held
    /// request asking again, or a person in two levels) gets a short reminder instead, which is not updated while the
    /// request is pending (the latest one is, once, when it is decided), so every ping costs one message per person.
    /// What a retried step already posted is not posted again.
    private func escalate(_ item: OutboxItem) async throws(OutboxFailure) {
        let approval = try await approval(of: item)
        // Decided before the ping went out: the update that follows says so; nobody needs asking any more.
        guard approval.status == .pending else { return }
        let repeated = item.payload["repeated"] == .bool(true)
        guard case .number(let number)? = item.payload["level"], !approval.chain.levels.isEmpty else {
            throw .permanent("the escalation names no level")
        }
        let level = min(max(Int(number), 1), approval.chain.levels.count)
        let now = clock.now
        let announcement = EscalationText.announcement(approval, level: level, repeated: repeated, at: now)
        let posted = try await posted(about: approval.id)
        let done = posted.filter { $0.outboxItem == item.id }

        if let main = posted.first(where: { $0.kind == .channel }), !done.contains(where: { $0.kind == .thread }) {
            let reply = try await call("chat.postMessage") { () throws(SlackAPIError) in
                try await slack.postMessage(channel: main.channel, text: announcement, blocks: nil, threadTS: main.ts)
            }
            try await record(SlackMessageRecord(
                approvalID: approval.id, kind: .thread, channel: reply.channel, ts: reply.ts, postedAt: clock.now, outboxItem: item.id))
        }

        let users = try await call("usergroups.users.list") { () throws(SlackAPIError) in
            try await groups.users(approval.chain.levels[level - 1].approvers)
        }
        let recipients = users.filter { $0 != approval.requester }.prefix(Self.dmLimit)
        let rendered = ApprovalMessage.render(approval)
        let header = EscalationText.head(approval, level: level, repeated: repeated, at: now)
        let blocks = Self.blocks(rendered.blocks, header: header)
        let reminder = SlackText.fit(
            announcement + " Decide with the buttons of my first message about “\(Mrkdwn.escape(approval.action))”.",
            BlockKitLimits.messageText)
        for user in recipients where !done.contains(where: { $0.kind == .dm && $0.recipient == user }) {
            let hasButtons = posted.contains { $0.kind == .dm && $0.recipient == user && $0.followsState }
            guard let dm = try await callForOne("conversations.open", { () throws(SlackAPIError) in
                try await slack.openConversation(users: [user])
            }) else { continue }
            // Decided while the DMs go out (a large group, a slow Slack): the rest would only ask for what is done,
            // and the update that follows the decision shows the outcome in those already sent.
            guard try await self.approval(of: item).status == .pending else { return }
            guard let message = try await callForOne("chat.postMessage", { () throws(SlackAPIError) in
                hasButtons
                    ? try await slack.postMessage(channel: dm, text: reminder, blocks: nil, threadTS: nil)
                    : try await slack.postMessage(channel: dm, text: rendered.text, blocks: blocks, threadTS: nil)
            }) else { continue }
            try await record(SlackMessageRecord(
                approvalID: approval.id, kind: .dm, channel: message.channel, ts: message.ts, recipient: user, postedAt: clock.now,
                outboxItem: item.id, header: hasButtons ? nil : header, followsState: !hasButtons,
                shownSHA256: hasButtons ? Self.digest(text: reminder, blocks: []) : Self.digest(text: rendered.text, blocks: blocks)))
        }
    }

    private func record(_ message: SlackMessageRecord) async throws(OutboxFailure) {
        try await OutboxFailure.retryingDatabase { try await self.messages.recordSlackMessage(message, audit: nil) }
    }

    private func ephemeral(_ item: OutboxItem) async throws(OutboxFailure) {
        guard let channel = item.payload["channel"]?.stringValue, let user = item.payload["user"]?.stringValue,
            let text = item.payload["text"]?.stringValue
        else { throw .permanent("incomplete ephemeral reply") }
        _ = try await call("chat.postEphemeral") { () throws(SlackAPIError) in
            try await slack.postEphemeral(channel: channel, user: user, text: text, blocks: nil, threadTS: nil)
        }
    }

    /// One Web API call; any failure fails the step (to be retried, or given up when permanent).
    func call<T: Sendable>(
        _ method: String, _ body: @escaping @Sendable () async throws(SlackAPIError) -> T
    ) async throws(OutboxFailure) -> T {
        switch try await Self.attempt(method, body) {
        case .success(let value): return value
        case .failure(let error): throw failure(method, error)
        }
    }

    /// A call for one person's DM: `nil` when Slack refuses that person for good (counted and hinted like any
    /// error), so the others are still asked; any other failure fails the step, to be retried.
    private func callForOne<T: Sendable>(
        _ method: String, _ body: @escaping @Sendable () async throws(SlackAPIError) -> T
    ) async throws(OutboxFailure) -> T? {
        switch try await Self.attempt(method, body) {
        case .success(let value):
            return value
        case .failure(let error):
            let failure = failure(method, error)
            guard error.refusesRecipient else { throw failure }
            return nil
        }
    }

    /// Makes one Web API call and returns what Slack said. While the service stops, no call is started (the item is
    /// retried after the restart), but one already on its way runs to its end: Slack may act on it, and what it did
    /// must be recorded, or the restart would do it again (post the request twice). The client's timeout bounds the
    /// wait.
    private static func attempt<T: Sendable>(
        _ method: String, _ body: @escaping @Sendable () async throws(SlackAPIError) -> T
    ) async throws(OutboxFailure) -> Result<T, SlackAPIError> {
        if Task.isCancelled { throw .retry("\(method): not sent, the service is stopping") }
        return await uninterrupted(body)
    }

    /// Runs `body` to its end whether or not the caller is cancelled meanwhile.
    private static func uninterrupted<T: Sendable>(
        _ body: @escaping @Sendable () async throws(SlackAPIError) -> T
    ) async -> Result<T, SlackAPIError> {
        await Task { () async -> Result<T, SlackAPIError> in
            do throws(SlackAPIError) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }.value
    }

    private func failure(_ method: String, _ error: SlackAPIError) -> OutboxFailure {
        onError(method, error)
        if case .rateLimited(let seconds) = error { return .retry("\(method): \(error)", retryAfter: seconds) }
        if error.isRetryable { return .retry("\(method): \(error)") }
        return .permanent("\(method): \(error)" + (error.adminHint.map { " — \($0)" } ?? ""))
    }
}
