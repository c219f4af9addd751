import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension URLSessionSlackClient {
    /// Used when a 429 or `ratelimited` answer carries no readable `Retry-After`.
    static let defaultRetryAfter: TimeInterval = 1

    /// POSTs a JSON body to `METHOD`.
    func call<Answer: Decodable>(_ method: String, json body: some Encodable) async throws(SlackAPIError) -> Answer {
        let data: Data
        do {
            data = try SlackJSON.encoder().encode(body)
        } catch {
            throw .decoding("cannot encode the \(method) request: \(error)")
        }
        var request = URLRequest(url: baseURL.appendingPathComponent(method))
        request.httpMethod = "POST"
        request.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.httpBody = data
        return try await send(method, request)
    }

    /// GETs `METHOD` with query parameters, for methods that do not read JSON bodies.
    func call<Answer: Decodable>(_ method: String, query: [(String, String)]) async throws(SlackAPIError) -> Answer {
        let base = baseURL.appendingPathComponent(method).absoluteString
        guard let url = URL(string: base + "?" + FormBody.encode(query)) else {
            throw .decoding("cannot build the \(method) URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        return try await send(method, request)
    }

    /// Fails at once, without an HTTP call, while `method` is inside a `Retry-After` Slack gave.
    func checkRateLimit(_ method: String) throws(SlackAPIError) {
        let now = now()
        let until = state.withLock { $0.blockedUntil[method] }
        if let until, until > now { throw .rateLimited(retryAfter: until.timeIntervalSince(now)) }
    }

    /// Waits for this channel's next posting slot (Slack allows about one message per second per channel).
    func pace(channel: String) async throws(SlackAPIError) {
        guard pacing > 0 else { return }
        let now = now()
        let pacing = pacing
        // Reserving the slot under the lock spaces concurrent posts without holding the lock across the wait.
        let wait = state.withLock { state -> TimeInterval in
            let slot = max(now, state.nextPost[channel] ?? now)
            state.nextPost[channel] = slot.addingTimeInterval(pacing)
            return slot.timeIntervalSince(now)
        }
        guard wait > 0 else { return }
        do {
            try await sleep(.seconds(wait))
        } catch {
            throw .network("cancelled while pacing posts to the channel")
        }
    }

    private func send<Answer: Decodable>(_ method: String, _ request: URLRequest) async throws(SlackAPIError) -> Answer {
        try await sendReading(method, request).answer
    }

    /// GETs `METHOD` and answers the decoded body with the HTTP response it came in (for headers such as
    /// `x-oauth-scopes`).
    func callReading<Answer: Decodable>(_ method: String, query: [(String, String)]) async throws(SlackAPIError)
        -> (answer: Answer, response: HTTPURLResponse)
    {
        let base = baseURL.appendingPathComponent(method).absoluteString
        guard let url = URL(string: base + "?" + FormBody.encode(query)) else { throw .decoding("cannot build the \(method) URL") }
        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        return try await sendReading(method, request)
    }

    private func sendReading<Answer: Decodable>(_ method: String, _ request: URLRequest) async throws(SlackAPIError)
        -> (answer: Answer, response: HTTPURLResponse)
    {
        try checkRateLimit(method)
        var request = request
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let data: Data
        let response: URLResponse
        let started = ContinuousClock.now
        defer { onCall?(method, ContinuousClock.now - started) }
        do {
            (data, response) = try await session.dataCancellably(for: request)
        } catch is CancellationError {
            throw .network("cancelled")
        } catch let error as URLError where error.code == .timedOut {
            // Foundation words it "The operation could not be completed (NSURLErrorDomain error -1001)".
            throw .network("no answer within \(Int(session.configuration.timeoutIntervalForRequest)) s")
        } catch {
            throw .network(redacted(error.localizedDescription))
        }
        guard let http = response as? HTTPURLResponse else { throw .network("not an HTTP response") }
        let retryAfter = Self.retryAfter(http.value(forHTTPHeaderField: "Retry-After"))
        if http.statusCode == 429 {
            throw rateLimited(method, retryAfter: retryAfter)
        }
        if http.statusCode >= 500 { throw .server(status: http.statusCode) }
        let status: WebAPIWire.Status
        do {
            status = try JSONDecoder().decode(WebAPIWire.Status.self, from: data)
        } catch {
            throw .decoding("HTTP \(http.statusCode) from \(method) without a Slack JSON answer")
        }
        guard status.ok else {
            let code = status.error ?? "unknown_error"
            if code == "ratelimited" { throw rateLimited(method, retryAfter: retryAfter) }
            throw .api(redacted(code))
        }
        do {
            return (try JSONDecoder().decode(Answer.self, from: data), http)
        } catch let error as DecodingError {
            throw .decoding("\(method): \(SlackJSON.describe(error))")
        } catch {
            throw .decoding("\(method): \(error)")
        }
    }

    /// Remembers the limit so further calls to `method` fail fast until it ends.
    private func rateLimited(_ method: String, retryAfter: TimeInterval?) -> SlackAPIError {
        let seconds = retryAfter ?? Self.defaultRetryAfter
        let until = now().addingTimeInterval(seconds)
        state.withLock { state in
            state.blockedUntil[method] = max(state.blockedUntil[method] ?? until, until)
        }
        return .rateLimited(retryAfter: seconds)
    }

    private static func retryAfter(_ header: String?) -> TimeInterval? {
        guard let header, let seconds = TimeInterval(header.trimmingCharacters(in: .whitespaces)), seconds >= 0,
            seconds.isFinite
        else { return nil }
        return seconds
    }

    /// Error texts travel to logs and admins; the token must never travel with them.
    private func redacted(_ text: String) -> String {
        token.isEmpty ? text : text.replacingOccurrences(of: token, with: "xoxb-…")
    }
}
