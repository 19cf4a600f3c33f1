package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// TestNoQueryScansMessages: every query the API and the dispatcher run against
// messages — accept, claim, outcome, reads, lists with every combination
// of filters, broadcasts, redrive, counts, retention — is planned on an
// index or a key, never as a scan of the messages table (issue 15: the
// cost of a request must not grow with the history). SQLite's planner is
// asked directly (EXPLAIN QUERY PLAN) on the real schema; no table is
// scanned but the unfiltered list, which walks the primary key newest
// first and stops after one page.
func TestNoQueryScansMessages(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	type q struct {
		name  string
		query string
		args  []any
		// scanOK: a SCAN of messages bounded by LIMIT on the primary key.
		scanOK bool
	}
	queries := []q{
		{"insert message", sqlInsertMessage, nil, false},
		{"claim due", sqlClaimDue, []any{1, 10}, false},
		{"claim mark", sqlClaimMark, nil, false},
		{"record outcome", sqlRecordMessage, nil, false},
		{"insert attempt", sqlInsertAttempt, nil, false},
		{"message status", sqlMessageStatus, nil, false},
		{"message lease", sqlMessageLease, nil, false},
		{"get message", sqlGetMessageReceipt, nil, false},
		{"attempts", sqlAttempts, nil, false},
		{"get broadcast", sqlGetBroadcast, nil, false},
		{"broadcast counts", sqlBroadcastCounts, nil, false},
		{"redrive", sqlRedrive, nil, false},
		{"counts", sqlCounts, nil, false},
		{"count new rows", sqlCountInserted, nil, false},
		{"resume held", sqlResumeHeld, nil, false},
		{"clear held", sqlClearHeld, nil, false},
	}
	for i := range retentionStatuses {
		queries = append(queries, q{"retention " + string(retentionStatuses[i]), sqlRetainBatch, []any{string(retentionStatuses[i]), 1, 10}, false})
	}
	queries = append(queries, q{"retention delete", sqlDeleteMessages, []any{"[1]"}, false})
	// Every combination of List's filters, with and without a cursor.
	cursor := encodeCursor(42)
	// The extra conditions (reason, recipient, created) are checked on a
	// walk bounded by storage.ListExamined rows: unindexed, the walk is the
	// primary key's, newest first, like the unfiltered list.
	for mask := 0; mask < 64; mask++ {
		var f storage.Filter
		var parts []string
		if mask&1 != 0 {
			f.App, parts = "shop", append(parts, "app")
		}
		if mask&2 != 0 {
			f.Status, parts = message.StatusFailed, append(parts, "status")
		}
		if mask&4 != 0 {
			f.BroadcastID, parts = "bc_1", append(parts, "broadcast")
		}
		if mask&8 != 0 {
			f.Receipt, parts = message.ReceiptFailed, append(parts, "receipt")
		}
		if mask&16 != 0 {
			f.Cursor, parts = cursor, append(parts, "cursor")
		}
		if mask&32 != 0 {
			f.Reason, f.To, parts = reason.NotSubscribed, "user-1", append(parts, "reason+to+created")
			f.CreatedFrom, f.CreatedTo = time.UnixMilli(1000), time.UnixMilli(2000)
		}
		query, args, _, walk, err := listQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, q{"list " + strings.Join(parts, "+"), query, args, mask&15 == 0})
		if (walk.query != "") != (mask&32 != 0) {
			t.Errorf("list %s: walk query %q", strings.Join(parts, "+"), walk.query)
		}
		if walk.query != "" {
			queries = append(queries, q{"walk " + strings.Join(parts, "+"), walk.query, walk.args, mask&15 == 0})
		}
	}
	for _, x := range queries {
		if x.args == nil {
			x.args = argsFor(x.query)
		}
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+x.query, x.args...)
		if err != nil {
			t.Fatalf("%s: %v", x.name, err)
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
		for _, line := range plan {
			scan := strings.HasPrefix(line, "SCAN messages") || strings.HasPrefix(line, "SCAN attempts")
			if scan && !x.scanOK {
				t.Errorf("%s scans a table: %q\nplan: %s", x.name, line, strings.Join(plan, " | "))
			}
		}
		t.Logf("%-28s %s", x.name, strings.Join(plan, " | "))
	}
}

// argsFor makes a value for each parameter of query (?, ?N): the plans do
// not depend on them.
func argsFor(query string) []any {
	n, plain := 0, 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		if j == i+1 {
			plain++
			continue
		}
		var k int
		fmt.Sscan(query[i+1:j], &k)
		n = max(n, k)
	}
	args := make([]any, max(n, plain))
	for i := range args {
		args[i] = 1
	}
	return args
}
