import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import SlackAPI
import SlackBridge
import Storage
import Testing

extension SlackDriver {
    /// A click on a contact request's button, as Slack sends it.
    func clickContact(_ actionID: String, value: ContactButtonValue, by user: String, name: String = "someone") async throws -> JSONResponse {
        let payload: JSONValue = .object([
            "type": .string("block_actions"), "trigger_id": .string(Self.nextTrigger()),
            "user": .object(["id": .string(user), "username": .string(name), "team_id": .string("T1")]),
            "channel": .object(["id": .string("C0APPROVALS")]),
            "container": .object(["type": .string("message"), "message_ts": .string("1700000000.000100"), "channel_id": .string("C0APPROVALS")]),
            "actions": .array([.object([
                "action_id": .string(actionID), "type": .string("button"), "value": .string(value.encoded),
                "action_ts": .string("1700000001.0"),
            ])]),
        ])
        return try await post("/slack/interactions", body: SlackRequestSigner.interactionBody(json: CanonicalJSON.serialize(payload)))
    }

    /// The reply form submitted with `text`, its `private_metadata` as the form was opened with.
    func submitReply(metadata: String, text: String, by user: String, name: String = "approver") async throws -> JSONResponse {
        let payload: JSONValue = .object([
            "type": .string("view_submission"), "trigger_id": .string(Self.nextTrigger()),
            "user": .object(["id": .string(user), "username": .string(name)]),
            "view": .object([
                "id": .string("V1"), "callback_id": .string(SlackContactID.replyForm), "private_metadata": .string(metadata),
                "state": .object(["values": .object([
                    SlackContactID.response: .object([SlackContactID.response: .object(["type": .string("plain_text_input"), "value": .string(text)])])
                ])]),
            ]),
        ])
        return try await post("/slack/interactions", body: SlackRequestSigner.interactionBody(json: CanonicalJSON.serialize(payload)))
    }
}

