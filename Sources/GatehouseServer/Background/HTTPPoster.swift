import Foundation
import SlackAPI
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends one HTTP request and returns the status and body; used for callbacks (and by the CLI).
public protocol HTTPPoster: Sendable {
    func send(_ request: URLRequest) async throws -> (status: Int, body: Data)
}

/// `URLSession` (libcurl on Linux). With `followRedirects` off, a 3xx answer is returned as it is, its `Location`
/// never visited: a callback receiver cannot send a delivery on to an address it was refused.
public struct URLSessionHTTPPoster: HTTPPoster {
    let session: URLSession

    public init(timeout: TimeInterval = 15, followRedirects: Bool = true) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        self.session = URLSession(
            configuration: configuration, delegate: followRedirects ? nil : RefuseRedirects(), delegateQueue: nil)
    }

    public func send(_ request: URLRequest) async throws -> (status: Int, body: Data) {
        let (data, response) = try await session.dataCancellably(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}

/// Answers every redirect with "do not follow": the task ends with the 3xx response.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
