package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
	"github.com/minipush/minipush/sender/internal/storage/sqlite/sqlitetest"
)

// plan is EXPLAIN QUERY PLAN of q, one line per step.
func plan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

// The sixth defect: anonymous /readyz and /metrics counted every
// row (190 ms at a million). Now the counts /metrics reads are kept as
// messages change, and /readyz reads no storage at all (Writable is
// memory). On a database of many rows the counts query reads the six rows
// of status_counts — no scan of messages — and agrees with a real count
// after writes through every path.
func TestProbesScanNoMessages(t *testing.T) {
	t.Parallel()
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 50_000
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "minipush.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sqlitetest.Preload(t, path, n)
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	p := plan(t, sqlite.ReadDB(s), sqlite.SQLCounts)
	if strings.Contains(p, "messages") {
		t.Errorf("the counts query reads messages:\n%s", p)
	}

	// Writes through every path that changes a status or adds a row.
	if _, _, err := s.Enqueue(ctx, []message.Message{{App: "app1", Platform: "wechat", To: "u1", TemplateID: "t"},
		{App: "app1", Platform: "wechat", To: "u2", TemplateID: "t", Status: message.StatusRetrying}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b1", App: "app1"},
		[]message.Message{{App: "app1", To: "x"}, {App: "app1", To: "y"}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(ctx, sqlite.FromMS(int64(n)+1), 7, time.Minute)
	if err != nil || len(claimed) != 7 {
		t.Fatalf("Claim = %d, %v", len(claimed), err)
	}
	for i, st := range []message.Status{message.StatusDelivered, message.StatusFailed, message.StatusRejected} {
		if err := s.Record(ctx, claimed[i].ID, claimed[i].Lease.Fence, nil, updateTo(st)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Redrive(ctx, claimed[1].ID, sqlite.FromMS(int64(n)+2)); err != nil {
		t.Fatal(err)
	}

	got, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[message.Status]int{}
	rows, err := sqlite.ReadDB(s).Query("SELECT status, COUNT(*) FROM messages GROUP BY status")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var st string
		var c int
		if err := rows.Scan(&st, &c); err != nil {
			t.Fatal(err)
		}
		want[message.Status(st)] = c
	}
	rows.Close()
	for _, st := range message.Statuses {
		if got[st] != want[st] {
			t.Errorf("Counts[%s] = %d, a real count says %d (all: %v)", st, got[st], want[st], got)
		}
	}
	t.Logf("%d rows preloaded; counts %v", n, got)
}

func updateTo(st message.Status) storage.Update { return storage.Update{Status: st} }
