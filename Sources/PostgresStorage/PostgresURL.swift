import Foundation
import PostgresNIO

/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`, as CONTRACT §11 pins it.
public enum PostgresURL {
    /// Whether `value` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    public static func redacted(_ value: String) -> String {
        guard var components = URLComponents(string: value), components.password != nil else { return value }
        components.password = "***"
        return components.string ?? "postgres://***"
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Checks that `value` is a URL this engine can connect with (not that the database is there), throwing `Invalid`
    /// with what is wrong, its password hidden.
    public static func validate(_ value: String) throws {
        _ = try configuration(value)
    }

    static func configuration(_ value: String) throws -> PostgresClient.Configuration {
        guard isPostgres(value), let components = URLComponents(string: value) else {
            throw Invalid(description: "not a postgres:// URL: \(redacted(value))")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid(description: "the URL names no host: \(redacted(value))")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "the URL names no user: \(redacted(value))")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty else { throw Invalid(description: "the URL names no database: \(redacted(value))") }
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw Invalid(description: "sslmode must be disable, prefer or require, not \(sslmode)")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: database, tls: tls)
        configuration.options.maximumConnections = 16
        return configuration
    }
}
