package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/storage"
)

// TestBroadcastListPlans: every step of GET /v1/broadcasts' walk, with
// every combination of its indexed filters and a cursor, is an ordered
// read of broadcasts_created or broadcasts_app_created that stops after
// its LIMIT: no sort of the broadcasts (TEMP B-TREE), no read of the
// messages table. Each item's counts are a range of
// messages_broadcast_status (TestQueryPlans, "broadcast counts").
func TestBroadcastListPlans(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for mask := range 16 {
		var (
			f     storage.BroadcastFilter
			after string
			parts []string
		)
		index := "broadcasts_created"
		if mask&1 != 0 {
			f.App, index, parts = "shop", "broadcasts_app_created", append(parts, "app")
		}
		if mask&2 != 0 {
			f.CreatedFrom, parts = time.UnixMilli(1000), append(parts, "from")
		}
		if mask&4 != 0 {
			f.CreatedTo, parts = time.UnixMilli(2000), append(parts, "to")
		}
		if mask&8 != 0 {
			after, parts = storage.BroadcastKey(time.UnixMilli(1500), "bc_1"), append(parts, "cursor")
		}
		name := "list broadcasts " + strings.Join(parts, "+")
		query, args, err := broadcastsQuery(f, after, 101)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.rdb.Query("EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, " | ")
		if !strings.Contains(got, "USING INDEX "+index) {
			t.Errorf("%s: plan does not walk %s: %s", name, index, got)
		}
		// Below a cursor, the range starts at the cursor, not above it.
		if after != "" && !strings.Contains(got, "(created_at,id)<(?,?)") {
			t.Errorf("%s: the range does not start at the cursor: %s", name, got)
		}
		for _, never := range []string{"TEMP B-TREE", "messages"} {
			if strings.Contains(got, never) {
				t.Errorf("%s: plan has %q: %s", name, never, got)
			}
		}
		t.Logf("%-40s %s", name, got)
	}
	// The state filter's check: seeks of messages_broadcast_status.
	rows, err := s.rdb.Query("EXPLAIN QUERY PLAN "+sqlBroadcastWaiting, "bc_1")
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if got := strings.Join(plan, " | "); !strings.Contains(got, "COVERING INDEX messages_broadcast_status (broadcast_id=? AND status=?)") ||
		strings.Contains(got, "SCAN messages") {
		t.Errorf("waiting check plan: %s", got)
	} else {
		t.Logf("%-40s %s", "broadcast waiting", got)
	}
	if _, _, err := broadcastsQuery(storage.BroadcastFilter{}, "not-a-key", 10); err == nil {
		t.Error("a cursor that is no key was accepted")
	}
}
