import ApprovalCore
import Foundation
import Hummingbird
import SlackAPI
import Synchronization

/// A real HTTP server on 127.0.0.1 standing in for Slack's Web API: it records every call, checks the token,
/// validates Block Kit limits, keeps posted messages, and can be told to fail.
///
/// Channel names resolve to IDs as `#approvals` / `approvals` → `C0APPROVALS`; IDs (`C…`, `D…`, `G…`) stay as given.
public final class FakeSlackWebAPI: Sendable {
    /// A JSON value as the fake received it: the same value type the service uses.
    public typealias JSON = JSONValue

    /// One HTTP request the fake received, and how it answered.
    public struct RecordedCall: Sendable {
        /// The Web API method, e.g. `chat.postMessage`.
        public var method: String
        /// `GET` or `POST`.
        public var httpMethod: String
        public var authorization: String?
        public var contentType: String?
        /// The raw query string, if any.
        public var query: String?
        public var rawBody: String
        /// JSON body, form body and query parameters alike; form values holding JSON arrays or objects are parsed.
        public var body: [String: JSON]
        /// The HTTP status answered.
        public var status: Int
        /// The `error` answered, or `nil` for `ok: true` (and for a scripted 500).
        public var error: String?
        /// Block Kit problems found, when the answer was `invalid_blocks` or `msg_too_long`.
        public var problems: [String]

        public subscript(key: String) -> JSON? {
            body[key]
        }
    }

    /// A scripted failure for the next calls to a method.
    public enum FakeFailure: Sendable, Hashable {
        /// HTTP 429 with `Retry-After` and `{"ok":false,"error":"ratelimited"}`.
        case rateLimited(retryAfter: Int)
        /// HTTP 500.
        case serverError
        /// HTTP 200 with `{"ok":false,"error":…}`.
        case error(String)
    }

    /// A message as the fake holds it, after any updates.
    public struct StoredMessage: Sendable, Hashable {
        public var channel: String
        public var ts: String
        public var text: String?
        public var blocks: [Block]?
        public var threadTS: String?
        /// The recipient of an ephemeral message.
        public var user: String?
        /// How many `chat.update` calls changed it.
        public var updateCount: Int
    }

    /// `waitForCalls` ran out of time.
    public struct TimeoutError: Error, CustomStringConvertible {
        public var method: String
        public var expected: Int
        public var received: Int

        public var description: String {
            "waited for \(expected) call(s) to \(method), received \(received)"
        }
    }

    private struct Waiter {
        var id: Int
        var method: String
        var count: Int
        var continuation: CheckedContinuation<[RecordedCall], any Error>
    }

    private struct State {
        var server: LocalHTTPServer?
        var calls: [RecordedCall] = []
        var failures: [String: [(failure: FakeFailure, remaining: Int)]] = [:]
        var holds: [String: [FakeHold]] = [:]
        var messages: [String: [StoredMessage]] = [:]
        var ephemeral: [StoredMessage] = []
        var views: [String: View] = [:]
        var viewOrder: [String] = []
        var users: [String: SlackUser] = [:]
        var groups: [String: [String]] = [:]
        /// What `auth.test` says the token may do (its `x-oauth-scopes` header): the manifest's scopes unless set.
        var scopes = ["chat:write", "chat:write.public", "commands", "users:read", "im:write", "usergroups:read"]
        /// The channels (by ID) the bot is a member of; `nil`: all of them.
        var memberOf: Set<String>?
        var tsCounter = 0
        var viewCounter = 0
        var waiterCounter = 0
        var waiters: [Waiter] = []
        var cancelledWaiters: Set<Int> = []
    }

    private enum Outcome {
        case ok([String: JSON])
        case failure(String, problems: [String] = [])
    }

    /// The bot token the fake accepts.
    public let token: String
    private let state = Mutex(State())
    /// Counts the calls answered: something to wait on while what the fake holds changes.
    public let changes = ChangeCounter()

    private init(token: String) {
        self.token = token
    }

    /// Starts a fake on a free port of 127.0.0.1.
    public static func start(token: String = "xoxb-test-token") async throws -> FakeSlackWebAPI {
        let fake = FakeSlackWebAPI(token: token)
        let router = Router()
        router.get("api/:method") { request, context in try await fake.respond(to: request, context: context) }
        router.post("api/:method") { request, context in try await fake.respond(to: request, context: context) }
        let server = try await LocalHTTPServer.start(router: router)
        fake.state.withLock { $0.server = server }
        return fake
    }

