import Foundation

// gatehouse-build-info GIT_DIR OUTPUT: writes `BuildInfo.commit`, the commit GIT_DIR's HEAD names (or `unknown`), as
// Swift source to OUTPUT. Reads git's files directly: a build needs no git program.

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: gatehouse-build-info GIT_DIR OUTPUT\n".utf8))
    exit(64)
}

func read(_ path: String) -> String? {
    (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
}

func commit(gitDirectory git: String) -> String? {
    guard !git.isEmpty, let head = read(git + "/HEAD") else { return nil }
    guard head.hasPrefix("ref: ") else { return head }
    let ref = String(head.dropFirst(5))
    if let loose = read(git + "/" + ref) { return loose }
    // A fresh clone keeps its refs packed: `HASH refs/heads/main` lines.
    for line in (read(git + "/packed-refs") ?? "").split(separator: "\n") {
        let parts = line.split(separator: " ")
        if parts.count == 2, parts[1] == ref { return String(parts[0]) }
    }
    return nil
}

let hash = commit(gitDirectory: arguments[1]).flatMap { $0.count >= 7 && $0.allSatisfy(\.isHexDigit) ? $0 : nil }
let source = """
    // Written by gatehouse-build-info at build time.
    extension BuildInfo {
        public static let commit = "\(hash ?? "unknown")"
    }

    """
let output = URL(fileURLWithPath: arguments[2])
if (try? String(contentsOf: output, encoding: .utf8)) != source {
    try source.write(to: output, atomically: true, encoding: .utf8)
}
