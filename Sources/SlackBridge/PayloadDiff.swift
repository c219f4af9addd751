import ApprovalCore

/// A compact list of what an edit changed in a payload, by JSON path: `~ commit: "a" → "b"`, `+ key`, `- key`.
public enum PayloadDiff {
    public static func lines(from old: JSONValue, to new: JSONValue, limit: Int = 20) -> [String] {
        var lines: [String] = []
        collect(old, new, path: "", into: &lines)
        if lines.count > limit {
            let more = lines.count - limit
            lines = Array(lines.prefix(limit)) + ["… and \(more) more change\(more == 1 ? "" : "s")"]
        }
        return lines
    }

    private static func collect(_ old: JSONValue?, _ new: JSONValue?, path: String, into lines: inout [String]) {
        switch (old, new) {
        case (.object(let a)?, .object(let b)?):
            let keys = Set(a.keys).union(b.keys).sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for key in keys {
                collect(a[key], b[key], path: path.isEmpty ? key : "\(path).\(key)", into: &lines)
            }
        case (let a?, let b?) where a == b:
            return
        case (let a?, let b?):
            lines.append("~ \(label(path)): \(short(a)) → \(short(b))")
        case (nil, let b?):
            lines.append("+ \(label(path)): \(short(b))")
        case (let a?, nil):
            lines.append("- \(label(path)): \(short(a))")
        case (nil, nil):
            return
        }
    }

    private static func label(_ path: String) -> String { path.isEmpty ? "(payload)" : path }

    private static func short(_ value: JSONValue) -> String {
        let text = CanonicalJSON.serialize(value)
        return text.count > 80 ? String(text.prefix(79)) + "…" : text
    }
}