    /// Stops the server and waits until it has closed its port.
    public func stop() async {
        let server = state.withLock { $0.server }
        await server?.stop()
    }

    /// Where to point a client: `http://127.0.0.1:PORT/api/`.
    public var baseURL: URL {
        let server = state.withLock { $0.server }
        return URL(string: (server?.baseURL.absoluteString ?? "http://127.0.0.1:0/") + "api/")!
    }

    /// Every call received, in order.
    public var calls: [RecordedCall] {
        state.withLock { $0.calls }
    }

    /// The calls received for one method, in order.
    public func calls(_ method: String) -> [RecordedCall] {
        state.withLock { $0.calls.filter { $0.method == method } }
    }

    /// Makes the next `times` calls to `method` fail as scripted (after recording them).
    public func fail(_ method: String, with failure: FakeFailure, times: Int = 1) {
        guard times > 0 else { return }
        state.withLock { $0.failures[method, default: []].append((failure, times)) }
    }

    /// Keeps the next call to `method` waiting, before it is answered or recorded, until the returned hold is released.
    public func hold(_ method: String) -> FakeHold {
        let hold = FakeHold()
        state.withLock { $0.holds[method, default: []].append(hold) }
        return hold
    }

    /// What `users.info` answers for `user.id`; other IDs get a default user (name = ID lowercased, `Europe/Berlin`).
    public func setUser(_ user: SlackUser) {
        state.withLock { $0.users[user.id] = user }
    }

    /// What `usergroups.users.list` answers for the group `id`; unknown groups answer `no_such_subteam`.
    public func setGroupMembers(_ id: String, _ users: [String]) {
        state.withLock { $0.groups[id] = users }
    }

    /// The scopes `auth.test` reports for the token.
    public func setScopes(_ scopes: [String]) {
        state.withLock { $0.scopes = scopes }
    }

    /// The channels the bot is in, for `conversations.info` (`nil`: every channel).
    public func setMembership(_ channels: Set<String>?) {
        state.withLock { $0.memberOf = channels }
    }

    /// The message as last posted or updated, by channel ID or name and `ts`.
    public func message(channel: String, ts: String) -> StoredMessage? {
        let id = Self.channelID(channel)
        return state.withLock { $0.messages[id]?.first { $0.ts == ts } }
    }

    /// The messages posted to a channel (ID or name), oldest first.
    public func messages(in channel: String) -> [StoredMessage] {
        let id = Self.channelID(channel)
        return state.withLock { $0.messages[id] ?? [] }
    }

    /// Ephemeral messages posted, oldest first.
    public var ephemeralMessages: [StoredMessage] {
        state.withLock { $0.ephemeral }
    }

    /// Views opened with `views.open`, oldest first.
    public var openedViews: [(id: String, view: View)] {
        state.withLock { state in state.viewOrder.compactMap { id in state.views[id].map { (id, $0) } } }
    }

