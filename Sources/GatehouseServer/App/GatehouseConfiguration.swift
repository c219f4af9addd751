import ApprovalCore
import Foundation
import PostgresStorage
import Logging

/// Everything `serve` needs, after flags, environment, config file and defaults are merged.
public struct GatehouseConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databasePath = "./gatehouse.sqlite"
    public var slackBotToken: String?
    public var slackSigningSecret: String?
    public var slackApprovalsChannel = "#approvals"
    public var slackAPIURL = URL(string: "https://slack.com/api/")!
    public var admins: [String] = []
    public var publicURL: URL?
    public var webhookSecret: String?
    /// When set, `/metrics` answers only `Authorization: Bearer` this token.
    public var metricsToken: String?
    public var logLevel: Logger.Level = .info
    /// Where the service listens for the command line's changes (`ControlServer`): beside the database, set by
    /// `serve`; `nil` listens nowhere.
    public var controlSocketPath: String?
    /// Failed authentications one source may make within a minute before it is answered 429.
    public var failedAuthLimit = 30
    /// Whether the last `X-Forwarded-For` address names the client (behind a reverse proxy that sets it).
    public var trustForwardedFor = false
    /// Where callbacks may go (`callback_allow`, `callback_targets`).
    public var callbackTargets = CallbackTargets.publicOnly
    /// How long a connection may take over each part of a request.
    public var timeouts = ConnectionTimeouts()
    /// The most connections open at once; `nil`: what the file-descriptor limit allows (see `ConnectionLimit`).
    public var maxConnections: Int?
    /// How long `/mcp`'s `request_permission` waits for a decision when the call does not say, in seconds.
    public var mcpPermissionWait = ApprovalTools.defaultPermissionWait
    /// Seconds between two Slack posts to one channel from this process (Slack allows about one a second per channel,
    /// so N replicas on one database should each take N).
    public var slackPacing: TimeInterval = 1

    public init() {}

    /// Whether Slack delivery is on: it needs a bot token.
    public var slackEnabled: Bool { slackBotToken != nil }
}

/// One setting as it is spelled on each layer.
struct Setting: Sendable {
    let key: String  // in the config file
    let environment: String
    let isSecret: Bool
    let apply: @Sendable (inout GatehouseConfiguration, String) throws(ConfigurationError) -> Void
}

