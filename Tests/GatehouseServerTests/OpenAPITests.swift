import ApprovalCore
import Foundation
@testable import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServerTestSupport
import Synchronization
import Testing

@Suite("OpenAPI description")
struct OpenAPITests {
    /// The document as the service serves it.
    static let document = try! JSONValue.parse(OpenAPIDocument.json)

    /// Every operation the document describes, as `METHOD /path/{parameter}`.
    static var documentedOperations: Set<String> { DocumentedRoutes.api.operations }

    /// The routes of an application built as `serve` builds it, Slack on, as the router lists them.
    static func registeredRoutes(_ env: TestEnvironment) async throws -> Set<String> {
        let routes = Mutex<[String]>([])
        var configuration = GatehouseConfiguration()
        configuration.slackBotToken = "xoxb-not-used"
        configuration.slackAPIURL = URL(string: "http://127.0.0.1:9/api/")!
        configuration.slackSigningSecret = TestEnvironment.slackSigningSecret
        var logger = Logger(label: "gatehouse-test")
        logger.logLevel = .error
        var dependencies = GatehouseDependencies(database: env.database, clock: env.clock, logger: logger)
        dependencies.routesRegistered = { registered in routes.withLock { $0 = registered } }
        _ = buildApplication(configuration: configuration, dependencies: dependencies)
        return Set(routes.withLock { $0 })
    }

    @Test("every /v1 route of the router is in the document, and every operation in the document is a route")
    func documentAndRoutesInStep() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let routes = try await Self.registeredRoutes(env)
        #expect(routes.contains("POST /v1/approvals"))
        #expect(routes.contains("GET /v1/approvals/{id}"))

