import Dispatch
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension URLSession {
    /// `data(for:)` whose cancellation cannot deadlock.
    ///
    /// On Linux, `data(for:)` cancels its transfer from inside the task's cancellation handler, which holds the
    /// task's status lock while it waits for the session's internal queue; if that queue is at that moment
    /// finishing the transfer, it waits for the same lock to resume the task, and both hang forever (seen when a
    /// graceful shutdown cancels a service with a Slack call or a callback in flight). Here the handler only
    /// schedules the cancellation on another queue and returns at once.
    public func dataCancellably(for request: URLRequest) async throws -> (Data, URLResponse) {
        let handle = DataTaskHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, URLResponse), any Error>) in
                let task = dataTask(with: request) { data, response, error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let response {
                        continuation.resume(returning: (data ?? Data(), response))
                    } else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                    }
                }
                handle.start(task)
            }
        } onCancel: {
            handle.cancel()
        }
    }
}

/// The one data task of a `dataCancellably(for:)` call, and whether it was cancelled before it started.
private final class DataTaskHandle: Sendable {
    private struct State: @unchecked Sendable {
        var task: URLSessionDataTask?
        var cancelled = false
    }

    private let state = Mutex(State())

    func start(_ task: URLSessionDataTask) {
        let cancelled = state.withLock { state -> Bool in
            state.task = task
            return state.cancelled
        }
        task.resume()
        if cancelled { Self.cancelLater(task) }
    }

    func cancel() {
        let task = state.withLock { state -> URLSessionDataTask? in
            state.cancelled = true
            return state.task
        }
        if let task { Self.cancelLater(task) }
    }

    private static func cancelLater(_ task: URLSessionDataTask) {
        let task = UncheckedTask(task: task)
        DispatchQueue.global().async { task.task.cancel() }
    }

    private struct UncheckedTask: @unchecked Sendable {
        let task: URLSessionDataTask
    }
}
