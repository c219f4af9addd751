import ApprovalCore
import Foundation
import GatehouseServer
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small client of the intake API, for the CLI.
public struct GatehouseClient: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var status: Int
        public var code: String
        public var message: String

        public var description: String {
            status == 0 ? message : "HTTP \(status) \(code): \(message)"
        }
    }

    public var baseURL: URL
    public var apiKey: String
    public var poster: any HTTPPoster

    public init(baseURL: URL, apiKey: String, poster: any HTTPPoster = URLSessionHTTPPoster(timeout: 90)) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.poster = poster
    }

    /// Sends a request; returns the JSON answer of a 2xx, throws `Failure` with the contract's error otherwise.
    public func call(_ method: String, _ path: String, body: JSONValue? = nil, headers: [String: String] = [:]) async throws -> JSONValue {
        let url = URL(string: path, relativeTo: baseURL.appendingPathComponent("/"))!.absoluteURL
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(CanonicalJSON.serialize(body).utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let status: Int
        let data: Data
        do {
            (status, data) = try await poster.send(request)
        } catch {
            throw Failure(status: 0, code: "unreachable", message: "Cannot reach \(baseURL.absoluteString) (\(error.localizedDescription)). Is `gatehouse serve` running there? Check --url or GATEHOUSE_URL.")
        }
        let json = try? JSONValue.parse(data)
        guard (200..<300).contains(status) else {
            let error = json?["error"]
            throw Failure(
                status: status, code: error?["code"]?.stringValue ?? "http_\(status)",
                message: error?["message"]?.stringValue ?? "unexpected answer"
            )
        }
        guard let json else { throw Failure(status: status, code: "bad_answer", message: "The service's answer is not JSON.") }
        return json
    }
}
