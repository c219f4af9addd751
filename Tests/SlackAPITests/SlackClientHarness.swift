import Foundation
import GatehouseTestSupport
import SlackAPI

/// A fake Slack on port 0, a test clock, a sleep recorder, and a client wired to all three.
struct SlackClientHarness {
    static let token = "xoxb-1234-5678-SeCrEtToKeN"

    let fake: FakeSlackWebAPI
    let clock: TestClock
    let sleeps: SleepRecorder
    let client: URLSessionSlackClient

    func client(
        token: String = Self.token, baseURL: URL? = nil, pacing: TimeInterval = 0, timeout: TimeInterval = 10
    ) -> URLSessionSlackClient {
        let clock = clock
        let sleeps = sleeps
        return URLSessionSlackClient(
            token: token, baseURL: baseURL ?? fake.baseURL, pacing: pacing, timeout: timeout, now: { clock.now },
            sleep: { try await sleeps.sleep($0) })
    }

    /// Runs `body` against a fresh fake and stops the fake afterwards, whatever happens.
    @discardableResult
    static func run<T>(pacing: TimeInterval = 0, _ body: (SlackClientHarness) async throws -> T) async throws -> T {
        let fake = try await FakeSlackWebAPI.start(token: token)
        let clock = TestClock(now: Date(timeIntervalSince1970: 1_700_000_000))
        let sleeps = SleepRecorder()
        let client = URLSessionSlackClient(
            token: token, baseURL: fake.baseURL, pacing: pacing, timeout: 10, now: { clock.now },
            sleep: { try await sleeps.sleep($0) })
        let harness = SlackClientHarness(fake: fake, clock: clock, sleeps: sleeps, client: client)
        do {
            let result = try await body(harness)
            await fake.stop()
            return result
        } catch {
            await fake.stop()
            throw error
        }
    }
}