extension GatehouseConfiguration {
    static let settings: [Setting] = [
        Setting(key: "host", environment: "GATEHOUSE_HOST", isSecret: false) { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError(setting: "host", problem: "must not be empty") }
            c.host = v
        },
        Setting(key: "port", environment: "GATEHOUSE_PORT", isSecret: false) { c, v throws(ConfigurationError) in
            guard let port = Int(v), (0...65_535).contains(port) else {
                throw ConfigurationError(setting: "port", problem: "'\(v)' is not a port number (0–65535)")
            }
            c.port = port
        },
        Setting(key: "db", environment: "GATEHOUSE_DB", isSecret: false) { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError(setting: "db", problem: "must not be empty") }
            if PostgresURL.isPostgres(v) {
                do {
                    try PostgresURL.validate(v)
                } catch {
                    throw ConfigurationError(setting: "db", problem: "\(error)")
                }
            }
            c.databasePath = v
        },
        Setting(key: "slack_bot_token", environment: "SLACK_BOT_TOKEN", isSecret: true) { c, v throws(ConfigurationError) in
            guard v.hasPrefix("xoxb-") else {
                throw ConfigurationError(setting: "slack_bot_token", problem: "a bot token starts with 'xoxb-'")
            }
            c.slackBotToken = v
        },
        Setting(key: "slack_signing_secret", environment: "SLACK_SIGNING_SECRET", isSecret: true) { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError(setting: "slack_signing_secret", problem: "must not be empty") }
            c.slackSigningSecret = v
        },
        Setting(key: "slack_approvals_channel", environment: "SLACK_APPROVALS_CHANNEL", isSecret: false) { c, v throws(ConfigurationError) in
            guard !v.isEmpty, !v.contains(where: \.isWhitespace) else {
                throw ConfigurationError(setting: "slack_approvals_channel", problem: "must be a channel ID or #name")
            }
            c.slackApprovalsChannel = v
        },
        Setting(key: "slack_api_url", environment: "SLACK_API_URL", isSecret: false) { c, v throws(ConfigurationError) in
            c.slackAPIURL = try httpURL(v, setting: "slack_api_url", directory: true)
        },
        Setting(key: "admins", environment: "GATEHOUSE_ADMINS", isSecret: false) { c, v throws(ConfigurationError) in
            let ids = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for id in ids where !id.allSatisfy({ $0.isLetter || $0.isNumber }) || !id.first!.isUppercase {
                throw ConfigurationError(setting: "admins", problem: "'\(id)' is not a Slack user ID (like U012ABC)")
            }
            c.admins = ids
        },
        Setting(key: "public_url", environment: "GATEHOUSE_PUBLIC_URL", isSecret: false) { c, v throws(ConfigurationError) in
            c.publicURL = try httpURL(v, setting: "public_url", directory: false)
        },
        Setting(key: "webhook_secret", environment: "GATEHOUSE_WEBHOOK_SECRET", isSecret: true) { c, v throws(ConfigurationError) in
            guard v.count >= 16 else {
                throw ConfigurationError(setting: "webhook_secret", problem: "must be at least 16 characters")
            }
            c.webhookSecret = v
        },
        Setting(key: "metrics_token", environment: "GATEHOUSE_METRICS_TOKEN", isSecret: true) { c, v throws(ConfigurationError) in
            guard v.count >= 16 else {
                throw ConfigurationError(setting: "metrics_token", problem: "must be at least 16 characters")
            }
            c.metricsToken = v
        },
        Setting(key: "failed_auth_limit", environment: "GATEHOUSE_FAILED_AUTH_LIMIT", isSecret: false) { c, v throws(ConfigurationError) in
            guard let limit = Int(v), (1...100_000).contains(limit) else {
                throw ConfigurationError(setting: "failed_auth_limit", problem: "'\(v)' is not a whole number from 1 to 100000")
            }
            c.failedAuthLimit = limit
        },
        Setting(key: "trust_forwarded_for", environment: "GATEHOUSE_TRUST_FORWARDED_FOR", isSecret: false) { c, v throws(ConfigurationError) in
            c.trustForwardedFor = try boolean(v, setting: "trust_forwarded_for")
        },
        Setting(key: "callback_allow", environment: "GATEHOUSE_CALLBACK_ALLOW", isSecret: false) { c, v throws(ConfigurationError) in
            do throws(CallbackTargetError) {
                (c.callbackTargets.networks, c.callbackTargets.hosts) = try CallbackTargets.allowList(v)
            } catch {
                throw ConfigurationError(setting: "callback_allow", problem: error.description)
            }
        },
        Setting(key: "callback_targets", environment: "GATEHOUSE_CALLBACK_TARGETS", isSecret: false) { c, v throws(ConfigurationError) in
            switch v.lowercased() {
            case "public": c.callbackTargets.allowlistOnly = false
            case "allowlist": c.callbackTargets.allowlistOnly = true
            default: throw ConfigurationError(setting: "callback_targets", problem: "'\(v)' is not public or allowlist")
            }
        },
        Setting(key: "slack_pacing", environment: "SLACK_PACING", isSecret: false) { c, v throws(ConfigurationError) in
            guard let value = TimeInterval(v), value.isFinite, (0...60).contains(value) else {
                throw ConfigurationError(setting: "slack_pacing", problem: "'\(v)' is not a number of seconds from 0 to 60")
            }
            c.slackPacing = value
        },
        Setting(key: "header_timeout", environment: "GATEHOUSE_HEADER_TIMEOUT", isSecret: false) { c, v throws(ConfigurationError) in
            c.timeouts.header = try seconds(v, setting: "header_timeout")
        },
        Setting(key: "body_timeout", environment: "GATEHOUSE_BODY_TIMEOUT", isSecret: false) { c, v throws(ConfigurationError) in
            c.timeouts.body = try seconds(v, setting: "body_timeout")
        },
        Setting(key: "idle_timeout", environment: "GATEHOUSE_IDLE_TIMEOUT", isSecret: false) { c, v throws(ConfigurationError) in
            c.timeouts.idle = try seconds(v, setting: "idle_timeout")
        },
        Setting(key: "max_connections", environment: "GATEHOUSE_MAX_CONNECTIONS", isSecret: false) { c, v throws(ConfigurationError) in
            guard let count = Int(v), (1...1_000_000).contains(count) else {
                throw ConfigurationError(setting: "max_connections", problem: "'\(v)' is not a whole number from 1 to 1000000")
            }
            c.maxConnections = count
        },
        Setting(key: "mcp_permission_wait", environment: "GATEHOUSE_MCP_PERMISSION_WAIT", isSecret: false) { c, v throws(ConfigurationError) in
            guard let seconds = Int(v), (0...ApprovalTools.maxWait).contains(seconds) else {
                throw ConfigurationError(
                    setting: "mcp_permission_wait", problem: "'\(v)' is not a whole number of seconds from 0 to \(ApprovalTools.maxWait)")
            }
            c.mcpPermissionWait = seconds
        },
        Setting(key: "log_level", environment: "GATEHOUSE_LOG_LEVEL", isSecret: false) { c, v throws(ConfigurationError) in
            guard let level = Logger.Level(rawValue: v.lowercased()) else {
                throw ConfigurationError(
                    setting: "log_level", problem: "'\(v)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        },
    ]

    /// Whole seconds (`30`) or a duration (`30s`, `2m`), from 1 second to a day.
    private static func seconds(_ text: String, setting: String) throws(ConfigurationError) -> TimeInterval {
        let value: TimeInterval
        if let whole = Int(text) {
            value = TimeInterval(whole)
        } else {
            do throws(ChainDurationError) {
                value = try ChainDuration.parse(text)
            } catch {
                throw ConfigurationError(setting: setting, problem: "'\(text)' is not whole seconds or a duration like 30s")
            }
        }
        guard (1...86_400).contains(value) else {
            throw ConfigurationError(setting: setting, problem: "'\(text)' must be from 1 second to a day")
        }
        return value
    }

    private static func boolean(_ text: String, setting: String) throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigurationError(setting: setting, problem: "'\(text)' is not true or false")
        }
    }

    private static func httpURL(_ text: String, setting: String, directory: Bool) throws(ConfigurationError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host?.isEmpty == false
        else {
            throw ConfigurationError(setting: setting, problem: "'\(text)' is not an http(s) URL")
        }
        if directory && !text.hasSuffix("/") { return URL(string: text + "/")! }
        return url
    }

    /// Merges the layers: `flags` (config-file keys) over `environment` over the file over the defaults.
    /// The file is `configFile`, else `GATEHOUSE_CONFIG` from the environment, else none.
    public static func load(
        flags: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil
    ) throws(ConfigurationError) -> GatehouseConfiguration {
        var configuration = GatehouseConfiguration()
        if let path = configFile ?? environment["GATEHOUSE_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let values = try ConfigFile.read(path: path, knownKeys: Set(settings.map(\.key)))
            for setting in settings {
                guard let entry = values[setting.key] else { continue }
                do {
                    try setting.apply(&configuration, entry.value)
                } catch {
                    // Name the file and line, as for the file's other mistakes.
                    throw ConfigurationError(setting: "\(path):\(entry.line): \(error.setting)", problem: error.problem)
                }
            }
        }
        for setting in settings {
            if let v = environment[setting.environment], !v.isEmpty {
                do {
                    try setting.apply(&configuration, v)
                } catch {
                    // Name the variable, so the person knows where the bad value came from.
                    throw ConfigurationError(setting: "\(setting.environment) (\(error.setting))", problem: error.problem)
                }
            }
        }
        for (key, value) in flags {
            guard let setting = settings.first(where: { $0.key == key }) else {
                throw ConfigurationError(setting: key, problem: "unknown setting")
            }
            try setting.apply(&configuration, value)
        }
        return configuration
    }
}
