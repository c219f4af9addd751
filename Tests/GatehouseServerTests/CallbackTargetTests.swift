import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerTestSupport
import Storage
import Testing

/// `callback_url` cannot reach the service's own network: addresses are refused when a request is filed, names on
/// what they resolve to when the callback goes out, and redirects are never followed.
@Suite("Callback targets")
struct CallbackTargetTests {
    @Test("with public targets, a callback_url naming a loopback, private or link-local address is refused at filing (422)",
          arguments: ["http://127.0.0.1:9/hook", "http://10.0.0.8/hook", "http://[::1]/hook", "http://169.254.169.254/latest"])
    func addressRefusedAtFiling(_ url: String) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application(callbacks: .publicOnly).test(.live) { client in
            let response = try await client.createApproval(key: env.requestKey, extra: #","callback_url":"\#(url)""#)
            #expect(response.status == .unprocessableContent)
            #expect(response.errorCode == "invalid_field")
            #expect(response["error"]?["message"]?.stringValue?.hasPrefix("`callback_url` is refused: ") == true)
        }
        #expect(try await env.database.countsByStatus().isEmpty)
    }

    @Test("a name that resolves to loopback is accepted at filing but never called: the delivery is abandoned, naming the address")
    func nameRefusedAtDelivery() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let receiver = CallbackReceiver()
        let url = try await receiver.start()
        let port = try #require(url.port)
        try await env.application(callbacks: .publicOnly).test(.live) { client in
            let created = try await client.createApproval(
                key: env.requestKey, extra: #","callback_url":"http://localhost:\#(port)/hook""#)
            #expect(created.status == .created)
            _ = try await client.call(.post, "/v1/approvals/\(created.id)/cancel", key: env.requestKey)
            try await SlackFlowTests.waitUntil(env.database) {
                try await env.database.outboxItems(approvalID: created.id).first?.failedAt != nil
            }
        }
        #expect(receiver.deliveries.isEmpty)
        let failure = try #require(try await env.database.auditEntries().first { $0.kind == "delivery_failed" })
        let reason = failure.details["reason"]?.stringValue ?? ""
        #expect(reason.hasPrefix("callback to localhost refused: "))
        #expect(reason.contains("is not a public address"))
        await receiver.stop()
    }

    @Test("in allowlist mode nothing outside callback_allow is reached, a public address included")
    func allowlistOnly() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application(callbacks: .loopbackOnly).test(.live) { client in
            let response = try await client.createApproval(key: env.requestKey, extra: #","callback_url":"http://93.184.216.34/hook""#)
            #expect(response.status == .unprocessableContent)
            #expect(response["error"]?["message"]?.stringValue?.contains("only what it lists is reached") == true)
        }
    }

    @Test("a receiver answering with a redirect is not followed: the delivery is abandoned, and the redirect target gets nothing")
    func redirectNotFollowed() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let elsewhere = CallbackReceiver()
        let target = try await elsewhere.start()
        let receiver = CallbackReceiver()
        let url = try await receiver.start(statuses: [302], headers: ["Location": target.absoluteString])
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey, extra: #","callback_url":"\#(url.absoluteString)""#)
            _ = try await client.call(.post, "/v1/approvals/\(created.id)/cancel", key: env.requestKey)
            try await SlackFlowTests.waitUntil(env.database) {
                try await env.database.outboxItems(approvalID: created.id).first?.failedAt != nil
            }
        }
        #expect(receiver.deliveries.count == 1)
        #expect(elsewhere.deliveries.isEmpty)
        let failure = try #require(try await env.database.auditEntries().first { $0.kind == "delivery_failed" })
        #expect(failure.details["reason"]?.stringValue?.contains("callbacks do not follow redirects") == true)
        await receiver.stop()
        await elsewhere.stop()
    }

    @Test("callback_allow and callback_targets are read from the environment; a bad entry names the setting")
    func settings() throws {
        let configuration = try GatehouseConfiguration.load(
            environment: ["GATEHOUSE_CALLBACK_ALLOW": "10.0.0.0/8, hooks.internal", "GATEHOUSE_CALLBACK_TARGETS": "allowlist"])
        #expect(configuration.callbackTargets.allowlistOnly)
        #expect(configuration.callbackTargets.hosts == ["hooks.internal"])
        #expect(configuration.callbackTargets.refusal(of: IPAddress("10.1.1.1")!) == nil)
        #expect(throws: ConfigurationError.self) {
            try GatehouseConfiguration.load(environment: ["GATEHOUSE_CALLBACK_ALLOW": "10.0.0.0/33"])
        }
        do {
            _ = try GatehouseConfiguration.load(environment: ["GATEHOUSE_CALLBACK_TARGETS": "everything"])
        } catch {
            #expect(error.description.contains("callback_targets"))
        }
    }
}
