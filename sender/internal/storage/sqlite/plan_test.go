package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryPlans pins the plans the hot and the big queries depend on: a
// planner change that makes Claim sort every due row, or List sort a whole
// broadcast, passes every functional test and then collapses in
// production.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "minipush.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name  string
		query string
		args  []any
		want  []string // substrings of the plan, in order
		never string   // must not appear
	}{
		{"claim due", sqlClaimDue, []any{1, 2},
			[]string{"USING INDEX messages_due (next_attempt_at<?)", "USING COVERING INDEX messages_lease (lease_until<?)"}, "messages_status"},
		{"claim mark", sqlClaimMark, []any{1, 2, "[1]"}, []string{"USING INTEGER PRIMARY KEY"}, "SCAN messages"},
		{"record", sqlRecordMessage, []any{"s", 1, 0, "", "", "", 1, "", 0, "id", 1}, []string{"sqlite_autoindex_messages_1 (id=?)"}, "SCAN"},
		{"attempt number", sqlInsertAttempt, []any{"id", "id", 1, "o", "", "", 0.0, "send", ""}, []string{"attempts USING PRIMARY KEY (message_id=?)"}, "SCAN"},
		// Operator control (operator.go).
		{"app counts", sqlAppCounts, []any{"a"}, []string{"INDEX messages_app (app=?)"}, "SCAN messages"},
		{"resume held", sqlResumeHeld, []any{1, "a"}, []string{"INDEX messages_held (app=?)"}, "SCAN messages"},
		{"groups", sqlGroups, []any{"a", "", 10}, []string{"groups USING PRIMARY KEY (app=? AND name>?)"}, "TEMP B-TREE"},
		{"cancel", sqlCancel, []any{1, "id"}, []string{"sqlite_autoindex_messages_1 (id=?)"}, "SCAN"},
		{"idempotency key", sqlGetKey, []any{"message/a", "k"}, []string{"idempotency USING PRIMARY KEY (scope=? AND key=?)"}, "SCAN"},
		{"expire keys", sqlExpireKeys, []any{1, 10}, []string{"idempotency USING COVERING INDEX idempotency_age (created_at<?)"}, "SCAN idempotency"},
		{"broadcast counts", sqlBroadcastCounts, []any{"b"}, []string{"COVERING INDEX messages_broadcast_status (broadcast_id=?)"}, "TEMP B-TREE"},
		{"counts", sqlCounts, nil, []string{"SCAN status_counts"}, "messages"},
		{"list by broadcast", "SELECT seq FROM messages WHERE broadcast_id = ? AND seq < ? ORDER BY seq DESC LIMIT 10",
			[]any{"b", 9}, []string{"INDEX messages_broadcast (broadcast_id=? AND rowid<?)"}, "TEMP B-TREE"},
		{"list by app", "SELECT seq FROM messages WHERE app = ? ORDER BY seq DESC LIMIT 10",
			[]any{"a"}, []string{"INDEX messages_app (app=?)"}, "TEMP B-TREE"},
		{"next fan-out", sqlNextFanout, nil, []string{"USING INDEX broadcasts_fanout"}, "TEMP B-TREE"},
		{"group members", sqlGroupMembers, []any{1, "", 10}, []string{"group_members USING PRIMARY KEY (version=? AND member>?)"}, "TEMP B-TREE"},
		{"sweep version", sqlSweepVersion, nil, []string{"group_versions_retired"}, "SCAN group_members"},
		{"sweep members", sqlSweepMembers, []any{1, 10}, []string{"group_members USING PRIMARY KEY (version=?)"}, "SCAN group_members"},
		{"list by status", "SELECT seq FROM messages WHERE status = ? AND seq < ? ORDER BY seq DESC LIMIT 10",
			[]any{"failed", 9}, []string{"INDEX messages_status (status=? AND rowid<?)"}, "TEMP B-TREE"},
		// Platform events and the consent ledger (events.go).
		{"get with receipt", sqlGetMessageReceipt, []any{"id"},
			[]string{"sqlite_autoindex_messages_1 (id=?)", "SEARCH r USING PRIMARY KEY (app=? AND platform_msgid=?)"}, "SCAN"},
		{"pending events", sqlPendingEvent, []any{10}, []string{"events USING INDEX events_pending"}, "TEMP B-TREE"},
		{"event by key", sqlEventByKey, []any{"a", "k"}, []string{"events USING INDEX events_dedupe (app=? AND dedupe_key=?)"}, "SCAN"},
		{"prune events", sqlPruneEvents, []any{1}, []string{"events USING INDEX events_processed (received_at<?)"}, "SCAN events"},
		{"consent", sqlGetConsent, []any{"a", "u", "t"}, []string{"consents USING PRIMARY KEY (app=? AND user_id=? AND template_id=?)"}, "SCAN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := s.rdb.Query("EXPLAIN QUERY PLAN "+tc.query, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan strings.Builder
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan.WriteString(detail + "\n")
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			got := plan.String()
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("plan lacks %q:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			if strings.Contains(got, tc.never) {
				t.Errorf("plan has %q:\n%s", tc.never, got)
			}
		})
	}
}

// TestOutcomeStatementsNoTempTable: the statements every outcome runs copy
// nothing into a temporary table (an INSERT … SELECT from the table it
// inserts into does, for every row: issue 15).
func TestOutcomeStatementsNoTempTable(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "minipush.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, q := range map[string]string{"record": sqlRecordMessage, "attempt": sqlInsertAttempt} {
		rows, err := s.rdb.Query("EXPLAIN "+q, argsFor(q)...)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if op, _ := vals[1].(string); op == "OpenEphemeral" {
				t.Errorf("%s: the program opens a temporary table", name)
			}
		}
		rows.Close()
	}
}