@Suite("HumanLayer-compatible API: contact requests in Slack")
struct HumanLayerContactTests {
    /// Asks the standard question (with options) and waits for its message in the channel.
    static func ask(
        _ env: TestEnvironment, _ fake: FakeSlackWebAPI, _ slack: SlackDriver, callID: String, options: String = HumanLayerBodies.regionOptions
    ) async throws -> (contact: ContactRequest, message: FakeSlackWebAPI.StoredMessage) {
        let created = try await slack.client.call(
            .post, "/humanlayer/v1/contact_requests", key: env.requestKey, body: HumanLayerBodies.contact(callID, options: options))
        #expect(created.status == .created)
        let id = ContactID(rawValue: try #require(created["gatehouse"]?["contact_id"]?.stringValue))
        try await SlackFlowTests.waitUntil(env.database, fake) { try await env.database.contactPost(id) != nil }
        let post = try #require(try await env.database.contactPost(id))
        let message = try #require(fake.message(channel: post.channel, ts: post.ts))
        return (try #require(try await env.database.contact(id)), message)
    }

    static func buttons(of message: FakeSlackWebAPI.StoredMessage?) -> [ButtonElement] {
        (message?.blocks ?? []).flatMap { block -> [ButtonElement] in
            guard case .actions(let elements, _) = block else { return [] }
            return elements.compactMap { if case .button(let button) = $0 { button } else { nil } }
        }
    }

    @Test("a question is stored, audited and posted with Reply and one button per option; it reads back unanswered")
    func posted() async throws {
        try await SlackFlowTests.withSlack { env, fake, slack in
            let (contact, message) = try await Self.ask(env, fake, slack, callID: "ask-1")
            let post = try #require(fake.calls("chat.postMessage").first)
            #expect(post.problems.isEmpty)
            #expect(post.error == nil)
            let buttons = Self.buttons(of: message)
            #expect(buttons.map(\.actionID) == ["gatehouse.contact_reply", "gatehouse.contact_option.0", "gatehouse.contact_option.1"])
            #expect(buttons.map(\.text.text) == ["Reply", "Europe (Frankfurt)", "Somewhere else"])
            let text = SlackFlowTests.text(of: message)
            #expect(text.contains("Which region should the new cluster go to?"))
            #expect(text.contains("closest to most users"))
            #expect(contact.options.count == 2)

            let read = try await slack.client.call(.get, "/humanlayer/v1/contact_requests/ask-1", key: env.requestKey)
            #expect(read.status == .ok)
            #expect(read["spec"]?["msg"] == .string("Which region should the new cluster go to?"))
            #expect(read["spec"]?["response_options"]?.arrayValue?.count == 2)
            #expect(read["status"]?["response"] == .null)
            #expect(read["status"]?["requested_at"]?.stringValue != nil)
            let pending = try await slack.client.call(.get, "/humanlayer/v1/agent/human_contacts/pending", key: env.decideKey)
            #expect(pending.json?.arrayValue?.compactMap { $0["call_id"]?.stringValue } == ["ask-1"])
            let kinds = try await env.database.auditEntries().map(\.kind)
            #expect(kinds.contains("contact_requested"))
            #expect(kinds.contains("posted"))

            let again = try await slack.client.call(
                .post, "/humanlayer/v1/contact_requests", key: env.requestKey, body: HumanLayerBodies.contact("ask-1", options: HumanLayerBodies.regionOptions))
            #expect(again.status == .ok)
            #expect(again["gatehouse"]?["contact_id"] == .string(contact.id.rawValue))
            // Nested nulls left out are the same request too.
            let sparse = try await slack.client.call(
                .post, "/humanlayer/v1/contact_requests", key: env.requestKey,
                body: HumanLayerBodies.contact("ask-1", options: #"[{"name":"eu","title":"Europe (Frankfurt)","description":"closest to most users","interactive":false},{"name":"other","title":"Somewhere else","prompt_fill":"Put it in ","interactive":true}]"#))
            #expect(sparse.status == .ok)
            let conflict = try await slack.client.call(
                .post, "/humanlayer/v1/contact_requests", key: env.requestKey, body: HumanLayerBodies.contact("ask-1", msg: "Something else?"))
            #expect(conflict.errorCode == "idempotency_conflict")
            #expect(fake.calls("chat.postMessage").count == 1)
        }
    }

    @Test("Reply opens a form; its submission stores and audits the answer and updates the message")
    func replyForm() async throws {
        try await SlackFlowTests.withSlack { env, fake, slack in
            let (contact, message) = try await Self.ask(env, fake, slack, callID: "ask-2")
            let click = try await slack.clickContact(SlackContactID.reply, value: ContactButtonValue(contactID: contact.id), by: "U0ALICE", name: "alice")
            #expect(click.status == .ok)
            let opened = try await fake.waitForCalls("views.open", count: 1)[0]
            #expect(opened.problems.isEmpty)
            let view = try #require(fake.openedViews.first?.view)
            #expect(view.callbackID == SlackContactID.replyForm)
            let metadata = try #require(view.privateMetadata)

            let submitted = try await slack.submitReply(metadata: metadata, text: "Frankfurt, but only after the freeze", by: "U0ALICE", name: "alice")
            #expect(submitted.status == .ok)
            #expect(submitted.json == nil)
            let read = try await slack.client.call(.get, "/humanlayer/v1/contact_requests/ask-2", key: env.requestKey)
            #expect(read["status"]?["response"] == .string("Frankfurt, but only after the freeze"))
            #expect(read["status"]?["response_option_name"] == .null)
            #expect(read["status"]?["responded_at"]?.stringValue != nil)
            #expect(read["gatehouse"]?["answered_by"] == .string("U0ALICE"))
            let answered = try #require(try await env.database.auditEntries().first { $0.kind == "contact_answered" })
            #expect(answered.actor == "U0ALICE")
            #expect(answered.details["response"] == .string("Frankfurt, but only after the freeze"))

            let update = try await fake.waitForCalls("chat.update", count: 1)[0]
            #expect(update.problems.isEmpty)
            let shown = SlackFlowTests.text(of: fake.message(channel: message.channel, ts: message.ts))
            #expect(shown.contains("Answered"))
            #expect(shown.contains("<@U0ALICE>"))
            #expect(shown.contains("Frankfurt, but only after the freeze"))
            #expect(Self.buttons(of: fake.message(channel: message.channel, ts: message.ts)).isEmpty)
            let pending = try await slack.client.call(.get, "/humanlayer/v1/agent/human_contacts/pending", key: env.decideKey)
            #expect(pending.json == .array([]))
        }
    }

    @Test("an option's button answers with it; an option with text to fill in opens the form filled; a second answer is refused")
    func optionsAndDoubleAnswers() async throws {
        try await SlackFlowTests.withSlack { env, fake, slack in
            let (contact, _) = try await Self.ask(env, fake, slack, callID: "ask-3")
            _ = try await slack.clickContact(SlackContactID.option(1), value: ContactButtonValue(contactID: contact.id, option: 1), by: "U0BOB")
            _ = try await fake.waitForCalls("views.open", count: 1)
            let view = try #require(fake.openedViews.first?.view)
            let filled = try JSONEncoder().encode(view.blocks)
            #expect(String(decoding: filled, as: UTF8.self).contains("Put it in "))
            #expect(try await env.database.contact(contact.id)?.answer == nil)

            _ = try await slack.clickContact(SlackContactID.option(0), value: ContactButtonValue(contactID: contact.id, option: 0), by: "U0ALICE")
            let read = try await slack.client.call(.get, "/humanlayer/v1/contact_requests/ask-3", key: env.requestKey)
            #expect(read["status"]?["response"] == .string("Europe (Frankfurt)"))
            #expect(read["status"]?["response_option_name"] == .string("eu"))

            // Bob's form, opened before, and another click: both refused, nothing changes.
            let late = try await slack.submitReply(metadata: try #require(view.privateMetadata), text: "Put it in Oregon", by: "U0BOB")
            #expect(late["response_action"] == .string("errors"))
            #expect(late["errors"]?[SlackContactID.response]?.stringValue?.contains("already answered") == true)
            _ = try await slack.clickContact(SlackContactID.reply, value: ContactButtonValue(contactID: contact.id), by: "U0CAROL")
            let ephemeral = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(ephemeral["text"]?.stringValue?.contains("already answered by <@U0ALICE>") == true)
            #expect(ephemeral["user"] == .string("U0CAROL"))
            let byAPI = try await slack.client.call(
                .post, "/humanlayer/v1/agent/human_contacts/ask-3/respond", key: env.decideKey, body: #"{"response":"Oregon"}"#)
            #expect(byAPI.status == .conflict)
            #expect(byAPI.errorCode == "already_answered")
            #expect(try await env.database.contact(contact.id)?.answer?.response == "Europe (Frankfurt)")
            let refused = try await env.database.auditEntries().filter { $0.kind == "answer_refused" }
            #expect(refused.count == 3)
            #expect(fake.calls("views.open").count == 1)
        }
    }

    @Test("respond by API key answers; a request key cannot; only the default gate's approvers answer in Slack")
    func respondByKeyAndWhoMayAnswer() async throws {
        try await SlackFlowTests.withSlack { env, fake, slack in
            let chain = EscalationChain(name: "default", levels: [.init(approvers: [.user("U0ALICE"), .group("S0SRE")], sla: 600)], finalAction: .hold)
            fake.setGroupMembers("S0SRE", ["U0BOB"])
            _ = try await env.configuration(admins: ["U0ADMIN"]).setChain(chain, by: .slackUser("U0ADMIN"))
            let (first, _) = try await Self.ask(env, fake, slack, callID: "ask-4", options: "null")
            #expect(Self.buttons(of: fake.messages(in: "C0APPROVALS").last).map(\.actionID) == ["gatehouse.contact_reply"])

            // Slack cannot say who is in the group: nothing is answered or opened, and the clicker is told (fail closed).
            fake.fail("usergroups.users.list", with: .error("missing_scope"))
            _ = try await slack.clickContact(SlackContactID.reply, value: ContactButtonValue(contactID: first.id), by: "U0BOB")
            let unchecked = try await fake.waitForCalls("chat.postEphemeral", count: 1)[0]
            #expect(unchecked["text"]?.stringValue?.contains("could not check the approvers' user groups") == true)

            _ = try await slack.clickContact(SlackContactID.reply, value: ContactButtonValue(contactID: first.id), by: "U0MALLORY")
            let refusal = try await fake.waitForCalls("chat.postEphemeral", count: 2)[1]
            #expect(refusal["text"]?.stringValue?.contains("not among those who may answer") == true)
            #expect(fake.calls("views.open").isEmpty)
            _ = try await slack.clickContact(SlackContactID.reply, value: ContactButtonValue(contactID: first.id), by: "U0BOB")
            _ = try await fake.waitForCalls("views.open", count: 1)

            let byRequestKey = try await slack.client.call(
                .post, "/humanlayer/v1/agent/human_contacts/ask-4/respond", key: env.requestKey, body: #"{"response":"mine"}"#)
            #expect(byRequestKey.status == .forbidden)
            let empty = try await slack.client.call(
                .post, "/humanlayer/v1/agent/human_contacts/ask-4/respond", key: env.decideKey, body: #"{"response":null,"response_option_name":null}"#)
            #expect(empty.status == .unprocessableContent)
            let answered = try await slack.client.call(
                .post, "/humanlayer/v1/agent/human_contacts/ask-4/respond", key: env.decideKey,
                body: #"{"requested_at":null,"responded_at":null,"response":"eu-central-1","response_option_name":null,"as":"dana"}"#)
            #expect(answered.status == .ok)
            #expect(answered["status"]?["response"] == .string("eu-central-1"))
            #expect(answered["gatehouse"]?["answered_by"] == .string("key:lead"))
            #expect(answered["gatehouse"]?["answered_by_name"] == .string("dana"))
            _ = try await fake.waitForCalls("chat.update", count: 1)

            let unknown = try await slack.client.call(.get, "/humanlayer/v1/contact_requests/ask-nobody", key: env.requestKey)
            #expect(unknown.status == .notFound)
            let badOptions = try await slack.client.call(
                .post, "/humanlayer/v1/contact_requests", key: env.requestKey, body: HumanLayerBodies.contact("ask-5", options: #"[{"name":null}]"#))
            #expect(badOptions.status == .unprocessableContent)
            let emptyQuestion = try await slack.client.call(
                .post, "/humanlayer/v1/contact_requests", key: env.requestKey, body: HumanLayerBodies.contact("ask-6", msg: " "))
            #expect(emptyQuestion.status == .unprocessableContent)
            #expect(try await env.database.pendingContacts(ownerKeyID: nil, limit: 10).isEmpty)
        }
    }
}