    /// Waits until at least `count` calls to `method` were recorded and returns them all; woken by each call.
    public func waitForCalls(_ method: String, count: Int, timeout: Duration = .seconds(10)) async throws -> [RecordedCall] {
        try await withThrowingTaskGroup(of: [RecordedCall].self) { group in
            group.addTask { try await self.awaitCalls(method, count: count) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimeoutError(method: method, expected: count, received: self.calls(method).count)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// The channel ID a channel argument names: IDs stay, `#name` and `name` become `C0NAME`.
    public static func channelID(_ channel: String) -> String {
        let isID =
            channel.count > 1 && ["C", "D", "G"].contains(channel.first!)
            && channel.allSatisfy { ($0.isASCII && $0.isUppercase) || $0.isNumber }
        if isID { return channel }
        let name = channel.hasPrefix("#") ? channel.dropFirst() : Substring(channel)
        return "C0" + name.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

extension FakeSlackWebAPI {
    private func awaitCalls(_ method: String, count: Int) async throws -> [RecordedCall] {
        let id = state.withLock { state in
            state.waiterCounter += 1
            return state.waiterCounter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome: Result<[RecordedCall], any Error>? = state.withLock { state in
                    if state.cancelledWaiters.remove(id) != nil { return .failure(CancellationError()) }
                    let matching = state.calls.filter { $0.method == method }
                    if matching.count >= count { return .success(matching) }
                    state.waiters.append(Waiter(id: id, method: method, count: count, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                    state.cancelledWaiters.insert(id)
                    return nil
                }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func respond(to request: Request, context: some RequestContext) async throws -> Response {
        let method = context.parameters.get("method") ?? ""
        let bytes = Array(try await request.body.collect(upTo: 4 << 20).readableBytesView)
        let hold = state.withLock { state -> FakeHold? in
            guard var queue = state.holds[method], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            state.holds[method] = queue.isEmpty ? nil : queue
            return first
        }
        await hold?.holdHere()
        let contentType = request.headers[.contentType]
        let query = request.uri.query
        var body: [String: JSON] = [:]
        if let query {
            for (key, value) in FormBody.parse(query) { body[key] = Self.formValue(value) }
        }
        let mediaType = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        var unreadable = false
        if !bytes.isEmpty {
            switch mediaType {
            case "application/json":
                if let object = (try? JSONDecoder().decode(JSON.self, from: Data(bytes)))?.objectValue {
                    body.merge(object) { _, new in new }
                } else {
                    unreadable = true
                }
            default:
                for (key, value) in FormBody.parse(bytes) { body[key] = Self.formValue(value) }
            }
        }
        var call = RecordedCall(
            method: method, httpMethod: request.method.rawValue, authorization: request.headers[.authorization],
            contentType: contentType, query: query, rawBody: String(decoding: bytes, as: UTF8.self), body: body,
            status: 200, error: nil, problems: []
        )
        let authorization = call.authorization
        let answer: (status: Int, headers: HTTPFields, body: [UInt8]) = state.withLock { state in
            if let failure = Self.takeFailure(method, from: &state) {
                switch failure {
                case .rateLimited(let seconds):
                    call.status = 429
                    call.error = "ratelimited"
                    return (
                        429, [.retryAfter: String(seconds)],
                        Self.encode(["ok": .bool(false), "error": .string("ratelimited")])
                    )
                case .serverError:
                    call.status = 500
                    return (500, [.contentType: "text/plain; charset=utf-8"], Array("Internal Server Error".utf8))
                case .error(let code):
                    call.error = code
                    return (200, [:], Self.encode(["ok": .bool(false), "error": .string(code)]))
                }
            }
            let outcome: Outcome
            if authorization == nil {
                outcome = .failure("not_authed")
            } else if authorization != "Bearer \(token)" {
                outcome = .failure("invalid_auth")
            } else if unreadable {
                outcome = .failure("invalid_json")
            } else {
                outcome = Self.perform(method, body, state: &state)
            }
            switch outcome {
            case .ok(let fields):
                var answer = fields
                answer["ok"] = .bool(true)
                // Slack tells a token's scopes in a header of every answer; the startup check reads auth.test's.
                let headers: HTTPFields = method == "auth.test" ? [.init("x-oauth-scopes")!: state.scopes.joined(separator: ",")] : [:]
                return (200, headers, Self.encode(answer))
            case .failure(let code, let problems):
                call.error = code
                call.problems = problems
                var answer: [String: JSON] = ["ok": .bool(false), "error": .string(code)]
                if !problems.isEmpty {
                    answer["response_metadata"] = .object(["messages": .array(problems.map { .string($0) })])
                }
                return (200, [:], Self.encode(answer))
            }
        }
        record(call)
        var headers = answer.headers
        if headers[.contentType] == nil { headers[.contentType] = "application/json; charset=utf-8" }
        return Response(
            status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    private func record(_ call: RecordedCall) {
        let ready = state.withLock { state -> [(Waiter, [RecordedCall])] in
            state.calls.append(call)
            var ready: [(Waiter, [RecordedCall])] = []
            state.waiters.removeAll { waiter in
                guard waiter.method == call.method else { return false }
                let matching = state.calls.filter { $0.method == waiter.method }
                guard matching.count >= waiter.count else { return false }
                ready.append((waiter, matching))
                return true
            }
            return ready
        }
        for (waiter, calls) in ready { waiter.continuation.resume(returning: calls) }
        changes.increment()
    }

    private static func takeFailure(_ method: String, from state: inout State) -> FakeFailure? {
        guard var queue = state.failures[method], !queue.isEmpty else { return nil }
        let failure = queue[0].failure
        queue[0].remaining -= 1
        if queue[0].remaining == 0 { queue.removeFirst() }
        state.failures[method] = queue.isEmpty ? nil : queue
        return failure
    }

    private static func formValue(_ value: String) -> JSON {
        JSON.parseStructured(value) ?? .string(value)
    }

    private static func encode(_ object: [String: JSON]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(JSON.object(object))) ?? Data("{\"ok\":false}".utf8))
    }
}

extension FakeSlackWebAPI {
    private static func perform(_ method: String, _ body: [String: JSON], state: inout State) -> Outcome {
        switch method {
        case "chat.postMessage": postMessage(body, state: &state)
        case "chat.update": update(body, state: &state)
        case "chat.postEphemeral": postEphemeral(body, state: &state)
        case "chat.getPermalink": permalink(body)
        case "views.open": openView(body, state: &state)
        case "conversations.open": openConversation(body)
        case "users.info": userInfo(body, state: state)
        case "usergroups.users.list": usergroupMembers(body, state: state)
        case "auth.test":
            .ok(["url": .string("https://acme.slack.test/"), "team": .string("Acme"), "team_id": .string("T1"),
                 "user": .string("gatehouse"), "user_id": .string("U0GATEBOT"), "bot_id": .string("B0FAKEBOT")])
        case "conversations.info":
            if let channel = nonEmpty(body["channel"]) {
                .ok(["channel": .object(["id": .string(channel), "is_member": .bool(state.memberOf?.contains(channel) ?? true)])])
            } else {
                .failure("channel_not_found")
            }
        default: .failure("unknown_method")
        }
    }

    private static func postMessage(_ body: [String: JSON], state: inout State) -> Outcome {
        guard let channel = nonEmpty(body["channel"]) else { return .failure("channel_not_found") }
        let content: (text: String?, blocks: [Block]?, json: JSON?)
        switch messageContent(body) {
        case .success(let value): content = value
        case .failure(let refusal): return refusal.outcome
        }
        guard content.text != nil || content.blocks != nil else { return .failure("no_text") }
        let id = channelID(channel)
        let ts = nextTS(&state)
        let threadTS = nonEmpty(body["thread_ts"])
        state.messages[id, default: []].append(
            StoredMessage(
                channel: id, ts: ts, text: content.text, blocks: content.blocks, threadTS: threadTS, user: nil,
                updateCount: 0))
        var message: [String: JSON] = [
            "type": .string("message"), "subtype": .string("bot_message"), "bot_id": .string("B0FAKEBOT"),
            "ts": .string(ts), "text": .string(content.text ?? ""),
        ]
        if let json = content.json { message["blocks"] = json }
        if let threadTS { message["thread_ts"] = .string(threadTS) }
        return .ok(["channel": .string(id), "ts": .string(ts), "message": .object(message)])
    }

    private static func update(_ body: [String: JSON], state: inout State) -> Outcome {
        guard let channel = nonEmpty(body["channel"]) else { return .failure("channel_not_found") }
        guard let ts = nonEmpty(body["ts"]) else { return .failure("message_not_found") }
        let content: (text: String?, blocks: [Block]?, json: JSON?)
        switch messageContent(body) {
        case .success(let value): content = value
        case .failure(let refusal): return refusal.outcome
        }
        let id = channelID(channel)
        guard let index = state.messages[id]?.firstIndex(where: { $0.ts == ts }) else {
            return .failure("message_not_found")
        }
        var message = state.messages[id]![index]
        if let text = content.text { message.text = text }
        if let blocks = content.blocks { message.blocks = blocks }
        message.updateCount += 1
        state.messages[id]![index] = message
        return .ok([
            "channel": .string(id), "ts": .string(ts), "text": .string(message.text ?? ""),
            "message": .object(["text": .string(message.text ?? ""), "bot_id": .string("B0FAKEBOT")]),
        ])
    }

    private static func postEphemeral(_ body: [String: JSON], state: inout State) -> Outcome {
        guard let channel = nonEmpty(body["channel"]) else { return .failure("channel_not_found") }
        guard let user = nonEmpty(body["user"]) else { return .failure("user_not_found") }
        let content: (text: String?, blocks: [Block]?, json: JSON?)
        switch messageContent(body) {
        case .success(let value): content = value
        case .failure(let refusal): return refusal.outcome
        }
        guard content.text != nil || content.blocks != nil else { return .failure("no_text") }
        let ts = nextTS(&state)
        state.ephemeral.append(
            StoredMessage(
                channel: channelID(channel), ts: ts, text: content.text, blocks: content.blocks,
                threadTS: nonEmpty(body["thread_ts"]), user: user, updateCount: 0))
        return .ok(["message_ts": .string(ts)])
    }

    private static func permalink(_ body: [String: JSON]) -> Outcome {
        guard let channel = nonEmpty(body["channel"]) else { return .failure("channel_not_found") }
        guard let ts = nonEmpty(body["message_ts"]) else { return .failure("message_not_found") }
        let id = channelID(channel)
        let link = "https://fake.slack.test/archives/\(id)/p\(ts.replacingOccurrences(of: ".", with: ""))"
        return .ok(["channel": .string(id), "permalink": .string(link)])
    }

    private static func openView(_ body: [String: JSON], state: inout State) -> Outcome {
        guard nonEmpty(body["trigger_id"]) != nil else { return .failure("invalid_trigger_id") }
        guard let json = body["view"] else { return .failure("invalid_arguments") }
        let view: View
        do {
            view = try json.decode(View.self)
        } catch {
            return .failure("invalid_blocks", problems: ["view is not a valid modal: \(error)"])
        }
        let problems = BlockKitLimits.problems(inView: view)
        guard problems.isEmpty else { return .failure("invalid_blocks", problems: problems) }
        state.viewCounter += 1
        let id = String(format: "V0FAKE%04d", state.viewCounter)
        state.views[id] = view
        state.viewOrder.append(id)
        var answer = (JSON.parseStructured(json.stringValue ?? "") ?? json).objectValue ?? [:]
        answer["id"] = .string(id)
        answer["team_id"] = .string("T0FAKE")
        answer["state"] = .object(["values": .object([:])])
        answer["hash"] = .string("1700000000.\(id.lowercased())")
        answer["root_view_id"] = .string(id)
        answer["app_id"] = .string("A0FAKEAPP")
        answer["bot_id"] = .string("B0FAKEBOT")
        return .ok(["view": .object(answer)])
    }

    private static func openConversation(_ body: [String: JSON]) -> Outcome {
        let users: [String]
        if let list = body["users"]?.arrayValue {
            users = list.compactMap(\.stringValue)
        } else {
            users = (body["users"]?.stringValue ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }
        guard !users.isEmpty else { return .failure("users_list_not_supplied") }
        let id = users.count == 1 ? "D" + users[0] : "G" + users.joined()
        return .ok(["channel": .object(["id": .string(id)])])
    }

    private static func userInfo(_ body: [String: JSON], state: State) -> Outcome {
        guard let id = nonEmpty(body["user"]) else { return .failure("user_not_found") }
        let user = state.users[id] ?? SlackUser(id: id, name: id.lowercased(), tz: "Europe/Berlin")
        var fields: [String: JSON] = [
            "id": .string(user.id), "team_id": .string("T0FAKE"), "name": .string(user.name), "deleted": .bool(false),
            "is_admin": .bool(user.isAdmin), "is_owner": .bool(false), "is_bot": .bool(false),
        ]
        var profile: [String: JSON] = ["display_name": .string(user.name)]
        if let realName = user.realName {
            fields["real_name"] = .string(realName)
            profile["real_name"] = .string(realName)
        }
        fields["profile"] = .object(profile)
        if let tz = user.tz { fields["tz"] = .string(tz) }
        return .ok(["user": .object(fields)])
    }

    private static func usergroupMembers(_ body: [String: JSON], state: State) -> Outcome {
        guard let id = nonEmpty(body["usergroup"]), let members = state.groups[id] else {
            return .failure("no_such_subteam")
        }
        return .ok(["users": .array(members.map { .string($0) })])
    }

    /// The text and blocks of a post or update, or the refusal Slack would give.
    private static func messageContent(_ body: [String: JSON]) -> Result<(text: String?, blocks: [Block]?, json: JSON?), Refusal> {
        let text = body["text"]?.stringValue
        if let text, BlockKitLimits.length(text) > BlockKitLimits.messageText {
            let problem = "text is \(BlockKitLimits.length(text)) characters; the limit is \(BlockKitLimits.messageText)"
            return .failure(Refusal(.failure("msg_too_long", problems: [problem])))
        }
        guard let json = body["blocks"], json != .null else { return .success((text, nil, nil)) }
        let structured = json.stringValue.flatMap(JSON.parseStructured) ?? json
        let blocks: [Block]
        do {
            blocks = try structured.decode([Block].self)
        } catch {
            return .failure(Refusal(.failure("invalid_blocks", problems: ["blocks are not valid Block Kit: \(error)"])))
        }
        let problems = BlockKitLimits.problems(inMessageBlocks: blocks, text: nil)
        guard problems.isEmpty else { return .failure(Refusal(.failure("invalid_blocks", problems: problems))) }
        return .success((text, blocks, structured))
    }

    private struct Refusal: Error {
        var outcome: Outcome
        init(_ outcome: Outcome) { self.outcome = outcome }
    }

    private static func nonEmpty(_ value: JSON?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return text
    }

    private static func nextTS(_ state: inout State) -> String {
        state.tsCounter += 1
        return String(format: "1700000000.%06d", state.tsCounter * 100)
    }
}
