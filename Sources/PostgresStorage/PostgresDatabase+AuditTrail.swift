import ApprovalCore
import Foundation

/// Appends to the audit chain on its own, outside any other change (a refusal, a configuration change).
extension PostgresDatabase: AuditTrail {
    public func append(_ event: AuditEvent) async throws {
        let now = clock.now
        try await write { connection in
            try await PostgresAuditLog.append([event], at: now, on: connection, logger: self.logger)
        }
    }
}
