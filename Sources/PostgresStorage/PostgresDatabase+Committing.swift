import PostgresNIO

extension PostgresDatabase {
    /// `write`, throwing what went wrong itself: the error `work` threw (a `StorageError`, a unique violation), else
    /// that of `COMMIT` or `BEGIN`, rather than postgres-nio's `PostgresTransactionError` around it. Callers then
    /// see the same errors as on SQLite.
    func committing<T: Sendable>(_ work: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await write(work)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error.beginError ?? error
        }
    }
}
