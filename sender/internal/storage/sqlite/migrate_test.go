package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// TestMigrateFromFirstSchema opens a database written by the first schema
// (groups as one JSON row, broadcasts fanned out in their own transaction)
// and finds everything in the current one.
func TestMigrateFromFirstSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "minipush.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"PRAGMA journal_mode=WAL",
		migrations[0],
		"PRAGMA user_version = 1",
		`INSERT INTO groups (app, name, members, updated_at) VALUES
			('app1', 'vip', '["u2","u1","u2",""]', 1000), ('app2', 'none', '[]', 2000)`,
		`INSERT INTO broadcasts (id, app, group_name, template_id, data, page, recipients, created_at)
			VALUES ('b1', 'app1', 'vip', 'tpl', '{}', '', 2, 3000)`,
		`INSERT INTO messages (id, app, platform, recipient, template_id, data, broadcast_id, status,
			next_attempt_at, created_at, updated_at, idempotency_key)
			VALUES ('m1', 'app1', 'wechat', 'u1', 'tpl', '{}', 'b1', 'queued', 1, 1, 1, 'k1')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", firstLine(q), err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, members, _, err := s.Group(ctx, "app1", "vip", "", 10)
	if err != nil || g.Size != 2 || !slices.Equal(members, []string{"u1", "u2"}) || g.UpdatedAt.UnixMilli() != 1000 {
		t.Errorf("migrated group = %+v %v, %v; want u1, u2 (repeats and blanks dropped)", g, members, err)
	}
	if g, members, _, err := s.Group(ctx, "app2", "none", "", 10); err != nil || g.Size != 0 || len(members) != 0 {
		t.Errorf("migrated empty group = %+v %v, %v", g, members, err)
	}
	b, counts, err := s.Broadcast(ctx, "b1")
	if err != nil || b.Recipients != 2 || b.FannedOut != 2 || counts["queued"] != 1 {
		t.Errorf("migrated broadcast = %+v %v, %v; want fanned out", b, counts, err)
	}
	if n, more, err := s.FanOut(ctx, 100); n != 0 || more || err != nil {
		t.Errorf("FanOut after migration = %d %v %v; an old broadcast has nothing left to fan out", n, more, err)
	}
	if m, err := s.Get(ctx, "m1"); err != nil || m.IdempotencyKey != "k1" {
		t.Errorf("migrated message = %+v, %v", m, err)
	}
	// Its key still holds, whatever the new request's fingerprint (the
	// old key has none).
	again := message.Message{App: "app1", Platform: "wechat", To: "u9", TemplateID: "tpl", IdempotencyKey: "k1", Fingerprint: "fp"}
	if out, dup, err := s.Enqueue(ctx, []message.Message{again}); err != nil || !dup[0] || out[0].ID != "m1" {
		t.Errorf("the migrated key: %+v %v %v; want m1 back", out, dup, err)
	}
}

// TestMigrateCountsToCode opens a database of schema version 12, whose
// status changes were counted by a trigger, and finds its counts right
// after the upgrade (version 13 drops the trigger; the code counts), and
// still right after claims and outcomes counted the new way.
func TestMigrateCountsToCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "minipush.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{"PRAGMA journal_mode=WAL"}
	steps = append(steps, migrations[:12]...)
	steps = append(steps,
		"PRAGMA user_version = 12",
		// Five messages inserted queued and counted as Enqueue did.
		`INSERT INTO messages (id, app, platform, recipient, template_id, data, status, next_attempt_at, created_at, updated_at)
			VALUES ('m1', 'app1', 'wechat', 'u1', 'tpl', '{}', 'queued', 1, 1, 1),
			('m2', 'app1', 'wechat', 'u2', 'tpl', '{}', 'queued', 1, 1, 1),
			('m3', 'app1', 'wechat', 'u3', 'tpl', '{}', 'queued', 1, 1, 1),
			('m4', 'app1', 'wechat', 'u4', 'tpl', '{}', 'queued', 1, 1, 1),
			('m5', 'app1', 'wechat', 'u5', 'tpl', '{}', 'queued', 1, 1, 1)`,
		`UPDATE status_counts SET n = n + 5 WHERE status = 'queued'`,
		// Moved by the old build: its trigger counted these.
		`UPDATE messages SET status = 'delivered' WHERE id = 'm1'`,
		`UPDATE messages SET status = 'failed' WHERE id = 'm2'`,
	)
	for _, q := range steps {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", firstLine(q), err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var triggers int
	if err := s.rdb.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_count_update'`).
		Scan(&triggers); err != nil || triggers != 0 {
		t.Errorf("messages_count_update after the upgrade: %d, %v; want dropped", triggers, err)
	}
	want := map[message.Status]int{message.StatusQueued: 3, message.StatusDelivered: 1, message.StatusFailed: 1}
	check := func(step string) {
		t.Helper()
		got, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range message.Statuses {
			if got[st] != want[st] {
				t.Errorf("%s: Counts[%s] = %d, want %d (all: %v)", step, st, got[st], want[st], got)
			}
		}
	}
	check("upgraded")
	claimed, err := s.Claim(ctx, time.UnixMilli(10), 2, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("Claim: %d, %v; want 2", len(claimed), err)
	}
	want[message.StatusQueued], want[message.StatusSending] = 1, 2
	check("claimed")
	if err := s.Record(ctx, claimed[0].ID, claimed[0].Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redrive(ctx, "m2", time.UnixMilli(20)); err != nil {
		t.Fatal(err)
	}
	want[message.StatusSending], want[message.StatusDelivered] = 1, 2
	want[message.StatusFailed], want[message.StatusQueued] = 0, 2
	check("recorded and redriven")
}
