import Foundation
import SlackAPI
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends one HTTP request and returns the status and body; used for callbacks (and by the CLI).
public protocol HTTPPoster: Sendable {
    func send(_ request: URLRequest) async throws -> (status: Int, body: Data)
}

/// `URLSession` (libcurl on Linux).
public struct URLSessionHTTPPoster: HTTPPoster {
    let session: URLSession

    public init(timeout: TimeInterval = 15) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        self.session = URLSession(configuration: configuration)
    }

    public func send(_ request: URLRequest) async throws -> (status: Int, body: Data) {
        let (data, response) = try await session.dataCancellably(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}
