/// What this binary is: its version and the commit it was built from (`gatehouse --version`, `gatehouse_build_info`).
public enum BuildInfo {
    /// The release this source tree is; raised when a release is cut.
    public static let version = "0.9.0"

    /// `0.9.0 (commit 4f2a9c1d3e5b)`.
    public static var description: String {
        "\(version) (commit \(commit == "unknown" ? "unknown" : String(commit.prefix(12))))"
    }
}
