package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; PRAGMA user_version records how many
// ran. Append new ones, never edit a released one.
//
// Times are Unix milliseconds (0 = unset). messages.seq is the insertion
// order List pages by: an explicit INTEGER PRIMARY KEY, because an implicit
// rowid may be renumbered by VACUUM and would break cursors.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE broadcasts (
	id          TEXT PRIMARY KEY,
	app         TEXT NOT NULL,
	group_name  TEXT NOT NULL DEFAULT '',
	template_id TEXT NOT NULL,
	data        TEXT NOT NULL,          -- JSON object
	page        TEXT NOT NULL DEFAULT '',
	recipients  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
);

CREATE TABLE messages (
	seq             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	app             TEXT NOT NULL,
	platform        TEXT NOT NULL,
	recipient       TEXT NOT NULL,      -- Message.To ("to" is an SQL keyword)
	template_id     TEXT NOT NULL,
	data            TEXT NOT NULL,      -- JSON object
	page            TEXT NOT NULL DEFAULT '',
	idempotency_key TEXT NOT NULL DEFAULT '',
	broadcast_id    TEXT REFERENCES broadcasts(id), -- NULL: not part of one
	status          TEXT NOT NULL,
	retries         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	lease_until     INTEGER NOT NULL DEFAULT 0,
	platform_msgid  TEXT NOT NULL DEFAULT '',
	last_code       TEXT NOT NULL DEFAULT '',
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);

-- Idempotency: one message per (app, key); messages without a key stay out
-- of the index.
CREATE UNIQUE INDEX messages_idempotency ON messages(app, idempotency_key)
	WHERE idempotency_key <> '';

-- Claim: two partial indexes, each an ordered range scan that stops after
-- LIMIT rows however long the backlog. A plain (status, next_attempt_at)
-- index would make "status IN (queued, retrying) ORDER BY next_attempt_at"
-- read and sort every due row.
CREATE INDEX messages_due ON messages(next_attempt_at)
	WHERE status IN ('queued', 'retrying');
CREATE INDEX messages_lease ON messages(lease_until)
	WHERE status = 'sending';

-- Counts and List: an index on a column ends in seq, so "col = ? ORDER BY
-- seq DESC" reads rows in page order.
CREATE INDEX messages_status ON messages(status);
CREATE INDEX messages_app ON messages(app);
-- Broadcasts: pages of one broadcast in seq order, and progress counts
-- from an index alone. Partial: single messages pay for neither.
CREATE INDEX messages_broadcast ON messages(broadcast_id)
	WHERE broadcast_id IS NOT NULL;
CREATE INDEX messages_broadcast_status ON messages(broadcast_id, status)
	WHERE broadcast_id IS NOT NULL;

CREATE TABLE attempts (
	message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	n          INTEGER NOT NULL,        -- 1, 2, … per message
	at         INTEGER NOT NULL,
	outcome    TEXT NOT NULL,
	code       TEXT NOT NULL DEFAULT '',
	message    TEXT NOT NULL DEFAULT '',
	latency_ms REAL NOT NULL DEFAULT 0,
	PRIMARY KEY (message_id, n)
) WITHOUT ROWID;

CREATE TABLE groups (
	app        TEXT NOT NULL,
	name       TEXT NOT NULL,
	members    TEXT NOT NULL,           -- JSON array
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (app, name)
) WITHOUT ROWID;

