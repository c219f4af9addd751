import ApprovalCore
import Foundation
import GRDB
import Signing
import Synchronization

/// The one database: approvals, votes, the audit chain, the outbox and API keys.
///
/// It owns the only `DatabaseWriter` on the file. Every method that changes something is one
/// transaction, so a change, its audit entries and its outbox rows commit together or not at all.
public final class GatehouseDatabase: Sendable {
    /// The one connection pool on the file; reached only through the intent-named methods (tests and benchmarks use
    /// `@testable` or the `Benchmark` SPI).
    let writer: any DatabaseWriter
    let groupCommit: GroupCommitWriter
    /// Folds the WAL into the file off the commit path; kept alive as long as the writer, whose hook points at it.
    let checkpointer: BackgroundCheckpointer?
    let clock: any WallClock
    let keyCache = APIKeyCache()
    let chainSnapshots = ChainSnapshots()
    let policySnapshots = PolicySnapshots()
    /// Signalled after every commit that added outbox items.
    public let outboxEnqueued = Wakeup()
    /// Counts every write transaction this process committed: something to wait on for whoever watches the data
    /// change (tests, live pages), instead of polling it.
    public var commits: ChangeCounter { groupCommit.commits }

    /// Opens (creating and migrating) the database file in WAL mode, each commit synced to disk.
    public convenience init(path: String, clock: any WallClock = SystemWallClock()) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // FULL: a transaction acknowledged to a client is on disk, not only in the OS cache.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Statement journals (the undo of one statement or savepoint inside a transaction) in memory rather than
            // in a temporary file created and deleted each time: they are never needed after a crash (the WAL is).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        let checkpointer = try BackgroundCheckpointer(
            path: path, backgroundPages: Int32(Self.walCheckpointPages / 2), inlinePages: Int32(Self.walCheckpointPages))
        // Opening in WAL mode sets the writer connection to NORMAL; set it back on the connection that commits.
        try pool.barrierWriteWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Neither changes what is durable (every commit still syncs the WAL). Checkpoints run off the commit
            // path, from a connection of their own, once the WAL holds about 4 MB; the WAL must stay small (it is
            // read on every open, and on a nearly full disk it is what grows): at about 8 MB the writer checkpoints
            // itself, and the file is cut back to 4 MB after a checkpoint.
            try checkpointer.install(on: db)
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
            // The larger cache keeps the index pages that random ids and hashes land on in memory.
            try db.execute(sql: "PRAGMA cache_size = -32000")
        }
        try self.init(writer: pool, path: path, clock: clock, checkpointer: checkpointer)
    }

    /// Opens the database file for reading only, beside a service that may be writing it: no migration, and no write
    /// is possible. Refuses a file an older version made, which the service migrates when it starts.
    public static func openForReading(path: String, clock: any WallClock = SystemWallClock()) throws -> GatehouseDatabase {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        guard try queue.read({ try Migrations.migrator.hasCompletedMigrations($0) }) else {
            try queue.close()
            throw StorageError.notMigrated(path)
        }
        return try GatehouseDatabase(writer: queue, path: path, clock: clock, migrate: false)
    }

    /// An in-memory database, for tests.
    public static func inMemory(clock: any WallClock = SystemWallClock()) throws -> GatehouseDatabase {
        try GatehouseDatabase(writer: DatabaseQueue(), path: nil, clock: clock)
    }

    /// Pages (of 4 KiB) the WAL may hold before the writer folds it into the database file itself; the background
    /// checkpoints start at half as many (`BackgroundCheckpointer`).
    static let walCheckpointPages = 2000
    /// Bytes of WAL file kept after a checkpoint; the rest is truncated.
    static let walSizeLimit = 4 << 20

    init(
        writer: any DatabaseWriter, path: String?, clock: any WallClock, migrate: Bool = true,
        checkpointer: BackgroundCheckpointer? = nil
    ) throws {
        if migrate { try Migrations.migrator.migrate(writer) }
        self.writer = writer
        self.checkpointer = checkpointer
        self.groupCommit = GroupCommitWriter(writer: writer, failures: WriteFailures(databasePath: path, clock: clock))
        self.clock = clock
    }

    /// Closes the file; later calls fail. See ``close(checkpointWait:)``: this waits up to 2 s for readers.
    public func close() throws {
        try close(checkpointWait: .seconds(2))
    }

    /// Closes the file; later calls fail.
    ///
    /// First folds the WAL into the main file, so a copy of the .sqlite file alone is a complete backup, waiting at
    /// most `checkpointWait` for readers (a command line reading beside the service) to finish. The file is closed
    /// either way; when that checkpoint could not finish, this then throws ``StorageError/checkpointFailed(_:)``:
    /// nothing is lost (the WAL stays beside the file and is applied when it is next opened), but the caller should
    /// say so.
    public func close(checkpointWait: Duration) throws {
        try checkpointer?.close()
        if let pool = writer as? DatabasePool {
            var unfinished: String?
            do {
                let busy = try pool.barrierWriteWithoutTransaction { db -> Bool in
                    let milliseconds = checkpointWait.components.seconds * 1000
                        + checkpointWait.components.attoseconds / 1_000_000_000_000_000
                    try db.execute(sql: "PRAGMA busy_timeout = \(milliseconds)")
                    let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    return (row?[0] as Int?) != 0
                }
                if busy { unfinished = "readers still held the WAL after \(checkpointWait)" }
            } catch {
                unfinished = "\(error)"
            }
            try pool.close()
            if let unfinished { throw StorageError.checkpointFailed(unfinished) }
        }
        if let queue = writer as? DatabaseQueue { try queue.close() }
    }

    /// Names of the migrations applied, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { try Migrations.migrator.appliedMigrations($0) }
    }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await groupCommit.write(work)
    }

    /// What a transition writes besides the approval row: its audit entries and outbox rows, serialised
    /// by the caller's task rather than on the writer thread.
    struct Effects: Sendable {
        let audit: [AuditLog.Prepared]
        let items: [(item: NewOutboxItem, payload: String)]

        init(_ change: PlannedChange) {
            audit = change.transition.auditEvents.map(AuditLog.Prepared.init)
            items = change.outbox.map { ($0, CanonicalJSON.serialize($0.payload)) }
        }

        var hasOutboxItems: Bool { !items.isEmpty }
    }

    static func record(_ effects: Effects, at now: Date, in db: Database) throws {
        for event in effects.audit {
            try AuditLog.append(event, at: now, in: db)
        }
        for (item, payload) in effects.items {
            try enqueue(item, payload: payload, at: now, in: db)
        }
    }

    static func enqueue(_ item: NewOutboxItem, at now: Date, in db: Database) throws {
        try enqueue(item, payload: CanonicalJSON.serialize(item.payload), at: now, in: db)
    }

    private static func enqueue(_ item: NewOutboxItem, payload: String, at now: Date, in db: Database) throws {
        let due = max(item.notBefore ?? now, now).millisecondsSince1970
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox (kind, approval_id, ordering_key, payload, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [item.kind, item.approvalID?.rawValue, item.orderingKey, payload, now.millisecondsSince1970, due]
        )
    }
}

