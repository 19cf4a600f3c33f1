package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/writehealth"
)

const sqlHeartbeat = `INSERT INTO meta (key, value) VALUES ('heartbeat', ?)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value`

// Writable implements storage.Store.
func (s *Store) Writable() error {
	if err := s.readable(); err != nil {
		return err
	}
	return s.w.health.State(time.Now())
}

// heartbeat probes the disk with a small write when nothing else has
// written for a while (or the last write failed), until stop closes.
func (s *Store) heartbeat(stop <-chan struct{}, done chan<- struct{}) {
	s.w.health.Probe(stop, done, func(now time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), writehealth.ProbeIdle)
		defer cancel()
		// The outcome lands in health through the writer, like any write.
		_ = s.submit(ctx, true, func(w *writer) error {
			_, err := w.conn.ExecContext(context.Background(), sqlHeartbeat, strconv.FormatInt(now.UnixMilli(), 10))
			return err
		})
	})
}

// unavailable marks the SQLite errors that mean "not now" — the disk or the
// file failing, not the request — as storage.ErrUnavailable.
func unavailable(err error) error {
	if err == nil || errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_CORRUPT,
		sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PROTOCOL:
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}
