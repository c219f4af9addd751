import SlackAPI
import Testing

@Suite("Slack API error classification")
struct SlackAPIErrorTests {
    @Test(
        "configuration and content errors are permanent, never retryable",
        arguments: [
            "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed", "token_revoked", "missing_scope",
            "invalid_blocks", "msg_too_long", "account_inactive", "no_permission", "user_not_found", "message_not_found",
            "expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id",
        ])
    func permanent(_ code: String) {
        #expect(SlackAPIError.api(code).isPermanent)
        #expect(!SlackAPIError.api(code).isRetryable)
    }

    @Test(
        "momentary failures are retryable, never permanent",
        arguments: [
            SlackAPIError.rateLimited(retryAfter: 3), .server(status: 500), .server(status: 503), .network("timed out"),
            .api("internal_error"), .api("service_unavailable"), .api("fatal_error"), .api("request_timeout"),
            .api("ratelimited"), .api("rate_limited"),
        ])
    func retryable(_ error: SlackAPIError) {
        #expect(error.isRetryable)
        #expect(!error.isPermanent)
    }

    @Test("unknown codes and unreadable answers are neither")
    func neither() {
        for error in [SlackAPIError.api("some_new_error"), .decoding("garbage")] {
            #expect(!error.isRetryable)
            #expect(!error.isPermanent)
        }
    }

    @Test("admin hints name the fix for configuration errors, and only those")
    func adminHints() {
        #expect(SlackAPIError.api("not_in_channel").adminHint == "Invite the bot to the channel with /invite @Gatehouse.")
        for code in ["channel_not_found", "is_archived", "invalid_auth", "not_authed", "token_revoked", "missing_scope", "account_inactive"] {
            let hint = SlackAPIError.api(code).adminHint
            #expect(hint?.hasSuffix(".") == true, "\(code) has a one-sentence hint")
        }
        #expect(SlackAPIError.api("missing_scope").adminHint?.contains("scope") == true)
        #expect(SlackAPIError.rateLimited(retryAfter: 1).adminHint == nil)
        #expect(SlackAPIError.server(status: 502).adminHint == nil)
        #expect(SlackAPIError.api("message_not_found").adminHint == nil)
    }

    @Test("descriptions say what happened")
    func descriptions() {
        #expect(SlackAPIError.rateLimited(retryAfter: 30).description == "Slack rate limit: retry after 30 s")
        #expect(SlackAPIError.rateLimited(retryAfter: 1.5).description == "Slack rate limit: retry after 1.5 s")
        #expect(SlackAPIError.server(status: 503).description == "Slack answered HTTP 503")
        #expect(SlackAPIError.api("not_in_channel").description == "Slack error `not_in_channel`")
        #expect(SlackAPIError.network("connection refused").description.contains("connection refused"))
    }
}