// MARK: - Approvals

extension GatehouseDatabase: ApprovalRepository {
    public func insert(
        idempotency: IdempotencyKey?, build: @escaping @Sendable (any SubmitSnapshot) -> PlannedChange
    ) async throws -> InsertResult {
        let now = clock.now
        // Built here, from the policies and chains this process saw last (the payload serialised), so the writer
        // thread only binds and steps; the writer builds it again if what it read is not what is stored.
        let guess = GuessedSubmitSnapshot(chains: chainSnapshots, policies: policySnapshots)
        let prepared = PreparedCreate(build(guess))
        let snapshots = chainSnapshots
        let policies = policySnapshots
        let result: InsertResult = try await write { db in
            if let idempotency {
                if let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT request_digest, approval_id FROM idempotency_key WHERE scope = ? AND key = ?"),
                    arguments: [idempotency.scope, idempotency.key]
                ) {
                    guard row["request_digest"] as String == idempotency.requestDigest else {
                        throw ApprovalError.idempotencyConflict
                    }
                    let id = ApprovalID(rawValue: row["approval_id"])
                    guard let earlier = try Self.fetchApproval(id, in: db) else { throw StorageError.corrupt("idempotency key") }
                    return .existing(earlier)
                }
            }
            // A chain by name, else a chain an admin named `default`, else (no row) the built-in default.
            let definition = { (name: String) throws -> String? in
                try String.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT definition FROM chain WHERE name IN (?, 'default') ORDER BY name = 'default' LIMIT 1"),
                    arguments: [name])
            }
            var create = prepared
            if try !guess.holds(in: db, policies: policies, chainDefinition: definition) {
                var failure: (any Error)?
                let live = LiveSubmitSnapshot(db: db, policies: try policies.read(in: db).set, policyCache: policies) { name in
                    do {
                        let text = try definition(name)
                        let chain = try text.map(ChainCoding.decode) ?? .default
                        snapshots.remember(name, .init(definition: text, chain: chain))
                        return chain
                    } catch {
                        failure = error
                        return .default
                    }
                }
                create = PreparedCreate(build(live))
                if let failure { throw failure }
            }
            let approval = create.transition.after
            try db.cachedStatement(sql: ApprovalRow.insertSQL).execute(arguments: create.row)
            if let idempotency {
                try db.cachedStatement(
                    sql: "INSERT INTO idempotency_key (scope, key, request_digest, approval_id, created_at) VALUES (?, ?, ?, ?, ?)"
                ).execute(
                    arguments: [idempotency.scope, idempotency.key, idempotency.requestDigest, approval.id.rawValue,
                                now.millisecondsSince1970]
                )
            }
            try Self.record(create.effects, at: now, in: db)
            return .created(create.transition)
        }
        if case .created = result, prepared.effects.hasOutboxItems { outboxEnqueued.signal() }
        return result
    }

    /// A creation with everything the writer needs already serialised.
    struct PreparedCreate: Sendable {
        let transition: ApprovalTransition
        let effects: Effects
        let row: StatementArguments

        init(_ change: PlannedChange) {
            transition = change.transition
            effects = Effects(change)
            row = ApprovalRow.arguments(change.transition.after)
        }
    }

    public func approval(_ id: ApprovalID) async throws -> Approval? {
        try await writer.read { db in try Self.fetchApproval(id, in: db) }
    }

    static func fetchApproval(_ id: ApprovalID, in db: Database) throws -> Approval? {
        try Row.fetchOne(db.cachedStatement(sql: ApprovalRow.selectByIDSQL), arguments: [id.rawValue]).map(ApprovalRow.decode)
    }

    public func commit(_ change: PlannedChange) async throws -> Bool {
        let transition = change.transition
        guard let before = transition.before else { return false }
        let after = transition.after
        let now = clock.now
        let effects = Effects(change)
        let newVotes = after.votes.count > before.votes.count ? Array(after.votes[before.votes.count...]) : []
        let withdrawn = zip(before.votes, after.votes).filter { $0.withdrawnAt == nil && $1.withdrawnAt != nil }.map(\.1)
        let decision = after.decision.map(DecisionCoding.encode)
        let amended = after.amendedPayload.map(CanonicalJSON.serialize)
        let breakGlass = before.status == .pending ? NewBreakGlassUse(after, effects: transition.effects) : nil
        let committed = try await write { db in
            // Optimistic concurrency: apply only if nobody changed it since `before` was read: every commit moves
            // `revision` on (a vote that leaves it pending too), and a decision never changes again (the
            // approval_final trigger). Matching it is matching the whole row, without reading and decoding it here, on
            // the writer every commit waits for.
            try db.cachedStatement(
                sql: """
                    UPDATE approval SET status = ?, decision = ?, escalation_level = ?, consumed_at = ?, expires_at = ?,
                        level_started_at = ?, next_deadline = ?, amended_payload = ?, revision = ?
                    WHERE id = ? AND revision = ? AND status = ? AND escalation_level = ? AND consumed_at IS ?
                        AND expires_at = ? AND level_started_at IS ? AND next_deadline IS ?
                    """
            ).execute(
                arguments: [after.status.rawValue, decision, after.escalationLevel,
                            after.consumedAt?.millisecondsSince1970, after.expiresAt.millisecondsSince1970,
                            after.levelStartedAt.millisecondsSince1970, after.nextDeadline.millisecondsSince1970, amended, after.revision,
                            after.id.rawValue, before.revision, before.status.rawValue, before.escalationLevel,
                            before.consumedAt?.millisecondsSince1970, before.expiresAt.millisecondsSince1970,
                            before.levelStartedAt.millisecondsSince1970, before.nextDeadline.millisecondsSince1970]
            )
            guard db.changesCount == 1 else { return false }
            for vote in withdrawn { try VoteRow.withdraw(vote, approvalID: after.id, in: db) }
            // One live vote per person (vote_live): a second vote cannot slip in beside a concurrent one.
            for vote in newVotes { try VoteRow.insert(vote, approvalID: after.id, in: db) }
            try breakGlass?.insert(in: db)
            try Self.record(effects, at: now, in: db)
            return true
        }
        if committed, effects.hasOutboxItems { outboxEnqueued.signal() }
        return committed
    }

    /// The scheduler's two reads. Pinned to the partial index of pending deadlines: without statistics SQLite
    /// prefers `approval_by_status` and would read every pending request at every wake-up, and a missing index
    /// should be an error, not a silent scan.
    static let dueSQL = """
        SELECT \(ApprovalRow.selectColumns) FROM approval INDEXED BY approval_pending_next_deadline
        WHERE status = 'pending' AND next_deadline <= ? ORDER BY next_deadline, seq LIMIT ?
        """
    static let nextDeadlineSQL =
        "SELECT MIN(next_deadline) FROM approval INDEXED BY approval_pending_next_deadline WHERE status = 'pending'"

    public func pendingDue(asOf now: Date, limit: Int) async throws -> [Approval] {
        try await writer.read { db in
            try ApprovalRow.fetchAll(db, sql: Self.dueSQL, arguments: [now.millisecondsSince1970, limit])
        }
    }

    public func nextDeadline() async throws -> Date? {
        try await writer.read { db in
            try Int64.fetchOne(db, sql: Self.nextDeadlineSQL)
                .map(Date.init(millisecondsSince1970:))
        }
    }

    public func append(_ event: AuditEvent) async throws {
        let now = clock.now
        let prepared = AuditLog.Prepared(event)
        try await write { db in try AuditLog.append(prepared, at: now, in: db) }
    }

    /// Newest first. `before` is the cursor of the previous page; the result's `next` that of the following one.
    public func list(_ filter: ApprovalFilter, limit: Int, before: Int64? = nil) async throws -> ApprovalPage {
        try await writer.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let status = filter.status {
                conditions.append("status = ?")
                arguments += [status.rawValue]
            }
            if let gate = filter.gate {
                conditions.append("gate = ?")
                arguments += [gate]
            }
            if let owner = filter.ownerKeyID {
                conditions.append("owner_key_id = ?")
                arguments += [owner]
            }
            if let requester = filter.requester {
                conditions.append("requester = ?")
                arguments += [requester]
            }
            if let text = filter.text {
                // instr, not LIKE: the text's own % and _ are plain characters.
                conditions.append("(instr(lower(action), lower(?)) > 0 OR instr(lower(coalesce(reasoning, '')), lower(?)) > 0)")
                arguments += [text, text]
            }
            if let before {
                conditions.append("seq < ?")
                arguments += [before]
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit + 1]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT seq, \(ApprovalRow.selectColumns) FROM approval \(whereClause) ORDER BY seq DESC LIMIT ?",
                arguments: arguments
            )
            // Decoded as stepped (see `ApprovalRow.fetchAll`); a row past `limit` only says there is a next page.
            var approvals: [Approval] = []
            var lastSeq: Int64?
            while let row = try rows.next() {
                guard approvals.count < limit else { return ApprovalPage(approvals: approvals, next: lastSeq) }
                approvals.append(try ApprovalRow.decode(row))
                lastSeq = row["seq"]
            }
            return ApprovalPage(approvals: approvals, next: nil)
        }
    }

    /// How many approvals there are in each status.
    public func countsByStatus() async throws -> [ApprovalStatus: Int] {
        try await writer.read { db in
            var counts: [ApprovalStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM approval GROUP BY status") {
                if let status = ApprovalStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    /// The pending approvals of each gate: one pass over the pending ones (found by status).
    public func pendingByGate() async throws -> [String: PendingSummary] {
        try await writer.read { db in
            var summaries: [String: PendingSummary] = [:]
            let sql = """
                SELECT gate, COUNT(*) AS n, MIN(created_at) AS oldest FROM approval
                WHERE status = 'pending' GROUP BY gate
                """
            for row in try Row.fetchAll(db, sql: sql) {
                summaries[row["gate"]] = PendingSummary(count: row["n"], oldest: Date(millisecondsSince1970: row["oldest"]))
            }
            return summaries
        }
    }
}

// MARK: - Audit

extension GatehouseDatabase: AuditArchive {
    /// Checks the whole hash chain, and that nothing was cut from its end (see `AuditLog.verify`).
    public func verifyAuditLog(expectedHead: String? = nil) async throws -> AuditVerification {
        try await writer.read { db in try AuditLog.verify(db, expectedHead: expectedHead) }
    }

    /// The newest entry's number and hash: record them to check later that nothing was removed after them.
    public func auditHead() async throws -> (seq: Int64, hash: String)? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").map { ($0["seq"], $0["hash"]) }
        }
    }

    /// Entries in order, optionally from a time on: from the first entry written at or after `since` to the end of the
    /// chain, one unbroken tail even when the clock was stepped back and later entries carry earlier times.
    public func auditEntries(since: Date? = nil, approvalID: ApprovalID? = nil) async throws -> [AuditEntry] {
        try await writer.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let since {
                conditions.append("seq >= (SELECT MIN(seq) FROM audit_log WHERE at >= ?)")
                arguments += [since.millisecondsSince1970]
            }
            if let approvalID {
                conditions.append("approval_id = ?")
                arguments += [approvalID.rawValue]
            }
            let sql = "SELECT * FROM audit_log" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            return try Row.fetchAll(db, sql: sql + " ORDER BY seq", arguments: arguments).map(AuditLog.entry)
        }
    }
}
