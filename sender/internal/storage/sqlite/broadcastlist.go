package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// sqlBroadcastCols are the columns scanBroadcast reads.
const sqlBroadcastCols = `id, app, group_name, template_id, data, page, recipients, created_at,
		platform, due, fanned_out, idempotency_key, api_key`

// sqlBroadcastWaiting: does the broadcast have a message not final? Three
// seeks of messages_broadcast_status, whatever the broadcast's size.
const sqlBroadcastWaiting = `SELECT EXISTS (SELECT 1 FROM messages INDEXED BY messages_broadcast_status
	WHERE broadcast_id = ? AND status IN ('queued', 'sending', 'retrying'))`

// broadcastsQuery is one step of the broadcast list's walk: the next n
// broadcasts newest first below the position (created_at, id), on
// broadcasts_created or, for one app, broadcasts_app_created (schema
// version 12) — an ordered range read that stops after n rows.
func broadcastsQuery(f storage.BroadcastFilter, after string, n int) (string, []any, error) {
	var (
		where []string
		args  []any
		index = "broadcasts_created"
	)
	if f.App != "" {
		index = "broadcasts_app_created"
		where, args = append(where, "app = ?"), append(args, f.App)
	}
	if !f.CreatedFrom.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, toMS(f.CreatedFrom))
	}
	// The upper bound is the cursor or created_to, whichever is lower:
	// given both, the planner would bound its range by created_to and
	// read every row down to the cursor on each page.
	to := int64(-1)
	if !f.CreatedTo.IsZero() {
		to = toMS(f.CreatedTo)
	}
	if after != "" {
		ms, id, ok := storage.ParseBroadcastKey(after)
		if !ok {
			return "", nil, fmt.Errorf("cursor %q: %w", after, storage.ErrNotFound)
		}
		if to < 0 || ms < to {
			where, args = append(where, "(created_at, id) < (?, ?)"), append(args, ms, id)
			to = -1
		}
	}
	if to >= 0 {
		where, args = append(where, "created_at < ?"), append(args, to)
	}
	q := "SELECT " + sqlBroadcastCols + " FROM broadcasts INDEXED BY " + index
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	return q, append(args, n), nil
}

// Broadcasts implements storage.BroadcastLister: the walk, the state
// checks (sqlBroadcastWaiting) and the page's counts (sqlBroadcastCounts,
// a range of messages_broadcast_status per broadcast, never the messages
// table) are read in one snapshot.
func (s *Store) Broadcasts(ctx context.Context, f storage.BroadcastFilter) (_ []storage.BroadcastCounts, _ string, err error) {
	defer func() { err = unavailable(err) }() // a read failing on the disk is not a missing record
	if err := s.readable(); err != nil {
		return nil, "", err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, "", fmt.Errorf("list broadcasts: %w", err)
	}
	defer tx.Rollback()
	walk := func(ctx context.Context, after string, n int) ([]message.Broadcast, error) {
		q, args, err := broadcastsQuery(f, after, n)
		if err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []message.Broadcast
		for rows.Next() {
			b, err := scanBroadcast(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, rows.Err()
	}
	count := func(ctx context.Context, bs []message.Broadcast) ([]map[message.Status]int, error) {
		// One statement for the page (a statement prepared per broadcast
		// cost more than the counting: BenchmarkBroadcastList).
		stmt, err := tx.PrepareContext(ctx, sqlBroadcastCounts)
		if err != nil {
			return nil, err
		}
		defer stmt.Close()
		out := make([]map[message.Status]int, len(bs))
		for i, b := range bs {
			c, err := countStatuses(ctx, stmtQuerier{stmt}, "", b.ID)
			if err != nil {
				return nil, fmt.Errorf("broadcast %s: %w", b.ID, err)
			}
			out[i] = c
		}
		return out, nil
	}
	var waitStmt *sql.Stmt // prepared at the first state check, closed with tx
	waiting := func(ctx context.Context, b message.Broadcast) (bool, error) {
		if waitStmt == nil {
			if waitStmt, err = tx.PrepareContext(ctx, sqlBroadcastWaiting); err != nil {
				return false, err
			}
		}
		var w bool
		err := waitStmt.QueryRowContext(ctx, b.ID).Scan(&w)
		return w, err
	}
	return storage.PageBroadcasts(ctx, f, walk, count, waiting)
}

// stmtQuerier is a prepared statement as a querier (its query given).
type stmtQuerier struct{ st *sql.Stmt }

func (q stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return q.st.QueryContext(ctx, args...)
}
