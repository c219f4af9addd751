import Foundation
import Testing

/// Recorded Slack payloads under `Fixtures/` (provenance in `Fixtures/SOURCES.md`).
enum Fixture {
    static func url(_ name: String) throws -> URL {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return folder.appendingPathComponent(name)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: url(name)))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }

    static func object(_ name: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes(name))) as? [String: Any])
    }

    /// The JSON bytes of one member of a fixture object, e.g. a Socket Mode envelope's `payload`.
    static func member(_ key: String, of name: String) throws -> [UInt8] {
        let value = try #require(try object(name)[key])
        return Array(try JSONSerialization.data(withJSONObject: value))
    }
}
