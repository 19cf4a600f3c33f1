package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/storage"
)

const (
	sqlPutToken = `INSERT INTO tokens (key, token, expires) VALUES (?, ?, ?)
	ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires = excluded.expires`
	// Compare-and-delete: an instance dropping the token it found invalid
	// must not drop the fresh one another instance has just stored.
	sqlDeleteToken = `DELETE FROM tokens WHERE key = ? AND token = ?`
	sqlGetToken    = `SELECT token, expires FROM tokens WHERE key = ?`
)

// Token implements storage.Store; storage.ErrNotFound when none is stored.
// An expired token is returned as stored: the caller judges expiry.
func (s *Store) Token(ctx context.Context, key string) (_ string, _ time.Time, err error) {
	defer func() { err = unavailable(err) }() // a read failing on the disk is not a missing record
	if err := s.readable(); err != nil {
		return "", time.Time{}, err
	}
	var (
		token   string
		expires int64
	)
	err = s.rdb.QueryRowContext(ctx, sqlGetToken, key).Scan(&token, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		// The key names an app, not a secret; the token never appears.
		return "", time.Time{}, fmt.Errorf("get token %s: %w", key, storage.ErrNotFound)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get token %s: %w", key, err)
	}
	return token, fromMS(expires), nil
}

// PutToken implements storage.Store: it creates or replaces the token.
func (s *Store) PutToken(ctx context.Context, key, token string, expires time.Time) error {
	return s.submit(ctx, true, func(w *writer) error {
		if _, err := w.st.putToken.Exec(key, token, toMS(expires)); err != nil {
			return fmt.Errorf("put token %s: %w", key, err)
		}
		return nil
	})
}

// DeleteToken implements storage.Store. It deletes only while the stored
// token is still token; otherwise (another instance refreshed it, or none
// is stored) it does nothing and returns nil.
func (s *Store) DeleteToken(ctx context.Context, key, token string) error {
	return s.submit(ctx, true, func(w *writer) error {
		if _, err := w.st.deleteToken.Exec(key, token); err != nil {
			return fmt.Errorf("delete token %s: %w", key, err)
		}
		return nil
	})
}
