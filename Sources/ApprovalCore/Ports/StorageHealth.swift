import Foundation

/// A write the store could not make because it cannot grow: the disk (or the database's size limit) is full.
/// Nothing of the write was stored.
public struct StorageFull: Error, Sendable, CustomStringConvertible {
    /// SQLite's name for the failure (`SQLITE_FULL`).
    public let code: String
    /// The folder the database lives in.
    public let location: String
    /// Bytes free on that folder's file system when the write failed; nil when they could not be read.
    public let freeBytes: Int64?

    public init(code: String, location: String, freeBytes: Int64?) {
        self.code = code
        self.location = location
        self.freeBytes = freeBytes
    }

    public var description: String {
        "\(code): the database cannot grow; \(freeBytes.map { "\($0) bytes" } ?? "unknown space") free in \(location)"
    }
}

/// Whether the store's writes succeed.
public enum WriteHealth: Sendable, Equatable {
    case writing
    /// Writes fail for lack of space since `since` (the first failure of this run of failures).
    case full(since: Date, freeBytes: Int64?)
    /// Writes fail for another reason since `since`: the database refuses them (a read-only standby) or cannot be
    /// reached. `code` names it (PostgreSQL's SQLSTATE, or `timeout`…), never a password.
    case failing(since: Date, code: String)
}

/// A store that can say whether it writes, trying a small write when the last ones failed.
public protocol WriteHealthProbe: Sendable {
    func writeHealth() async -> WriteHealth
}
