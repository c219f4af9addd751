import Foundation

/// Names of people compared the way a person reads them: ` Alice`, `alice` and `ＡＬＩＣＥ` are one person, so that a
/// requester cannot decide their own request by spelling their name another way.
public enum PersonName {
    /// Trimmed, in Unicode compatibility form (NFKC: full-width and composed letters as their plain forms) and case
    /// folded.
    public static func normalized(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: nil)
    }

    public static func same(_ a: String, _ b: String) -> Bool { normalized(a) == normalized(b) }
}
