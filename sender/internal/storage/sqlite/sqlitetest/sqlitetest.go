// Package sqlitetest helps tests and benchmarks of the SQLite store: it
// fills a database with many messages at SQL speed, as the store would
// have left them.
package sqlitetest

import (
	"database/sql"
	"fmt"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// Preload writes n messages straight into the (closed) database at path
// with one SQL statement — a million in a few seconds — spread over the
// statuses (a tenth queued, a tenth failed, a tenth retrying, the rest
// delivered), and brings status_counts in line, as the store's own writes
// keep it.
func Preload(tb testing.TB, path string, n int) {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		fmt.Sprintf(`WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < %d)
		INSERT INTO messages (id, app, platform, recipient, template_id, data, status, next_attempt_at, created_at, updated_at)
		SELECT printf('msg_pre_%%09d', n), 'app1', 'wechat', printf('o_%%09d', n), 'tpl', '{"thing1":"x"}',
			CASE n %% 10 WHEN 0 THEN 'queued' WHEN 1 THEN 'failed' WHEN 2 THEN 'retrying' ELSE 'delivered' END,
			n, n, n FROM i`, n),
		`UPDATE status_counts SET n = (SELECT COUNT(*) FROM messages WHERE messages.status = status_counts.status)`,
	} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatalf("preload %d messages: %v", n, err)
		}
	}
}
