import Foundation
import SlackAPI
import Testing

/// Golden JSON files under `Golden/`: compared on every run, rewritten in the source tree with
/// `GATEHOUSE_UPDATE_GOLDEN=1 swift test --filter SlackBridgeTests` after an intended change (then review `git diff`).
enum Golden {
    static let updateVariable = "GATEHOUSE_UPDATE_GOLDEN"

    static var isUpdating: Bool {
        ProcessInfo.processInfo.environment[updateVariable] == "1"
    }

    /// The folder in the source tree; the test bundle holds a copy made at build time.
    static let sourceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden", isDirectory: true)

    /// A message as Slack receives it: the notification text and the blocks.
    struct Message: Encodable {
        var text: String
        var blocks: [Block]
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// Compares `value`'s JSON with `Golden/<name>.json`, or rewrites that file when updating.
    static func expectMatch(_ value: some Encodable, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = try json(value)
        let file = "\(name).json"
        if isUpdating {
            try FileManager.default.createDirectory(at: sourceFolder, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: sourceFolder.appendingPathComponent(file), options: .atomic)
            print("Golden: wrote \(sourceFolder.appendingPathComponent(file).path)")
            return
        }
        let folder = try #require(Bundle.module.url(forResource: "Golden", withExtension: nil), sourceLocation: sourceLocation)
        let url = folder.appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("Golden/\(file) does not exist; run with \(updateVariable)=1 to create it.", sourceLocation: sourceLocation)
            return
        }
        let expected = String(decoding: data, as: UTF8.self)
        if let difference = firstDifference(expected: expected, actual: actual) {
            Issue.record(
                """
                Golden/\(file) differs from the rendering.
                \(difference)
                If the change is intended, run with \(updateVariable)=1 and review the diff of Tests/SlackBridgeTests/Golden.
                """,
                sourceLocation: sourceLocation)
        }
    }

    /// The first line where two texts differ, with the line before it for context; `nil` when they are equal.
    static func firstDifference(expected: String, actual: String) -> String? {
        guard expected != actual else { return nil }
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var index = 0
        while index < old.count, index < new.count, old[index] == new[index] { index += 1 }
        func line(_ lines: [Substring], _ index: Int) -> String {
            index < lines.count ? String(lines[index]) : "<end of file>"
        }
        var report = "First difference at line \(index + 1):\n"
        if index > 0 { report += "    \(old[index - 1])\n" }
        report += "  - expected: \(line(old, index))\n  + actual:   \(line(new, index))"
        return report
    }
}
