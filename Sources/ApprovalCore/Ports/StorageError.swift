/// What a storage engine refuses or cannot do, the same on every engine.
public enum StorageError: Error, CustomStringConvertible {
    case corrupt(String)
    case keyNameTaken(String)
    case unknownKey(String)
    case invalidKeyName(String)
    case notMigrated(String)
    case checkpointFailed(String)

    public var description: String {
        switch self {
        case .corrupt(let what): "The stored \(what) could not be read."
        case .keyNameTaken(let name): "An active key named '\(name)' exists already; revoke it first or pick another name."
        case .unknownKey(let name): "No active key is named '\(name)'."
        case .invalidKeyName(let name): "'\(name)' is not a valid key name: use 1–64 letters, digits, '-', '_' or '.'."
        case .notMigrated(let path):
            "The database '\(path)' was made by an older version of Gatehouse; `gatehouse serve` updates it when it starts."
        case .checkpointFailed(let why):
            "The WAL could not be folded into the database file (\(why)); it is kept beside it and applied at the next open."
        }
    }
}
