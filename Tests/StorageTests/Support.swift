import ApprovalCore
import Foundation
import DomainTestSupport

@testable import Storage

/// Runs `body` on an in-memory database and on a file, each with a clock of its own.
func withDatabases(_ body: (GatehouseDatabase, TestClock) async throws -> Void) async throws {
    let clock = TestClock()
    let memory = try GatehouseDatabase.inMemory(clock: clock)
    try await body(memory, clock)
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let fileClock = TestClock()
    let file = try GatehouseDatabase(path: dir.path("db.sqlite"), clock: fileClock)
    try await body(file, fileClock)
    try file.close()
}

extension ApprovalTransition {
    /// The transition with the outbox rows the service plans for it by default: a callback delivery when decided.
    func planned() -> PlannedChange {
        PlannedChange(self, outbox: CallbackOutboxPlanner().outboxItems(for: self))
    }
}

extension GatehouseDatabase {
    /// Stores an approval built beforehand, whatever chain its gate has.
    func insert(_ transition: ApprovalTransition, idempotency: IdempotencyKey?) async throws -> InsertResult {
        try await insert(idempotency: idempotency) { _ in transition.planned() }
    }

    /// Commits `transition` with the outbox rows the service would plan for it.
    func commit(_ transition: ApprovalTransition) async throws -> Bool {
        try await commit(transition.planned())
    }

    /// The configuration use cases over this database, with the Slack users these tests change chains as made admins.
    var configuration: ConfigurationService {
        ConfigurationService(store: self, audit: self, configuredAdmins: [ChainStorageTests.admin, "U0OTHER"])
    }
}
