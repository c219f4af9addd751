import ApprovalCore
import Foundation
import Logging
import Synchronization

/// Writes one JSON object per line: time, level, message, logger label and metadata.
/// Secrets never reach it: nothing logs tokens, keys or signing secrets, only their absence or fingerprints.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let sink: LogSink

    public init(label: String, level: Logger.Level = .info, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var members: [String: JSONValue] = [
            "ts": .string(Self.timestamp(Date())), "level": .string(event.level.rawValue),
            "msg": .string("\(event.message)"), "logger": .string(label),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            members[key] = Self.json(value)
        }
        // Hummingbird's own id for the request; `request_id` carries it, or the caller's X-Request-Id.
        if members["request_id"] != nil { members["hb.request.id"] = nil }
        sink.write(CanonicalJSON.serialize(.object(members)) + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let value as any BinaryInteger): .number(Double(value))
        case .stringConvertible(let value as Double) where value.isFinite: .number(value)
        case .stringConvertible(let value): .string(value.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let members): .object(members.mapValues(json))
        }
    }

    static func timestamp(_ date: Date) -> String {
        let base = RFC3339.string(from: date)
        let millis = Int(date.timeIntervalSince1970 * 1000) % 1000
        return base.dropLast() + String(format: ".%03dZ", millis)
    }
}

/// Where log lines go.
public final class LogSink: Sendable {
    private let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    public static let standardError = LogSink { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    func write(_ line: String) { write(line) }
}
