package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/storage"
)

var _ storage.Sessions = (*Store)(nil)

const (
	sqlPutSession = `INSERT OR REPLACE INTO console_sessions (hash, key_name, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`
	// The sweep is bounded, so a put never waits on a long delete; each
	// put removes more than one sign-in adds.
	sqlSweepSessions = `DELETE FROM console_sessions WHERE hash IN
	(SELECT hash FROM console_sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT 100)`
	// The live sessions of a key beyond the newest n-1 others than the
	// one just put (a table of at most keys × cap rows plus the expired
	// ones the sweep has not reached: no index needed).
	sqlCapSessions = `DELETE FROM console_sessions WHERE hash IN
	(SELECT hash FROM console_sessions WHERE key_name = ? AND expires_at > ? AND hash <> ?
	 ORDER BY created_at DESC, expires_at DESC, hash LIMIT -1 OFFSET ?)`
	sqlGetSession    = `SELECT key_name, csrf, created_at, expires_at FROM console_sessions WHERE hash = ?`
	sqlDeleteSession = `DELETE FROM console_sessions WHERE hash = ?`
)

// PutSession implements storage.Sessions: a sweep of those expired by its
// creation, the session, and the key's oldest beyond perKey revoked, in
// one transaction.
func (s *Store) PutSession(ctx context.Context, hash [32]byte, ss storage.Session, perKey int) error {
	return s.submit(ctx, false, func(w *writer) error {
		bg := context.Background()
		if _, err := w.conn.ExecContext(bg, sqlSweepSessions, toMS(ss.Created)); err != nil {
			return fmt.Errorf("put console session: %w", err)
		}
		if _, err := w.conn.ExecContext(bg, sqlPutSession, hash[:], ss.KeyName, ss.CSRF, toMS(ss.Created), toMS(ss.Expires)); err != nil {
			return fmt.Errorf("put console session: %w", err)
		}
		if perKey > 0 {
			if _, err := w.conn.ExecContext(bg, sqlCapSessions, ss.KeyName, toMS(ss.Created), hash[:], perKey-1); err != nil {
				return fmt.Errorf("put console session: revoke the oldest: %w", err)
			}
		}
		return nil
	})
}

// GetSession implements storage.Sessions.
func (s *Store) GetSession(ctx context.Context, hash [32]byte, now time.Time) (_ storage.Session, _ bool, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return storage.Session{}, false, err
	}
	var (
		ss               storage.Session
		created, expires int64
	)
	err = s.rdb.QueryRowContext(ctx, sqlGetSession, hash[:]).Scan(&ss.KeyName, &ss.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Session{}, false, nil
	}
	if err != nil {
		return storage.Session{}, false, fmt.Errorf("get console session: %w", err)
	}
	ss.Created, ss.Expires = fromMS(created), fromMS(expires)
	if !now.Before(ss.Expires) {
		return storage.Session{}, false, nil
	}
	return ss, true, nil
}

// DeleteSession implements storage.Sessions.
func (s *Store) DeleteSession(ctx context.Context, hash [32]byte) error {
	return s.submit(ctx, true, func(w *writer) error {
		if _, err := w.conn.ExecContext(context.Background(), sqlDeleteSession, hash[:]); err != nil {
			return fmt.Errorf("delete console session: %w", err)
		}
		return nil
	})
}
