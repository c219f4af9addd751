import ApprovalCore
import Foundation

/// The config file: `key = value` lines, `#` comments, values optionally in double quotes.
enum ConfigFile {
    /// Each key's value and the (1-based) line it is on; a key given twice keeps its last line.
    typealias Entries = [String: (value: String, line: Int)]

    static func read(path: String, knownKeys: Set<String>) throws(ConfigurationError) -> Entries {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(setting: "config", problem: "cannot read '\(path)'")
        }
        return try parse(text, knownKeys: knownKeys, path: path)
    }

    static func parse(_ text: String, knownKeys: Set<String>, path: String) throws(ConfigurationError) -> Entries {
        var values: Entries = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let place = "\(path):\(index + 1)"
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(setting: place, problem: "expected 'key = value'")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard knownKeys.contains(key) else {
                let guess = Spelling.closest(to: key, among: knownKeys.sorted())
                throw ConfigurationError(
                    setting: "\(place): \(key)", problem: "unknown setting" + (guess.map { "; did you mean '\($0)'?" } ?? ""))
            }
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else {
                    throw ConfigurationError(setting: "\(place): \(key)", problem: "unterminated quoted value")
                }
                value = String(value.dropFirst().dropLast())
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            values[key] = (value, index + 1)
        }
        return values
    }
}