CREATE TABLE tokens (
	key     TEXT PRIMARY KEY,
	token   TEXT NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
`,
	// 2: the fencing token. claims counts the claims of a message; Claim
	// returns it as Lease.Fence and Record only applies under the current
	// one (docs/delivery.md).
	`ALTER TABLE messages ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;`,
	// 3: groups as rows, written and read in chunks; group broadcasts
	// fanned out in the background (docs/delivery.md).
	//
	// A PUT writes the members under a new version (state staging), then
	// points the group at it and retires the old one; retired versions
	// are swept once no broadcast still fans out from them. A broadcast
	// to a group keeps the version it was made to.
	`
CREATE TABLE group_versions (
	version INTEGER PRIMARY KEY AUTOINCREMENT,
	app     TEXT NOT NULL,
	name    TEXT NOT NULL,
	state   TEXT NOT NULL             -- staging, current or retired
);
CREATE INDEX group_versions_retired ON group_versions(version) WHERE state = 'retired';
CREATE TABLE group_members (
	version INTEGER NOT NULL,
	member  TEXT NOT NULL,
	PRIMARY KEY (version, member)
) WITHOUT ROWID;

INSERT INTO group_versions (app, name, state) SELECT app, name, 'current' FROM groups ORDER BY app, name;
INSERT OR IGNORE INTO group_members (version, member)
	SELECT v.version, j.value FROM groups g
	JOIN group_versions v ON v.app = g.app AND v.name = g.name, json_each(g.members) j
	WHERE j.value <> '';
CREATE TABLE group_heads (
	app        TEXT NOT NULL,
	name       TEXT NOT NULL,
	version    INTEGER NOT NULL,      -- the members in effect
	size       INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (app, name)
) WITHOUT ROWID;
INSERT INTO group_heads (app, name, version, size, updated_at)
	SELECT g.app, g.name, v.version, (SELECT COUNT(*) FROM group_members m WHERE m.version = v.version), g.updated_at
	FROM groups g JOIN group_versions v ON v.app = g.app AND v.name = g.name;
DROP TABLE groups;
ALTER TABLE group_heads RENAME TO groups;

ALTER TABLE broadcasts ADD COLUMN platform TEXT NOT NULL DEFAULT '';
ALTER TABLE broadcasts ADD COLUMN due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN group_version INTEGER NOT NULL DEFAULT 0;
-- NULL once the fan-out is complete; else the last member fanned out
-- ('' before the first).
ALTER TABLE broadcasts ADD COLUMN fanout_after TEXT;
ALTER TABLE broadcasts ADD COLUMN fanned_out INTEGER NOT NULL DEFAULT 0;
UPDATE broadcasts SET fanned_out = recipients;
CREATE INDEX broadcasts_fanout ON broadcasts(created_at, id) WHERE fanout_after IS NOT NULL;
`,
	// 4: facts about the database itself: its id (also in the marker
	// file beside it), when it was created, the heartbeat write.
	`CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;`,
	// 5: idempotency keys of every kind in one table, with the
	// fingerprint of the request that used them and an age to expire them
	// by (docs/delivery.md). Messages' keys move over from the unique
	// index, fingerprint unknown ('', which matches any).
	`
CREATE TABLE idempotency (
	scope       TEXT NOT NULL,        -- kind/app: message/shop, broadcast/shop, group/shop
	key         TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	ref         TEXT NOT NULL,        -- what the first request made: a message or broadcast id, a group's answer
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_age ON idempotency(created_at);
INSERT OR IGNORE INTO idempotency (scope, key, fingerprint, ref, created_at)
	SELECT 'message/' || app, idempotency_key, '', id, created_at FROM messages WHERE idempotency_key <> '';
DROP INDEX messages_idempotency;
ALTER TABLE broadcasts ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
`,
	// 6: platform events, the consent ledger, receipts and a message's
	// reason (issue 10, docs/events.md).
	`
ALTER TABLE messages ADD COLUMN reason TEXT NOT NULL DEFAULT '';
-- A receipt names its message by the platform's msgid.
CREATE INDEX messages_platform_msgid ON messages(app, platform_msgid)
	WHERE platform_msgid <> '';

-- Receipts are kept apart from messages: the platform's report may arrive
-- before the send's outcome (and its msgid) is written.
CREATE TABLE receipts (
	app            TEXT NOT NULL,
	platform_msgid TEXT NOT NULL,
	status         TEXT NOT NULL,
	error_code     TEXT NOT NULL DEFAULT '',
	error_status   TEXT NOT NULL DEFAULT '',
	at             INTEGER NOT NULL,
	PRIMARY KEY (app, platform_msgid)
) WITHOUT ROWID;
CREATE INDEX receipts_status ON receipts(status);

CREATE TABLE events (
	seq          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE,
	app          TEXT NOT NULL,
	platform     TEXT NOT NULL,
	dedupe_key   TEXT NOT NULL,
	name         TEXT NOT NULL,
	user_id      TEXT NOT NULL DEFAULT '',
	payload      BLOB NOT NULL,
	received_at  INTEGER NOT NULL,
	processed_at INTEGER NOT NULL DEFAULT 0,
	result       TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX events_dedupe ON events(app, dedupe_key);
CREATE INDEX events_pending ON events(seq) WHERE processed_at = 0;
CREATE INDEX events_processed ON events(received_at) WHERE processed_at <> 0;

CREATE TABLE consents (
	app         TEXT NOT NULL,
	user_id     TEXT NOT NULL,
	template_id TEXT NOT NULL,
	credits     INTEGER NOT NULL,
	long_term   INTEGER NOT NULL,
	rejected    INTEGER NOT NULL,
	source      TEXT NOT NULL,
	accepts     INTEGER NOT NULL,
	rejects     INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (app, user_id, template_id)
) WITHOUT ROWID;
`,
	// 7: the number of messages per status, kept in the transaction of
	// every change: /metrics and Counts read six rows, not the messages
	// table (issue 9: a scrape counting 1,000,000 rows took 190 ms).
	// Status changes and deletions by triggers, so that none is missed
	// whoever writes it; inserts by the code that makes them (below).
	// Version 13 drops the status-change trigger: moves are counted by
	// the code that makes them too.
	`
CREATE TABLE status_counts (
	status TEXT PRIMARY KEY,
	n      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO status_counts (status, n) VALUES
	('queued', 0), ('sending', 0), ('delivered', 0), ('retrying', 0), ('failed', 0), ('rejected', 0);
UPDATE status_counts SET n = (SELECT COUNT(*) FROM messages WHERE messages.status = status_counts.status);
-- New rows are counted by the two code paths that insert them, Enqueue and
-- the fan-out, one statement per status for all their rows
-- (messages.go, broadcast.go): an insert trigger, even one that does
-- nothing for most rows, cost a fan-out 16 % more CPU.
CREATE TRIGGER messages_count_update AFTER UPDATE OF status ON messages WHEN OLD.status <> NEW.status BEGIN
	UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
	UPDATE status_counts SET n = n + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
	UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
END;
`,
	// 8: operator control (issue 11): a message's send_at as asked and
	// the API key that sent it, the held mark of messages an app's pause
	// put back, each attempt's kind (send, token_refresh) and reason, and
	// the apps' pauses.
	`
ALTER TABLE messages ADD COLUMN send_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN api_key TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
-- Resume: the messages an app's pause holds.
CREATE INDEX messages_held ON messages(app) WHERE held = 1;
ALTER TABLE broadcasts ADD COLUMN api_key TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN kind TEXT NOT NULL DEFAULT 'send';
ALTER TABLE attempts ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE TABLE app_pauses (
	app     TEXT PRIMARY KEY,
	until   INTEGER NOT NULL,
	reason  TEXT NOT NULL,
	code    TEXT NOT NULL DEFAULT '',
	message TEXT NOT NULL DEFAULT '',
	since   INTEGER NOT NULL
) WITHOUT ROWID;
-- The new status is counted like the others (schema version 7).
INSERT INTO status_counts (status, n) VALUES ('cancelled', 0);
`,
	// 9: campaign rules (issue 16, docs/campaigns.md): why the sender held
	// a message and which message a duplicate repeats; the dedup entries
	// and the frequency-cap counts Enqueue checks and writes in its
	// transaction.
	`
ALTER TABLE messages ADD COLUMN held_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '';
CREATE TABLE campaign_dedup (
	app        TEXT NOT NULL,
	key        TEXT NOT NULL,
	message_id TEXT NOT NULL,
	until      INTEGER NOT NULL,
	PRIMARY KEY (app, key)
) WITHOUT ROWID;
CREATE INDEX campaign_dedup_until ON campaign_dedup(until);
CREATE TABLE campaign_counts (
	app   TEXT NOT NULL,
	key   TEXT NOT NULL,
	n     INTEGER NOT NULL,
	until INTEGER NOT NULL,
	PRIMARY KEY (app, key)
) WITHOUT ROWID;
CREATE INDEX campaign_counts_until ON campaign_counts(until);
`,
	// 10: result webhooks (issue 11, docs/webhooks.md): the outbox of
	// events and their delivery log. Triggers (webhooks.go, made by
	// SetWebhookScope while some app or key has a webhook) write an event in
	// the very statement that changes a message's status to a final one,
	// or its receipt. Deliveries go with their message (retention).
	`
CREATE TABLE webhook_scope (
	kind TEXT NOT NULL,                 -- app or key
	name TEXT NOT NULL,
	PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE webhook_deliveries (
	seq             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,  -- <message id>.<n>
	message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	app             TEXT NOT NULL,
	api_key         TEXT NOT NULL DEFAULT '',
	event           TEXT NOT NULL,
	message_status  TEXT NOT NULL,
	reason          TEXT NOT NULL DEFAULT '',
	code            TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL DEFAULT 'pending',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	window_at       INTEGER NOT NULL DEFAULT 0, -- when its retry window began: created, or redelivered
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries(message_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_status ON webhook_deliveries(status);
CREATE TABLE webhook_attempts (
	delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	latency_ms  REAL NOT NULL,
	PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;
`,
	// 11: CSV audiences and recurring schedules (issue 16,
	// docs/campaigns.md): a group member's own keyword values (JSON, NULL
	// for none), the report of the CSV upload that wrote a group, and the
	// schedules, each one JSON document with its run history (claims are
	// read-modify-writes in the writer's transaction).
	`
ALTER TABLE group_members ADD COLUMN data TEXT;
ALTER TABLE groups ADD COLUMN report TEXT;
CREATE TABLE schedules (
	id  TEXT PRIMARY KEY,
	app TEXT NOT NULL,
	doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX schedules_app ON schedules(app, id);
`,
	// 12: the list of broadcasts (GET /v1/broadcasts, issue 16), newest
	// first, of every app or of one: an ordered range read of an index
	// that stops after a page, never a walk of the broadcasts or their
	// messages.
	`
CREATE INDEX broadcasts_created ON broadcasts(created_at, id);
CREATE INDEX broadcasts_app_created ON broadcasts(app, created_at, id);
`,
	// 13: status changes counted by the code that makes them (issue 15):
	// claims, outcomes, cancels and redrives add up their moves per status
	// and write status_counts once per batch before its COMMIT
	// (writer.countMove, flushCounts), as inserts already were. The
	// trigger cost every status change two more UPDATEs and a statement
	// journal — a claimed message twice. The counts themselves are right
	// before and after: nothing to recount. Deletions keep their trigger
	// (retention, a step of the bulk lane).
	`DROP TRIGGER messages_count_update;`,
	// 14: campaign rules at a group's fan-out (docs/campaigns.md): a
	// broadcast's own dedup key and window (JSON, '' for none), read by
	// FanOut for each member.
	`
ALTER TABLE broadcasts ADD COLUMN dedup TEXT NOT NULL DEFAULT '';
`,
	// 15: the web console's sign-in sessions (storage.Sessions), so that
	// every process on the file knows them: by the SHA-256 of the
	// cookie's value (never the cookie), with the key's name, the CSRF
	// token and the expiry (Unix ms) a put sweeps by.
	`
CREATE TABLE console_sessions (
	hash       BLOB PRIMARY KEY,
	key_name   TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_expires ON console_sessions(expires_at);
`,
}

// migrate brings the schema to the latest version in one transaction. The
// version is read under the write lock, so two processes opening a fresh
// file cannot both run a migration. A database written by a newer build is
// refused rather than misread.
func migrate(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var version int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this build knows (%d)", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	if version < len(migrations) {
		// PRAGMA takes no bound parameters; the value is our own integer.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}
