package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// LimitPages caps the database at its current size (full) or lifts the
// cap (not full), through the writer's connection: a write that needs a
// new page then fails with SQLITE_FULL, the very error a full disk gives.
// The seam the fault tests break storage with.
func LimitPages(s *Store, full bool) error {
	return s.submit(context.Background(), true, func(w *writer) error {
		bg := context.Background()
		limit := int64(4294967294) // SQLite's own maximum
		if full {
			if err := w.conn.QueryRowContext(bg, "PRAGMA page_count").Scan(&limit); err != nil {
				return err
			}
		}
		// PRAGMA takes no bound parameters; the value is our own integer.
		var got int64
		if err := w.conn.QueryRowContext(bg, fmt.Sprintf("PRAGMA max_page_count = %d", limit)).Scan(&got); err != nil {
			return err
		}
		if got != limit {
			return fmt.Errorf("max_page_count is %d, want %d", got, limit)
		}
		return nil
	})
}

// SQLCounts is the query Counts runs, for the probe test's plan check.
const SQLCounts = sqlCounts

// ReadDB is the store's read pool (probe tests query it directly).
func ReadDB(s *Store) *sql.DB { return s.rdb }

// FromMS is fromMS, for tests passing stored times.
var FromMS = fromMS
