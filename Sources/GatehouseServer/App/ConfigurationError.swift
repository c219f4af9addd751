import Foundation

/// A configuration problem: names the setting and what is wrong, never its (possibly secret) value.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var setting: String
    public var problem: String

    public init(setting: String, problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "configuration error: \(setting): \(problem)" }

    /// The exit code of `serve` for bad configuration (EX_CONFIG).
    public static let exitCode: Int32 = 78
}
