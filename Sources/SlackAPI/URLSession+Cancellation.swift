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
/// whichever comes first.
private final class PendingCall: Sendable {
    typealias Result = Swift.Result<(Data, URLResponse), any Error>

    private enum State: @unchecked Sendable {
        case starting
        case waiting(CheckedContinuation<(Data, URLResponse), any Error>)
        case finished(Result?)
    }

    private let state = Mutex(State.starting)

    /// Registers the caller; false (and the caller resumed) when the call was cancelled before it started.
    func wait(_ continuation: CheckedContinuation<(Data, URLResponse), any Error>) -> Bool {
        let early = state.withLock { state -> Result? in
            guard case .finished(let result) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .finished(nil)
            return result
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    func finish(_ result: Result) {
        let continuation = state.withLock { state -> CheckedContinuation<(Data, URLResponse), any Error>? in
            switch state {
            case .starting:
                state = .finished(result)
                return nil
            case .waiting(let continuation):
                state = .finished(nil)
                return continuation
            case .finished:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}
