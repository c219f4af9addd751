import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension URLSession {
    /// `data(for:)` whose cancellation can neither deadlock nor crash.
    ///
    /// On Linux, cancelling a transfer is unsafe two ways. `data(for:)` cancels from inside the task's
    /// cancellation handler, holding the task's status lock while it waits for the session's internal queue; if
    /// that queue is finishing the transfer, it waits for the same lock, and both hang. And
    /// `URLSessionTask.cancel()` itself, racing the end of its transfer, can report the failure after the session
    /// has already forgotten the task, which stops the process on an assertion. So this never cancels the
    /// transfer: a cancelled call ends at once with `CancellationError`, and its transfer runs out on its own,
    /// bounded by the session's timeouts, its result dropped.
    public func dataCancellably(for request: URLRequest) async throws -> (Data, URLResponse) {
        let call = PendingCall()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, URLResponse), any Error>) in
                guard call.wait(continuation) else { return }
                dataTask(with: request) { data, response, error in
                    if let error {
                        call.finish(.failure(error))
                    } else if let response {
                        call.finish(.success((data ?? Data(), response)))
                    } else {
                        call.finish(.failure(URLError(.badServerResponse)))
                    }
                }.resume()
            }
        } onCancel: {
            call.finish(.failure(CancellationError()))
        }
    }
}

/// The caller of one `dataCancellably(for:)` call, resumed exactly once: by the transfer or by cancellation,
/// whichever comes first. A call finished before it waits can only have been cancelled: no transfer has begun.
private final class PendingCall: Sendable {
    private enum State: @unchecked Sendable {
        case starting
        case waiting(CheckedContinuation<(Data, URLResponse), any Error>)
        case finished
    }

    private let state = Mutex(State.starting)

    /// Registers the caller; false (and the caller resumed with `CancellationError`) when the call was cancelled
    /// before it started.
    func wait(_ continuation: CheckedContinuation<(Data, URLResponse), any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            guard case .finished = state else {
                state = .waiting(continuation)
                return false
            }
            return true
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    func finish(_ result: Result<(Data, URLResponse), any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<(Data, URLResponse), any Error>? in
            defer { state = .finished }
            guard case .waiting(let continuation) = state else { return nil }
            return continuation
        }
        continuation?.resume(with: result)
    }
}
