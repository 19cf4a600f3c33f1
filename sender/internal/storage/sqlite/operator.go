package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Operator control (issue 11): bulk cancel and redrive, and the apps'
// pauses.
const (
	sqlPauseApp = `INSERT INTO app_pauses (app, until, reason, code, message, since) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
	ON CONFLICT (app) DO UPDATE SET until = ?2, reason = ?3, code = ?4, message = ?5, since = ?6
	WHERE excluded.until > app_pauses.until`
	sqlPauses      = `SELECT app, until, reason, code, message, since FROM app_pauses ORDER BY app`
	sqlDeletePause = `DELETE FROM app_pauses WHERE app = ?`
	sqlResumeHeld  = `UPDATE messages INDEXED BY messages_held SET next_attempt_at = ?1, held = 0, updated_at = ?1
	WHERE app = ?2 AND held = 1 AND status IN ('queued', 'retrying')`
	sqlClearHeld = `UPDATE messages INDEXED BY messages_held SET held = 0 WHERE app = ?1 AND held = 1`
)

// selectionWhere is sel as a WHERE clause over statuses (the operation's
// own, narrowed by sel.Statuses). ok is false when sel selects nothing.
func selectionWhere(sel storage.Selection, allowed []message.Status) (where string, args []any, ok bool) {
	statuses := allowed
	if len(sel.Statuses) > 0 {
		statuses = nil
		for _, st := range sel.Statuses {
			if slices.Contains(allowed, st) && !slices.Contains(statuses, st) {
				statuses = append(statuses, st)
			}
		}
		if len(statuses) == 0 {
			return "", nil, false
		}
	}
	conds := []string{"status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(statuses)), ",") + ")"}
	for _, st := range statuses {
		args = append(args, string(st))
	}
	add := func(cond string, v any) {
		conds, args = append(conds, cond), append(args, v)
	}
	if sel.App != "" {
		add("app = ?", sel.App)
	}
	if sel.BroadcastID != "" {
		add("broadcast_id = ?", sel.BroadcastID)
	}
	more, margs := matchWhere(sel.Reason, sel.Code, "", sel.CreatedFrom, sel.CreatedTo)
	conds, args = append(conds, more...), append(args, margs...)
	return strings.Join(conds, " AND "), args, true
}

// matchWhere is the conditions on a message's own columns that Selection
// and Filter share: reason, last code and recipient exactly, created in
// [from, to). Empty and zero values match all.
func matchWhere(rsn reason.Reason, code, recipient string, from, to time.Time) (conds []string, args []any) {
	add := func(cond string, v any) {
		conds, args = append(conds, cond), append(args, v)
	}
	if rsn != "" {
		add("reason = ?", string(rsn))
	}
	if code != "" {
		add("last_code = ?", code)
	}
	if recipient != "" {
		add("recipient = ?", recipient)
	}
	if !from.IsZero() {
		add("created_at >= ?", toMS(from))
	}
	if !to.IsZero() {
		add("created_at < ?", toMS(to))
	}
	return conds, args
}

// CancelMatching implements storage.Store: one bulk step.
func (s *Store) CancelMatching(ctx context.Context, sel storage.Selection, now time.Time, limit int) (int, error) {
	return s.updateMatching(ctx, "cancel messages", message.StatusCancelled, sel, message.Cancellable, limit,
		`SET status = 'cancelled', lease_until = 0, updated_at = ?, reason = 'cancelled', held = 0`, toMS(now))
}

// RedriveMatching implements storage.Store: one bulk step.
func (s *Store) RedriveMatching(ctx context.Context, sel storage.Selection, now time.Time, limit int) (int, error) {
	return s.updateMatching(ctx, "redrive messages", message.StatusQueued, sel, message.Redrivable, limit,
		`SET status = 'queued', retries = 0, next_attempt_at = ?, lease_until = 0, updated_at = ?, reason = '', held = 0`,
		toMS(now), toMS(now))
}

// updateMatching applies set (with its arguments), which moves a message to
// status to, to up to limit messages sel selects among allowed statuses,
// oldest first, in one step of the writer's bulk lane.
func (s *Store) updateMatching(ctx context.Context, op string, to message.Status, sel storage.Selection, allowed []message.Status,
	limit int, set string, setArgs ...any) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	where, args, ok := selectionWhere(sel, allowed)
	if !ok {
		return 0, nil
	}
	// The rows are picked first and changed by seq: the move from each
	// one's status is counted (status_counts, schema version 13).
	pick := `SELECT seq, status FROM messages WHERE ` + where + ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	update := `UPDATE messages ` + set + ` WHERE seq IN (SELECT value FROM json_each(?))`
	var n int64
	err := s.submitBulk(ctx, func(w *writer) error {
		bg := context.Background()
		rows, err := w.conn.QueryContext(bg, pick, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		var (
			list = []byte{'['}
			from = make([]int, len(message.Statuses))
		)
		for rows.Next() {
			var (
				seq    int64
				status sql.RawBytes
			)
			if err := rows.Scan(&seq, &status); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", op, err)
			}
			if len(list) > 1 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(list, seq, 10)
			if i := statusIndexBytes(status); i >= 0 {
				from[i]++
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if len(list) == 1 {
			return nil
		}
		list = append(list, ']')
		res, err := w.conn.ExecContext(bg, update, append(setArgs[:len(setArgs):len(setArgs)], string(list))...)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for i, k := range from {
			w.countMove(message.Statuses[i], to, k)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// PauseApp implements storage.Store.
func (s *Store) PauseApp(ctx context.Context, p message.Pause) error {
	if p.App == "" {
		return fmt.Errorf("pause app: empty app")
	}
	return s.submit(ctx, true, func(w *writer) error {
		if _, err := w.conn.ExecContext(context.Background(), sqlPauseApp, p.App, toMS(p.Until), string(p.Reason),
			p.Code, p.Message, toMS(p.Since)); err != nil {
			return fmt.Errorf("pause app %s: %w", p.App, err)
		}
		return nil
	})
}

// Pauses implements storage.Store.
func (s *Store) Pauses(ctx context.Context) (_ []message.Pause, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, sqlPauses)
	if err != nil {
		return nil, fmt.Errorf("read pauses: %w", err)
	}
	defer rows.Close()
	var out []message.Pause
	for rows.Next() {
		var (
			p            message.Pause
			until, since int64
		)
		if err := rows.Scan(&p.App, &until, &p.Reason, &p.Code, &p.Message, &since); err != nil {
			return nil, fmt.Errorf("read pauses: %w", err)
		}
		p.Until, p.Since = fromMS(until), fromMS(since)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pauses: %w", err)
	}
	return out, nil
}

// ResumeApp implements storage.Store: the pause goes and the messages it
// held are due at now, in one transaction.
func (s *Store) ResumeApp(ctx context.Context, app string, now time.Time) (int, error) {
	var n int64
	err := s.submit(ctx, false, func(w *writer) error {
		bg := context.Background()
		if _, err := w.conn.ExecContext(bg, sqlDeletePause, app); err != nil {
			return fmt.Errorf("resume app %s: %w", app, err)
		}
		res, err := w.conn.ExecContext(bg, sqlResumeHeld, toMS(now), app)
		if err != nil {
			return fmt.Errorf("resume app %s: %w", app, err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// Held marks on messages in other statuses (none expected) are
		// cleared too, so the index holds only what a resume moves.
		if _, err := w.conn.ExecContext(bg, sqlClearHeld, app); err != nil {
			return fmt.Errorf("resume app %s: %w", app, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
