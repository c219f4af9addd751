import ApprovalCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// A JSON answer from the application under test.
public struct JSONResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var json: JSONValue?

    public init(status: HTTPResponse.Status, headers: HTTPFields, json: JSONValue?) {
        self.status = status
        self.headers = headers
        self.json = json
    }

    public var errorCode: String? { json?["error"]?["code"]?.stringValue }
    public subscript(key: String) -> JSONValue? { json?[key] }
    public var id: ApprovalID { ApprovalID(rawValue: json?["id"]?.stringValue ?? "") }
}

extension TestClientProtocol {
    public func call(
        _ method: HTTPRequest.Method, _ uri: String, key: String? = nil, body: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> JSONResponse {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            JSONResponse(
                status: response.status, headers: response.headers,
                json: response.body.readableBytes > 0 ? try? JSONValue.parse(Data(response.body.readableBytesView)) : nil
            )
        }
    }

    /// Files a typical request and returns the created approval.
    public func createApproval(
        key: String, action: String = "Deploy api to production",
        payload: String = #"{"service":"api","environment":"production","commit":"4f2a9c1"}"#,
        extra: String = ""
    ) async throws -> JSONResponse {
        try await call(.post, "/v1/approvals", key: key, body: #"{"action":"\#(action)","payload":\#(payload)\#(extra)}"#)
    }
}

extension JSONValue {
    public static func object(_ text: String) -> JSONValue { try! JSONValue.parse(text) }
}
