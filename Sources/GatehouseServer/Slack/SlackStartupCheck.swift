import ApprovalCore
import Foundation
import Logging
import ServiceLifecycle
import SlackAPI

/// Checks the Slack token once at start (`auth.test`) and says plainly what is wrong: a token Slack refuses, a scope
/// the app's manifest asks for and the token lacks, a bot outside the approvals channel. It never stops the service:
/// when Slack cannot be reached it tries again (1 minute, doubling to 10); what it finds wrong is logged for the
/// admin, once, and everything that does not need Slack goes on working.
struct SlackStartupCheck: Service {
    let slack: any SlackTokenCheck
    let channel: String
    let clock: any WallClock
    let logger: Logger

    /// The bot scopes of `manifests/slack-app.yaml` (a test keeps the two the same).
    static let requiredScopes = ["chat:write", "chat:write.public", "commands", "users:read", "im:write", "usergroups:read"]

    /// What Slack answers for a token that will never work as it is.
    static let refusedTokenCodes: Set<String> = [
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type",
    ]

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await check()
        }
        // A service that returns would stop the others: wait for the end like them.
        try? await gracefulShutdown()
    }

    /// Checks until Slack answers, then reports.
    func check() async {
        var delay: TimeInterval = 60
        while !Task.isCancelled {
            // Taken before the attempt, so a clock that moves on meanwhile shortens the wait rather than lengthening it.
            let next = clock.now.addingTimeInterval(delay)
            do throws(SlackAPIError) {
                let auth = try await slack.authTest()
                await report(auth)
                return
            } catch {
                if case .api(let code) = error, Self.refusedTokenCodes.contains(code) {
                    logger.error(
                        "Slack refuses the bot token (\(Self.code(error))): SLACK_BOT_TOKEN is wrong, revoked or for another app",
                        metadata: ["hint": "Copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page; the service keeps running without Slack posts until it is fixed and restarted."])
                    return
                }
                guard error.isRetryable else {
                    logger.error("the Slack token check failed: \(Self.code(error))")
                    return
                }
                logger.warning(
                    "cannot check the Slack token yet; trying again",
                    metadata: ["error": .string(Self.code(error)), "retry_in_s": .stringConvertible(Int(delay))])
            }
            do { try await clock.sleep(until: next) } catch { return }
            delay = min(delay * 2, 600)
        }
    }

    private func report(_ auth: SlackAuth) async {
        var fine = true
        if let scopes = auth.scopes {
            let missing = Self.requiredScopes.filter { !scopes.contains($0) }
            if !missing.isEmpty {
                fine = false
                logger.error(
                    "the Slack token lacks scopes the app manifest asks for: \(missing.joined(separator: ", "))",
                    metadata: ["hint": "Add them under OAuth & Permissions → Bot Token Scopes (or apply manifests/slack-app.yaml), reinstall the app to the workspace, and restart with the new token."])
            }
        }
        if Self.isChannelID(channel) {
            do throws(SlackAPIError) {
                if try await !slack.isMember(ofChannel: channel) {
                    fine = false
                    logger.warning(
                        "the bot is not in the approvals channel \(channel)",
                        metadata: ["hint": "Type /invite @Gatehouse in that channel: a private channel refuses posts from outside, and the bot cannot read replies there."])
                }
            } catch {
                fine = false
                logger.warning("cannot tell whether the bot is in \(channel): \(Self.code(error))")
            }
        } else {
            logger.notice(
                "the approvals channel is given by name (\(channel)), so whether the bot is in it is not checked; give its ID (C…) to have it checked")
        }
        if fine {
            logger.notice("Slack token checked", metadata: ["bot_user": .string(auth.userID), "team": .string(auth.team)])
        }
    }

    /// `C…` or `G…` followed by letters and digits: a channel ID rather than a `#name`.
    static func isChannelID(_ text: String) -> Bool {
        guard let first = text.first, first == "C" || first == "G", text.count >= 8 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    /// The error's code, with what went wrong when Slack gave no code of its own.
    private static func code(_ error: SlackAPIError) -> String {
        switch error {
        case .network(let message), .decoding(let message): "\(error.code): \(message)"
        default: error.code
        }
    }
}