        let undocumented = routes.filter { $0.split(separator: " ")[1].hasPrefix("/v1/") }.subtracting(Self.documentedOperations)
        #expect(undocumented.isEmpty, "routes the document does not describe: \(undocumented.sorted())")
        let unrouted = Self.documentedOperations.subtracting(routes)
        #expect(unrouted.isEmpty, "operations in the document that no route serves: \(unrouted.sorted())")
    }

    @Test("GET /openapi.json answers without a key with an OpenAPI 3.1 document naming both ways to send a key")
    func servedWithoutKey() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        try await env.application().test(.live) { client in
            let response = try await client.call(.get, "/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let document = try #require(response.json)
            #expect(document == Self.document)
            #expect(document["openapi"] == .string("3.1.0"))
            let schemes = document["components"]?["securitySchemes"]
            #expect(schemes?["bearer"]?["scheme"] == .string("bearer"))
            #expect(schemes?["apiKey"]?["name"] == .string("X-Api-Key"))
            #expect(schemes?["apiKey"]?["in"] == .string("header"))
        }
    }

    @Test(
        "a known path under a method it does not answer gets 405 with Allow, with or without a key, and changes nothing",
        arguments: [
            ("DELETE", "/v1/approvals", "GET, POST"), ("TRACE", "/v1/approvals", "GET, POST"),
            ("PUT", "/v1/approvals/apr_unknown", "GET"), ("GET", "/v1/approvals/apr_unknown/decision", "POST"),
            ("PATCH", "/v1/policy/evaluate", "POST"), ("POST", "/healthz", "GET"), ("DELETE", "/openapi.json", "GET"),
        ])
    func wrongMethodIsNotAllowed(method: String, path: String, allow: String) async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let before = try await env.database.auditEntries().count
        try await env.application().test(.live) { client in
            for key in [env.adminKey, nil] {
                let response = try await client.call(HTTPRequest.Method(method)!, path, key: key)
                #expect(response.status == .methodNotAllowed)
                #expect(response.errorCode == "method_not_allowed")
                #expect(response.headers[.allow] == allow)
            }
            let unknown = try await client.call(.delete, "/v1/nowhere", key: env.adminKey)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "not_found")
        }
        #expect(try await env.database.auditEntries().count == before)
    }

    @Test("every operation under /v1 requires a key, documents its 401 and 429 answers and a success")
    func operationsDescribeAuthAndErrors() throws {
        let paths = try #require(Self.document["paths"]?.objectValue)
        for (path, item) in paths where path.hasPrefix("/v1/") {
            for (method, operation) in item.objectValue ?? [:] where method != "parameters" {
                #expect(operation["security"] == nil, "\(method) \(path) must not override the document's security")
                let responses = try #require(operation["responses"]?.objectValue, "\(method) \(path)")
                #expect(responses["401"]?["$ref"] == .string("#/components/responses/Unauthorized"), "\(method) \(path)")
                #expect(responses["429"] != nil, "\(method) \(path)")
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path)")
            }
        }
        let error = try #require(Self.document["components"]?["schemas"]?["Error"])
        #expect(error["required"] == .array([.string("error")]))
        #expect(error["properties"]?["error"]?["required"] == .array([.string("code"), .string("message")]))
    }

    @Test("the Approval schema names every member of a rendered approval, pending and decided, and requires those always there")
    func approvalSchemaMatchesRendering() async throws {
        let env = try await TestEnvironment()
        defer { env.cleanUp() }
        let schemas = try #require(Self.document["components"]?["schemas"])
        let properties = Set(try #require(schemas["Approval"]?["properties"]?.objectValue).keys)
        let required = Set((schemas["Approval"]?["required"]?.elements ?? []).compactMap(\.stringValue))
        let decisionProperties = Set(try #require(schemas["Decision"]?["properties"]?.objectValue).keys)
        try await env.application().test(.live) { client in
            let created = try await client.createApproval(key: env.requestKey)
            let pending = Set(try #require(created.json?.objectValue).keys)
            #expect(pending == properties, "pending: \(pending.symmetricDifference(properties).sorted())")
            #expect(required == pending.subtracting(["deadline"]))

            let decided = try await client.call(
                .post, "/v1/approvals/\(created.id)/decision", key: env.decideKey, body: #"{"outcome":"reject","reason":"no","as":"alice"}"#)
            #expect(decided.status == .ok)
            let decidedKeys = Set(try #require(decided.json?.objectValue).keys)
            #expect(decidedKeys == required)
            let decision = Set(try #require(decided["decision"]?.objectValue).keys)
            #expect(decision == decisionProperties)
        }
    }

    @Test("every error code the domain maps to HTTP is listed under the status it is answered with")
    func domainErrorCodesDocumented() throws {
        let responses = try #require(Self.document["components"]?["responses"]?.objectValue)
        func codes(_ name: String) -> Set<String> {
            let schema = responses[name]?["content"]?["application/json"]?["schema"]
            let listed = schema?["allOf"]?.elements?.last?["properties"]?["error"]?["properties"]?["code"]?["enum"]
            return Set((listed?.elements ?? []).compactMap(\.stringValue))
        }
        let statusNames = [403: "Forbidden", 404: "NotFound", 409: "Conflict", 422: "Invalid"]
        let decision = Decision(outcome: .approved, by: "U1", at: Date(timeIntervalSince1970: 0), payload: .object([:]), payloadSHA256: "")
        let vote = Vote(by: "U1", verdict: .approve, payloadSHA256: "", at: Date(timeIntervalSince1970: 0))
        let errors: [ApprovalError] = [
            .notFound, .alreadyDecided(decision), .selfApproval, .notApprover(level: 1, of: 1, approvers: []), .expired,
            .notRequester, .forbidden("no"), .notApproved(.pending), .payloadMismatch(expected: "a", actual: "b"),
            .alreadyConsumed(Date(timeIntervalSince1970: 0)), .idempotencyConflict, .alreadyVoted(vote), .notBreakGlass("no"),
            .invalidField("action", "no"),
        ]
        for error in errors {
            let mapped = APIError(error)
            let name = try #require(statusNames[mapped.status.code], "\(error) is answered with \(mapped.status)")
            #expect(codes(name).contains(mapped.code), "\(mapped.code) is not listed under \(mapped.status.code)")
        }
        #expect(codes("BadRequest").isSuperset(of: ["malformed_json", "invalid_parameter", "invalid_idempotency_key"]))
        #expect(codes("TooLarge") == [APIError.tooLarge.code])
        #expect(codes("StorageFull") == [APIError.storageFull.code])
        #expect(codes("RateLimited") == [APIError.rateLimited(retryAfter: 1).code])
    }
}

extension JSONValue {
    /// The array's elements, or `nil` when this is not an array.
    fileprivate var elements: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
