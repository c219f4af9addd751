extension SlackAPIError {
    /// Codes that the same call will meet again however often it is retried.
    static let permanentCodes: Set<String> = [
        "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed", "token_revoked",
        "token_expired", "missing_scope", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
        "account_inactive", "no_permission", "user_not_found", "users_not_found", "user_not_in_channel",
        "message_not_found", "cant_update_message", "edit_window_closed", "no_text", "invalid_arguments",
        "invalid_arg_name", "invalid_array_arg", "restricted_action", "not_allowed_token_type", "method_deprecated",
        "team_access_not_granted", "ekm_access_denied", "no_such_subteam", "subteam_not_found", "user_is_bot",
        "cannot_dm_bot", "user_disabled", "expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id",
        "trigger_expired", "trigger_exchanged", "unknown_method", "too_many_attachments", "too_many_users",
    ]

    /// Codes for a momentary failure on Slack's side.
    static let retryableCodes: Set<String> = [
        "ratelimited", "rate_limited", "internal_error", "service_unavailable", "fatal_error", "request_timeout",
    ]

    /// The error in one word, as metrics label it: Slack's own code, or `ratelimited`, `http_500`, `network`,
    /// `bad_answer`.
    public var code: String {
        switch self {
        case .api(let code): code
        case .rateLimited: "ratelimited"
        case .server(let status): "http_\(status)"
        case .network: "network"
        case .decoding: "bad_answer"
        }
    }

    /// Whether retrying the same call cannot succeed until someone changes something.
    public var isPermanent: Bool {
        if case .api(let code) = self { return Self.permanentCodes.contains(code) }
        return false
    }

    /// Whether Slack refuses one person for good (a bot, a deactivated or unknown account): a DM to them is skipped,
    /// and the others are still asked.
    public var refusesRecipient: Bool {
        if case .api(let code) = self { return Self.recipientCodes.contains(code) }
        return false
    }

    static let recipientCodes: Set<String> = ["cannot_dm_bot", "user_is_bot", "user_disabled", "user_not_found", "users_not_found"]

    /// Whether the same call may succeed later (after `Retry-After` for rate limits).
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .server, .network: true
        case .api(let code): Self.retryableCodes.contains(code)
        case .decoding: false
        }
    }

    /// One sentence telling the workspace admin what to fix, when the fix is theirs.
    public var adminHint: String? {
        switch self {
        case .network: return "Check that this host can reach slack.com over HTTPS."
        case .rateLimited, .server, .decoding: return nil
        case .api(let code): return Self.adminHints[code]
        }
    }

    private static let adminHints: [String: String] = [
        "not_in_channel": "Invite the bot to the channel with /invite @Gatehouse.",
        "channel_not_found":
            "Check the configured channel ID or name, and invite the bot with /invite @Gatehouse if the channel is private.",
        "is_archived": "The channel is archived: unarchive it or configure another channel.",
        "invalid_auth": "Check the bot token: it must be the app's current Bot User OAuth Token (xoxb-…).",
        "not_authed": "Set the bot token: the app's Bot User OAuth Token (xoxb-…).",
        "token_revoked": "The bot token was revoked: reinstall the app to the workspace and configure the new token.",
        "token_expired": "The bot token expired: reinstall the app to the workspace and configure the new token.",
        "account_inactive": "The bot token belongs to a deactivated app or user: reinstall the app and configure the new token.",
        "missing_scope": "Add the missing OAuth scope in the app's settings (see manifests/slack-app.yaml) and reinstall the app.",
        "no_permission": "A workspace admin must allow the app to do this, or the app needs reinstalling with its scopes.",
        "restricted_action": "A workspace setting stops the app posting here: allow it in the channel or configure another channel.",
        "user_not_found": "Check the configured Slack user IDs: one of them does not exist in this workspace.",
        "users_not_found": "Check the configured Slack user IDs: one of them does not exist in this workspace.",
        "no_such_subteam": "Check the configured user group ID (S…): it does not exist in this workspace.",
        "subteam_not_found": "Check the configured user group ID (S…): it does not exist in this workspace.",
        "ekm_access_denied": "Enterprise Key Management denied access: ask the workspace's security admin to allow the app.",
        "team_access_not_granted": "Grant the app access to this workspace in the Enterprise Grid organisation settings.",
        "not_allowed_token_type": "Configure a bot token (xoxb-…), not a user or app-level token.",
        "cannot_dm_bot": "A chain's user group includes a bot, which cannot be sent DMs: it is skipped, nothing to fix.",
        "user_is_bot": "A chain's user group includes a bot, which cannot be sent DMs: it is skipped, nothing to fix.",
        "user_disabled": "A chain names a deactivated Slack account: it is skipped; take it out of the chain.",
    ]
}
