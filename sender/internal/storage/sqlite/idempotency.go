package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/minipush/minipush/sender/internal/storage"
)

// Idempotency keys live in one table, scoped kind/app (schema version 5).
// A key is claimed in the same transaction as the work it guards, so a
// key and what it made commit together or not at all.
const (
	sqlClaimKey = `INSERT INTO idempotency (scope, key, fingerprint, ref, created_at) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (scope, key) DO NOTHING`
	sqlGetKey     = `SELECT fingerprint, ref FROM idempotency WHERE scope = ? AND key = ?`
	sqlRepointKey = `UPDATE idempotency SET fingerprint = ?, ref = ?, created_at = ? WHERE scope = ? AND key = ?`
	// sqlExpireKeys deletes the oldest keys recorded before ?1, at most ?2.
	sqlExpireKeys = `DELETE FROM idempotency WHERE (scope, key) IN (
		SELECT scope, key FROM idempotency INDEXED BY idempotency_age WHERE created_at < ?1
		ORDER BY created_at LIMIT ?2)`
)

// Scopes of the three kinds of keyed requests.
func messageScope(app string) string   { return "message/" + app }
func broadcastScope(app string) string { return "broadcast/" + app }
func groupScope(app string) string     { return "group/" + app }

// claimKey records key in scope for ref, inside the writer's transaction.
// When the key is already taken it records nothing and returns the ref the
// first request made (taken), or storage.ErrIdempotencyMismatch when the
// fingerprints differ.
func claimKey(w *writer, scope, key, fingerprint, ref string, nowMS int64) (first string, taken bool, err error) {
	bg := context.Background()
	res, err := w.conn.ExecContext(bg, sqlClaimKey, scope, key, fingerprint, ref, nowMS)
	if err != nil {
		return "", false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", false, err
	} else if n == 1 {
		return "", false, nil
	}
	var fp string
	if err := w.conn.QueryRowContext(bg, sqlGetKey, scope, key).Scan(&fp, &first); err != nil {
		return "", false, err
	}
	if fp != "" && fingerprint != "" && fp != fingerprint {
		return "", false, fmt.Errorf("idempotency key %q: %w", key, storage.ErrIdempotencyMismatch)
	}
	return first, true, nil
}

// repointKey points a taken key at a new ref: for a key whose first
// request's record is gone.
func repointKey(w *writer, scope, key, fingerprint, ref string, nowMS int64) error {
	_, err := w.conn.ExecContext(context.Background(), sqlRepointKey, fingerprint, ref, nowMS, scope, key)
	return err
}

// readKey reads a key outside the writer; found false when there is none.
func (s *Store) readKey(ctx context.Context, scope, key string) (fingerprint, ref string, found bool, err error) {
	err = s.rdb.QueryRowContext(ctx, sqlGetKey, scope, key).Scan(&fingerprint, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	return fingerprint, ref, err == nil, unavailable(err)
}
