import ApprovalCore
import Logging

extension StorageFull {
    /// What an operator needs in the log line: SQLite's code, where, and how much room is left.
    static func metadata(_ error: StorageFull) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["sqlite": .string(error.code), "db_folder": .string(error.location)]
        if let free = error.freeBytes { metadata["free_bytes"] = .stringConvertible(free) }
        return metadata
    }
}
