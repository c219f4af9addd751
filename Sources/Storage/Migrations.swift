import GRDB

/// The schema, as named append-only migrations: never edit one that has landed; add a new one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-approvals-audit-outbox-keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE approval (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE CHECK (id LIKE 'apr_%'),
                        status TEXT NOT NULL
                            CHECK (status IN ('pending', 'approved', 'modified', 'rejected', 'expired', 'cancelled')),
                        action TEXT NOT NULL CHECK (action <> ''),
                        payload TEXT NOT NULL CHECK (json_valid(payload) AND json_type(payload) = 'object'),
                        payload_sha256 TEXT NOT NULL CHECK (length(payload_sha256) = 64),
                        reasoning TEXT,
                        consequences TEXT,
                        on_reject TEXT,
                        risk TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high', 'critical')),
                        gate TEXT NOT NULL CHECK (gate <> ''),
                        requester TEXT,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL CHECK (expires_at > created_at),
                        escalation_level INTEGER NOT NULL DEFAULT 1 CHECK (escalation_level >= 1),
                        decision TEXT CHECK (decision IS NULL OR json_valid(decision)),
                        callback_url TEXT,
                        owner_key TEXT,
                        consumed_at INTEGER,
                        CHECK ((status = 'pending') = (decision IS NULL)),
                        CHECK (consumed_at IS NULL OR status IN ('approved', 'modified'))
                    );
                    CREATE INDEX approval_pending_deadline ON approval(expires_at) WHERE status = 'pending';
                    CREATE INDEX approval_by_status ON approval(status, seq);
                    CREATE INDEX approval_by_gate ON approval(gate, seq);
                    CREATE INDEX approval_by_owner ON approval(owner_key, seq);

                    -- A decided approval is final: only consumed_at may still be set, once.
                    CREATE TRIGGER approval_final BEFORE UPDATE ON approval
                    WHEN OLD.status <> 'pending' AND (
                        NEW.status IS NOT OLD.status OR NEW.decision IS NOT OLD.decision
                        OR NEW.payload IS NOT OLD.payload OR NEW.id IS NOT OLD.id
                        OR (OLD.consumed_at IS NOT NULL AND NEW.consumed_at IS NOT OLD.consumed_at))
                    BEGIN SELECT RAISE(ABORT, 'approval is final'); END;
                    CREATE TRIGGER approval_no_delete BEFORE DELETE ON approval
                    BEGIN SELECT RAISE(ABORT, 'approvals are never deleted'); END;

                    CREATE TABLE vote (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        approval_id TEXT NOT NULL REFERENCES approval(id),
                        voter TEXT NOT NULL,
                        voter_name TEXT,
                        verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'modify')),
                        reason TEXT,
                        reason_code TEXT,
                        payload_sha256 TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        UNIQUE (approval_id, voter)
                    );

                    CREATE TABLE idempotency_key (
                        scope TEXT NOT NULL,
                        key TEXT NOT NULL,
                        request_digest TEXT NOT NULL,
                        approval_id TEXT NOT NULL REFERENCES approval(id),
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (scope, key)
                    );

                    CREATE TABLE audit_log (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        approval_id TEXT,
                        actor TEXT NOT NULL,
                        details TEXT NOT NULL,
                        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                        hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
                    );
                    CREATE INDEX audit_by_approval ON audit_log(approval_id) WHERE approval_id IS NOT NULL;
                    CREATE INDEX audit_by_time ON audit_log(at);
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        approval_id TEXT REFERENCES approval(id),
                        ordering_key TEXT,
                        payload TEXT NOT NULL CHECK (json_valid(payload)),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        created_at INTEGER NOT NULL,
                        next_attempt_at INTEGER NOT NULL,
                        claimed INTEGER NOT NULL DEFAULT 0 CHECK (claimed IN (0, 1)),
                        last_error TEXT,
                        done_at INTEGER,
                        failed_at INTEGER
                    );
                    CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE done_at IS NULL AND failed_at IS NULL;
                    CREATE INDEX outbox_by_ordering_key ON outbox(ordering_key, id)
                        WHERE done_at IS NULL AND failed_at IS NULL;

                    CREATE TABLE api_key (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL CHECK (name <> ''),
                        scope TEXT NOT NULL CHECK (scope IN ('request', 'decide', 'admin')),
                        key_sha256 TEXT NOT NULL UNIQUE CHECK (length(key_sha256) = 64),
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE UNIQUE INDEX api_key_active_name ON api_key(name) WHERE revoked_at IS NULL;
                    """
            )
        }
        migrator.registerMigration("v2-slack-messages") { db in
            try db.execute(
                sql: """
                    -- Slack's side of an approval: every message posted about it, so each can be updated.
                    CREATE TABLE slack_message (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        approval_id TEXT NOT NULL REFERENCES approval(id),
                        kind TEXT NOT NULL CHECK (kind IN ('channel', 'dm', 'thread')),
                        channel TEXT NOT NULL,
                        ts TEXT NOT NULL,
                        recipient TEXT,
                        permalink TEXT,
                        posted_at INTEGER NOT NULL,
                        UNIQUE (channel, ts)
                    );
                    CREATE UNIQUE INDEX slack_message_main ON slack_message(approval_id) WHERE kind = 'channel';
                    CREATE INDEX slack_message_by_approval ON slack_message(approval_id);
                    """
            )
        }
        migrator.registerMigration("v3-escalation-chains-admins") { db in
            try db.execute(
                sql: """
                    -- Escalation chains by name (a request's `gate`), as JSON; requests keep their own snapshot.
                    CREATE TABLE chain (
                        name TEXT PRIMARY KEY CHECK (name <> ''),
                        definition TEXT NOT NULL CHECK (json_valid(definition) AND json_type(definition) = 'object'),
                        updated_at INTEGER NOT NULL,
                        updated_by TEXT NOT NULL
                    );
                    -- Admins added from Slack; those in GATEHOUSE_ADMINS are admins too.
                    CREATE TABLE admin (
                        user_id TEXT PRIMARY KEY CHECK (user_id <> ''),
                        added_by TEXT NOT NULL,
                        added_at INTEGER NOT NULL
                    );

                    -- Each request's chain snapshot (NULL: the default chain), when its level started, and when the
                    -- scheduler must look at it next: the level's SLA or expires_at, whichever comes first.
                    ALTER TABLE approval ADD COLUMN chain TEXT CHECK (chain IS NULL OR json_valid(chain));
                    ALTER TABLE approval ADD COLUMN level_started_at INTEGER;
                    ALTER TABLE approval ADD COLUMN next_deadline INTEGER;
                    UPDATE approval SET level_started_at = created_at, next_deadline = expires_at;
                    CREATE INDEX approval_pending_next_deadline ON approval(next_deadline, seq) WHERE status = 'pending';
                    DROP INDEX approval_pending_deadline;

                    -- The escalation step (outbox item) a thread reply or DM was posted for, so a retried step
                    -- never posts twice what it already posted.
                    ALTER TABLE slack_message ADD COLUMN outbox_item INTEGER;
                    CREATE INDEX slack_message_by_step ON slack_message(outbox_item) WHERE outbox_item IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("v4-audit-log-without-hash-index") { db in
            // The UNIQUE on `hash` kept an index no query reads (verification walks by `seq`, and each hash covers its
            // `seq`, so no two can be equal), on random keys: every audit entry dirtied a page of its own in it. SQLite
            // cannot drop a UNIQUE constraint, so the table is copied, entries and their hashes untouched. The
            // implicit delete of DROP TABLE fires no trigger; the triggers are made again on the new table.
            try db.execute(
                sql: """
                    CREATE TABLE audit_log_v4 (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        approval_id TEXT,
                        actor TEXT NOT NULL,
                        details TEXT NOT NULL,
                        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                        hash TEXT NOT NULL CHECK (length(hash) = 64)
                    );
                    INSERT INTO audit_log_v4 (seq, at, kind, approval_id, actor, details, prev_hash, hash)
                        SELECT seq, at, kind, approval_id, actor, details, prev_hash, hash FROM audit_log ORDER BY seq;
                    DROP TABLE audit_log;
                    ALTER TABLE audit_log_v4 RENAME TO audit_log;
                    CREATE INDEX audit_by_approval ON audit_log(approval_id) WHERE approval_id IS NOT NULL;
                    CREATE INDEX audit_by_time ON audit_log(at);
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """
            )
        }
        migrator.registerMigration("v5-dm-headers-and-reminders") { db in
            try db.execute(
                sql: """
                    -- Why a DM was sent ("No decision after 30m; escalated to level 2 of 3: …"), kept at its top
                    -- whenever it is updated; and whether it follows the request's state at all: a reminder sent when
                    -- a held request asks again carries no buttons and is never updated.
                    ALTER TABLE slack_message ADD COLUMN header TEXT;
                    ALTER TABLE slack_message ADD COLUMN follows_state INTEGER NOT NULL DEFAULT 1;
                    UPDATE slack_message SET follows_state = 0 WHERE kind = 'thread';
                    """
            )
        }
        migrator.registerMigration("v6-slack-message-digests") { db in
            try db.execute(
                sql: """
                    -- What a message shows now, as the SHA-256 of its text and blocks, so an update that would send
                    -- the same content again is skipped. NULL (messages posted before this column): unknown, updated.
                    ALTER TABLE slack_message ADD COLUMN shown_sha256 TEXT;
                    """
            )
        }
        migrator.registerMigration("v7-key-identity") { db in
            try db.execute(
                sql: """
                    -- A key's requests belong to its identity, not its name: a name used again after its key was revoked
                    -- is a stranger to the old key's requests. Each request filed before is given the key of that name
                    -- that was active when it was filed.
                    ALTER TABLE approval ADD COLUMN owner_key_id INTEGER REFERENCES api_key(id);
                    UPDATE approval SET owner_key_id = (
                        SELECT k.id FROM api_key k
                        WHERE k.name = approval.owner_key AND k.created_at <= approval.created_at
                          AND (k.revoked_at IS NULL OR k.revoked_at >= approval.created_at)
                        ORDER BY k.id DESC LIMIT 1)
                    WHERE owner_key IS NOT NULL;
                    CREATE INDEX approval_by_owner_id ON approval(owner_key_id, seq);
                    DROP INDEX approval_by_owner;
                    -- Idempotency keys are kept per key identity too.
                    UPDATE idempotency_key SET scope = 'key#' || (
                        SELECT owner_key_id FROM approval WHERE approval.id = idempotency_key.approval_id)
                    WHERE (SELECT owner_key_id FROM approval WHERE approval.id = idempotency_key.approval_id) IS NOT NULL;
                    -- The one person a decide key decides for, when it was created for one.
                    ALTER TABLE api_key ADD COLUMN bound_to TEXT CHECK (bound_to IS NULL OR bound_to <> '');
                    """
            )
        }
        migrator.registerMigration("v8-slack-signatures") { db in
            try db.execute(
                sql: """
                    -- Slack signatures accepted and still within Slack's window: a request sent again is a replay.
                    CREATE TABLE slack_signature (
                        signature TEXT PRIMARY KEY CHECK (signature <> ''),
                        expires_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX slack_signature_by_expiry ON slack_signature(expires_at);
                    """
            )
        }
        migrator.registerMigration("v9-storage-probe") { db in
            // Written to and emptied again while writes fail for lack of space, to notice when they succeed.
            try db.execute(sql: "CREATE TABLE storage_probe (id INTEGER PRIMARY KEY, filler BLOB NOT NULL)")
        }
        migrator.registerMigration("v10-policies-quorum-break-glass") { db in
            try db.execute(
                sql: """
                    -- The policy rule a request matched at submit (NULL: none), the payload a Modify put to the vote
                    -- under a quorum, and a counter of committed changes (a vote that leaves it pending moves it too).
                    ALTER TABLE approval ADD COLUMN policy TEXT CHECK (policy IS NULL OR json_valid(policy));
                    ALTER TABLE approval ADD COLUMN amended_payload TEXT
                        CHECK (amended_payload IS NULL OR (json_valid(amended_payload) AND json_type(amended_payload) = 'object'));
                    ALTER TABLE approval ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
                    -- `new_action`: was this action ever approved on this gate?
                    CREATE INDEX approval_approved_actions ON approval(gate, action) WHERE status IN ('approved', 'modified');

                    -- Votes carry the roles the voter held; a Modify withdraws earlier approvals, after which the same
                    -- person may vote again, so one live vote per person rather than one row.
                    CREATE TABLE vote_v10 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        approval_id TEXT NOT NULL REFERENCES approval(id),
                        voter TEXT NOT NULL,
                        voter_name TEXT,
                        verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'modify')),
                        reason TEXT,
                        reason_code TEXT,
                        payload_sha256 TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        roles TEXT CHECK (roles IS NULL OR json_valid(roles)),
                        withdrawn_at INTEGER
                    );
                    INSERT INTO vote_v10 (id, approval_id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at)
                        SELECT id, approval_id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at FROM vote;
                    DROP TABLE vote;
                    ALTER TABLE vote_v10 RENAME TO vote;
                    CREATE INDEX vote_by_approval ON vote(approval_id);
                    CREATE UNIQUE INDEX vote_live ON vote(approval_id, voter) WHERE withdrawn_at IS NULL;
                    CREATE TRIGGER vote_final BEFORE UPDATE ON vote
                    WHEN OLD.withdrawn_at IS NOT NULL OR NEW.verdict IS NOT OLD.verdict OR NEW.voter IS NOT OLD.voter
                        OR NEW.payload_sha256 IS NOT OLD.payload_sha256
                    BEGIN SELECT RAISE(ABORT, 'a vote is only ever withdrawn'); END;
                    CREATE TRIGGER vote_no_delete BEFORE DELETE ON vote
                    BEGIN SELECT RAISE(ABORT, 'votes are never deleted'); END;

                    -- The policy set (roles, rules, break_glass) as one JSON document; `version` moves on each change.
                    CREATE TABLE policy_set (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        definition TEXT NOT NULL CHECK (json_valid(definition)),
                        version INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        updated_by TEXT NOT NULL
                    );

                    ALTER TABLE api_key ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0 CHECK (break_glass IN (0, 1));

                    -- Each break-glass approval, its loud post, and its review by an admin.
                    CREATE TABLE break_glass (
                        approval_id TEXT PRIMARY KEY REFERENCES approval(id),
                        by_actor TEXT NOT NULL,
                        by_name TEXT,
                        at INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        over_limit INTEGER NOT NULL CHECK (over_limit IN (0, 1)),
                        reviewed_by TEXT,
                        reviewed_at INTEGER,
                        reminded_at INTEGER,
                        post_channel TEXT,
                        post_ts TEXT
                    );
                    CREATE INDEX break_glass_by_actor ON break_glass(by_actor, at);
                    CREATE INDEX break_glass_unreviewed ON break_glass(at) WHERE reviewed_at IS NULL;
                    """
            )
        }
        migrator.registerMigration("v11-web-sessions") { db in
            try db.execute(
                sql: """
                    -- One-time sign-in links for the web page: only the token's SHA-256 is kept; each is used once.
                    CREATE TABLE web_login_link (
                        token_sha256 TEXT PRIMARY KEY CHECK (length(token_sha256) = 64),
                        person TEXT NOT NULL CHECK (person <> ''),
                        scope TEXT NOT NULL CHECK (scope IN ('decide', 'admin')),
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL CHECK (expires_at > created_at),
                        used_at INTEGER
                    );
                    -- Web sessions: the cookie's SHA-256, and the form token sent back with every change.
                    CREATE TABLE web_session (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        secret_sha256 TEXT NOT NULL UNIQUE CHECK (length(secret_sha256) = 64),
                        person TEXT NOT NULL CHECK (person <> ''),
                        scope TEXT NOT NULL CHECK (scope IN ('decide', 'admin')),
                        csrf_token TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL,
                        ended_at INTEGER
                    );
                    CREATE INDEX web_session_by_person ON web_session(person) WHERE ended_at IS NULL;
                    """
            )
        }
        migrator.registerMigration("v12-key-last-used") { db in
            // Written once a minute from memory (KeyUsage), never per request.
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN last_used_at INTEGER")
        }
        migrator.registerMigration("v13-contact-requests") { db in
            try db.execute(
                sql: """
                    -- Questions agents ask people (HumanLayer's contact requests): one per key and call_id, answered
                    -- once. `chain` is who may answer (the default gate's chain when it was asked); the Slack message
                    -- it was posted as is kept beside it, as break-glass posts are.
                    CREATE TABLE contact_request (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE CHECK (id LIKE 'hc_%'),
                        owner_key TEXT NOT NULL CHECK (owner_key <> ''),
                        owner_key_id INTEGER NOT NULL REFERENCES api_key(id),
                        run_id TEXT NOT NULL CHECK (run_id <> ''),
                        call_id TEXT NOT NULL CHECK (call_id <> ''),
                        request_digest TEXT NOT NULL CHECK (length(request_digest) = 64),
                        msg TEXT NOT NULL CHECK (msg <> ''),
                        subject TEXT,
                        response_options TEXT NOT NULL
                            CHECK (json_valid(response_options) AND json_type(response_options) = 'array'),
                        spec TEXT NOT NULL CHECK (json_valid(spec) AND json_type(spec) = 'object'),
                        chain TEXT NOT NULL CHECK (json_valid(chain)),
                        created_at INTEGER NOT NULL,
                        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'answered')),
                        response TEXT,
                        response_option_name TEXT,
                        answered_by TEXT,
                        answered_by_name TEXT,
                        answered_at INTEGER,
                        slack_channel TEXT,
                        slack_ts TEXT,
                        UNIQUE (owner_key_id, call_id),
                        CHECK ((state = 'answered') = (response IS NOT NULL AND answered_by IS NOT NULL AND answered_at IS NOT NULL))
                    );
                    CREATE INDEX contact_request_pending ON contact_request(seq) WHERE state = 'pending';
                    CREATE INDEX contact_request_by_call ON contact_request(call_id, seq);
                    -- An answer is final, and the question never changes.
                    CREATE TRIGGER contact_request_final BEFORE UPDATE ON contact_request
                    WHEN OLD.state = 'answered' AND (
                        NEW.state IS NOT OLD.state OR NEW.response IS NOT OLD.response
                        OR NEW.response_option_name IS NOT OLD.response_option_name
                        OR NEW.answered_by IS NOT OLD.answered_by OR NEW.answered_at IS NOT OLD.answered_at)
                        OR NEW.msg IS NOT OLD.msg OR NEW.spec IS NOT OLD.spec OR NEW.call_id IS NOT OLD.call_id
                        OR NEW.owner_key_id IS NOT OLD.owner_key_id
                    BEGIN SELECT RAISE(ABORT, 'a contact request is answered once and never changes'); END;
                    CREATE TRIGGER contact_request_no_delete BEFORE DELETE ON contact_request
                    BEGIN SELECT RAISE(ABORT, 'contact requests are never deleted'); END;

                    -- Function calls are approvals filed under their call_id as an idempotency key: found by approval too.
                    -- (and by call_id alone, for a decide key answering another key's call).
                    CREATE INDEX idempotency_key_by_approval ON idempotency_key(approval_id);
                    CREATE INDEX idempotency_key_by_key ON idempotency_key(key);
                    """
            )
        }
        return migrator
    }
}
