package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/minipush/minipush/sender/internal/storage"
)

// Health: Writable answers from what the writer last saw, never from a
// query (a readiness probe must not wait on a stalled disk).
const (
	// recoverAfter: after a failed write, the store reads as writable
	// again once a write has committed and none has failed for this long,
	// so one small write slipping through a full disk does not flip it
	// back and forth.
	recoverAfter = 2 * time.Second
	// While unhealthy, a probe write every probeUnhealthy notices that
	// the disk is back even when nothing else writes; while healthy and
	// idle, one every probeIdle notices that it went away.
	probeUnhealthy = time.Second
	probeIdle      = 5 * time.Second
)

const sqlHeartbeat = `INSERT INTO meta (key, value) VALUES ('heartbeat', ?)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value`

// health is the outcome of the writer's recent transactions.
type health struct {
	mu       sync.Mutex
	lastOK   time.Time
	lastFail time.Time
	failErr  error
}

func (h *health) committed(now time.Time) {
	h.mu.Lock()
	h.lastOK = now
	h.mu.Unlock()
}

func (h *health) failed(now time.Time, err error) {
	h.mu.Lock()
	h.lastFail, h.failErr = now, err
	h.mu.Unlock()
}

// state is nil when writes commit; else the last failure.
func (h *health) state(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failErr == nil || (h.lastOK.After(h.lastFail) && now.Sub(h.lastFail) >= recoverAfter) {
		return nil
	}
	return fmt.Errorf("the last write failed %s ago: %w", now.Sub(h.lastFail).Round(time.Millisecond), h.failErr)
}

// lastWrite is when a write last committed or failed.
func (h *health) lastWrite() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastOK.After(h.lastFail) {
		return h.lastOK
	}
	return h.lastFail
}

// Writable implements storage.Store.
func (s *Store) Writable() error {
	if err := s.readable(); err != nil {
		return err
	}
	return s.w.health.state(time.Now())
}

// heartbeat probes the disk with a small write when nothing else has
// written for a while (or the last write failed), until stop closes.
func (s *Store) heartbeat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(probeUnhealthy)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := time.Now()
		if s.w.health.state(now) == nil && now.Sub(s.w.health.lastWrite()) < probeIdle {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeIdle)
		// The outcome lands in health through the writer, like any write.
		_ = s.submit(ctx, true, func(w *writer) error {
			_, err := w.conn.ExecContext(context.Background(), sqlHeartbeat, strconv.FormatInt(now.UnixMilli(), 10))
			return err
		})
		cancel()
	}
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
