import Foundation
import PackagePlugin

/// Writes the commit the package is built from into the `BuildInfo` target (`gatehouse --version`, the build-info
/// metric). Reruns when git's HEAD or the branch it names moves; outside a git checkout the commit is `unknown`.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Commit.swift")
        let git = Self.gitDirectory(of: context.package.directoryURL)
        var inputs: [URL] = []
        if let git {
            let head = git.appending(path: "HEAD")
            inputs = [head, git.appending(path: "packed-refs")]
            if let text = try? String(contentsOf: head, encoding: .utf8), text.hasPrefix("ref: ") {
                inputs.append(git.appending(path: text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)))
            }
        }
        return [
            .buildCommand(
                displayName: "Recording the commit being built",
                executable: try context.tool(named: "gatehouse-build-info").url,
                arguments: [git?.path ?? "", output.path],
                inputFiles: inputs.filter { FileManager.default.fileExists(atPath: $0.path) },
                outputFiles: [output])
        ]
    }

    /// `.git` as a directory, or the directory a `.git` file (a worktree, a submodule) points to.
    static func gitDirectory(of package: URL) -> URL? {
        let dotGit = package.appending(path: ".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return dotGit }
        guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir: ") else { return nil }
        let path = text.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : package.appending(path: path)
    }
}
