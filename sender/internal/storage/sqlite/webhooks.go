package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Result webhooks: the outbox rows are written by triggers (schema
// version 9); this file claims, records and reads them.
const (
	webhookCols      = `seq, id, message_id, app, api_key, event, message_status, reason, code, status, attempts, next_attempt_at, window_at, created_at, updated_at`
	sqlClaimWebhooks = `UPDATE webhook_deliveries SET next_attempt_at = ?2, updated_at = ?1
	WHERE seq IN (SELECT seq FROM webhook_deliveries INDEXED BY webhook_deliveries_due
		WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?3)
	RETURNING ` + webhookCols
	sqlRecordWebhook = `UPDATE webhook_deliveries SET status = ?2, next_attempt_at = ?3, updated_at = ?4,
		attempts = attempts + 1 WHERE id = ?1 RETURNING attempts`
	sqlInsertWebhookAttempt = `INSERT INTO webhook_attempts (delivery_id, n, at, status_code, error, latency_ms)
	VALUES (?, ?, ?, ?, ?, ?)`
	sqlGetWebhook      = `SELECT ` + webhookCols + ` FROM webhook_deliveries WHERE id = ?`
	sqlWebhookAttempts = `SELECT n, at, status_code, error, latency_ms FROM webhook_attempts
	WHERE delivery_id = ? ORDER BY n`
	sqlRedeliverWebhook = `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?2, window_at = ?2, updated_at = ?2 WHERE id = ?1 AND status = 'failed' RETURNING ` + webhookCols
	sqlWebhookDue       = `SELECT 1 FROM webhook_deliveries INDEXED BY webhook_deliveries_due
	WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1`
	sqlWebhookPending = `SELECT COUNT(*) FROM webhook_deliveries INDEXED BY webhook_deliveries_due WHERE status = 'pending'`
	sqlWebhookFailed  = `SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed'`
)

// sqlWebhookTriggers write the outbox: an event when a message in the
// scope reaches a final status (whoever writes it: Record, Cancel,
// CancelMatching), and when a receipt arrives for a delivered one (its
// insert or its update, CompleteEvent). They exist only while the scope
// is not empty: without them a claim or an outcome pays nothing for
// webhooks (docs/performance.md#result-webhooks).
const sqlWebhookTriggers = `
CREATE TRIGGER IF NOT EXISTS messages_webhook AFTER UPDATE OF status ON messages
WHEN OLD.status <> NEW.status AND NEW.status IN ('delivered', 'failed', 'rejected', 'cancelled')
	AND EXISTS (SELECT 1 FROM webhook_scope WHERE (kind = 'app' AND name = NEW.app)
		OR (kind = 'key' AND name = NEW.api_key AND NEW.api_key <> ''))
BEGIN
	INSERT INTO webhook_deliveries (id, message_id, app, api_key, event, message_status, reason, code,
		next_attempt_at, window_at, created_at, updated_at)
	VALUES (NEW.id || '.' || ((SELECT COUNT(*) FROM webhook_deliveries WHERE message_id = NEW.id) + 1),
		NEW.id, NEW.app, NEW.api_key, 'message.' || NEW.status, NEW.status, NEW.reason, NEW.last_code,
		NEW.updated_at, NEW.updated_at, NEW.updated_at, NEW.updated_at);
END;
CREATE TRIGGER IF NOT EXISTS receipts_webhook_insert AFTER INSERT ON receipts BEGIN
	INSERT INTO webhook_deliveries (id, message_id, app, api_key, event, message_status, reason, code,
		next_attempt_at, window_at, created_at, updated_at)
	SELECT m.id || '.' || ((SELECT COUNT(*) FROM webhook_deliveries WHERE message_id = m.id) + 1),
		m.id, m.app, m.api_key, 'message.receipt', m.status, m.reason, NEW.error_code, NEW.at, NEW.at, NEW.at, NEW.at
	FROM messages m WHERE m.app = NEW.app AND m.platform_msgid = NEW.platform_msgid AND NEW.platform_msgid <> ''
		AND m.status = 'delivered'
		AND EXISTS (SELECT 1 FROM webhook_scope WHERE (kind = 'app' AND name = m.app)
			OR (kind = 'key' AND name = m.api_key AND m.api_key <> ''));
END;
CREATE TRIGGER IF NOT EXISTS receipts_webhook_update AFTER UPDATE ON receipts BEGIN
	INSERT INTO webhook_deliveries (id, message_id, app, api_key, event, message_status, reason, code,
		next_attempt_at, window_at, created_at, updated_at)
	SELECT m.id || '.' || ((SELECT COUNT(*) FROM webhook_deliveries WHERE message_id = m.id) + 1),
		m.id, m.app, m.api_key, 'message.receipt', m.status, m.reason, NEW.error_code, NEW.at, NEW.at, NEW.at, NEW.at
	FROM messages m WHERE m.app = NEW.app AND m.platform_msgid = NEW.platform_msgid AND NEW.platform_msgid <> ''
		AND m.status = 'delivered'
		AND EXISTS (SELECT 1 FROM webhook_scope WHERE (kind = 'app' AND name = m.app)
			OR (kind = 'key' AND name = m.api_key AND m.api_key <> ''));
END;
`

const sqlDropWebhookTriggers = `
DROP TRIGGER IF EXISTS messages_webhook;
DROP TRIGGER IF EXISTS receipts_webhook_insert;
DROP TRIGGER IF EXISTS receipts_webhook_update;`

type webhookRow struct {
	seq                            int64
	d                              message.WebhookDelivery
	event, msgStatus, status       string
	next, window, created, updated int64
}

func (r *webhookRow) dest() []any {
	return []any{&r.seq, &r.d.ID, &r.d.MessageID, &r.d.App, &r.d.APIKey, &r.event, &r.msgStatus, &r.d.Reason,
		&r.d.Code, &r.status, &r.d.AttemptCount, &r.next, &r.window, &r.created, &r.updated}
}

func (r *webhookRow) delivery() message.WebhookDelivery {
	d := r.d
	d.Event, d.MessageStatus, d.Status = message.WebhookEvent(r.event), message.Status(r.msgStatus), message.WebhookStatus(r.status)
	d.CreatedAt, d.UpdatedAt, d.WindowAt = fromMS(r.created), fromMS(r.updated), fromMS(r.window)
	if d.Status == message.WebhookPending {
		d.NextAttemptAt = fromMS(r.next)
	}
	d.Attempts = []message.WebhookAttempt{}
	return d
}

// SetWebhookScope implements storage.Store: the scope table the triggers
// read, replaced in one write, and the triggers made (or dropped for an
// empty scope) in the same transaction.
func (s *Store) SetWebhookScope(ctx context.Context, scope storage.WebhookScope) error {
	bg := context.Background()
	triggers := sqlDropWebhookTriggers
	if len(scope.Apps)+len(scope.APIKeys) > 0 {
		triggers = sqlWebhookTriggers
	}
	return s.submit(ctx, false, func(w *writer) error {
		if _, err := w.conn.ExecContext(bg, `DELETE FROM webhook_scope`); err != nil {
			return fmt.Errorf("set webhook scope: %w", err)
		}
		if _, err := w.conn.ExecContext(bg, triggers); err != nil {
			return fmt.Errorf("set webhook scope: triggers: %w", err)
		}
		for _, x := range []struct {
			kind  string
			names []string
		}{{"app", scope.Apps}, {"key", scope.APIKeys}} {
			for _, n := range x.names {
				if _, err := w.conn.ExecContext(bg, `INSERT OR IGNORE INTO webhook_scope (kind, name) VALUES (?, ?)`,
					x.kind, n); err != nil {
					return fmt.Errorf("set webhook scope: %w", err)
				}
			}
		}
		return nil
	})
}

// ClaimWebhooks implements storage.Store. Whether anything is due is
// read first, from the read pool: the deliverer polls, and an idle outbox
// must not cost the writer (every send's outcome waits for it) a request
// per poll.
func (s *Store) ClaimWebhooks(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]message.WebhookDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := s.readable(); err != nil {
		return nil, err
	}
	var due int
	err := s.rdb.QueryRowContext(ctx, sqlWebhookDue, toMS(now)).Scan(&due)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("claim webhooks: %w", err))
	}
	var out []message.WebhookDelivery
	err = s.submit(ctx, true, func(w *writer) error {
		out = out[:0]
		rows, err := w.conn.QueryContext(context.Background(), sqlClaimWebhooks, toMS(now), toMS(now.Add(lease)), limit)
		if err != nil {
			return fmt.Errorf("claim webhooks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r webhookRow
			if err := rows.Scan(r.dest()...); err != nil {
				return fmt.Errorf("claim webhooks: %w", err)
			}
			out = append(out, r.delivery())
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordWebhook implements storage.Store.
func (s *Store) RecordWebhook(ctx context.Context, id string, a message.WebhookAttempt, st message.WebhookStatus, next time.Time) error {
	if !st.Valid() {
		return fmt.Errorf("record webhook %s: invalid status %q", id, st)
	}
	now := s.now()
	at := a.At
	if at.IsZero() {
		at = now
	}
	if st != message.WebhookPending {
		next = time.Time{}
	}
	bg := context.Background()
	return s.submit(ctx, false, func(w *writer) error {
		var n int
		err := w.conn.QueryRowContext(bg, sqlRecordWebhook, id, string(st), toMS(next), toMS(now)).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("record webhook %s: %w", id, storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("record webhook %s: %w", id, err)
		}
		if _, err := w.conn.ExecContext(bg, sqlInsertWebhookAttempt, id, n, toMS(at), a.StatusCode, a.Error,
			a.LatencyMS); err != nil {
			return fmt.Errorf("record webhook %s: attempt: %w", id, err)
		}
		return nil
	})
}

// WebhookDelivery implements storage.Store.
func (s *Store) WebhookDelivery(ctx context.Context, id string) (_ message.WebhookDelivery, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return message.WebhookDelivery{}, err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return message.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, err)
	}
	defer tx.Rollback()
	var r webhookRow
	if err := tx.QueryRowContext(ctx, sqlGetWebhook, id).Scan(r.dest()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return message.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, storage.ErrNotFound)
		}
		return message.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, err)
	}
	d := r.delivery()
	if d.Attempts, err = webhookAttempts(ctx, tx, id); err != nil {
		return message.WebhookDelivery{}, err
	}
	return d, nil
}

func webhookAttempts(ctx context.Context, q querier, id string) ([]message.WebhookAttempt, error) {
	rows, err := q.QueryContext(ctx, sqlWebhookAttempts, id)
	if err != nil {
		return nil, fmt.Errorf("webhook delivery %s: attempts: %w", id, err)
	}
	defer rows.Close()
	out := []message.WebhookAttempt{}
	for rows.Next() {
		var (
			a  message.WebhookAttempt
			at int64
		)
		if err := rows.Scan(&a.N, &at, &a.StatusCode, &a.Error, &a.LatencyMS); err != nil {
			return nil, fmt.Errorf("webhook delivery %s: attempts: %w", id, err)
		}
		a.At = fromMS(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook delivery %s: attempts: %w", id, err)
	}
	return out, nil
}

// WebhookDeliveries implements storage.Store: newest first by seq; a
// cursor this store did not issue is storage.ErrNotFound, as for List.
func (s *Store) WebhookDeliveries(ctx context.Context, f storage.WebhookFilter) (_ []message.WebhookDelivery, _ string, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return nil, "", err
	}
	limit := storage.PageSize(f.Limit)
	var (
		conds []string
		args  []any
	)
	if f.MessageID != "" {
		conds, args = append(conds, "message_id = ?"), append(args, f.MessageID)
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return nil, "", fmt.Errorf("list webhook deliveries: status %q: %w", f.Status, storage.ErrNotFound)
		}
		conds, args = append(conds, "status = ?"), append(args, string(f.Status))
	}
	if f.Cursor != "" {
		seq, ok := decodeCursor(f.Cursor)
		if !ok {
			return nil, "", fmt.Errorf("list webhook deliveries: bad cursor: %w", storage.ErrNotFound)
		}
		conds, args = append(conds, "seq < ?"), append(args, seq)
	}
	q := `SELECT ` + webhookCols + ` FROM webhook_deliveries`
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, " AND ")
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, limit+1)
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	var (
		out  []message.WebhookDelivery
		seqs []int64
	)
	for rows.Next() {
		var r webhookRow
		if err := rows.Scan(r.dest()...); err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
		}
		out, seqs = append(out, r.delivery()), append(seqs, r.seq)
	}
	if err := rows.Close(); err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	next := ""
	if len(out) > limit {
		out, next = out[:limit], encodeCursor(seqs[limit-1])
	}
	for i := range out {
		if out[i].Attempts, err = webhookAttempts(ctx, tx, out[i].ID); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// RedeliverWebhook implements storage.Store.
func (s *Store) RedeliverWebhook(ctx context.Context, id string, now time.Time) (message.WebhookDelivery, error) {
	var r webhookRow
	bg := context.Background()
	err := s.submit(ctx, false, func(w *writer) error {
		err := w.conn.QueryRowContext(bg, sqlRedeliverWebhook, id, toMS(now)).Scan(r.dest()...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("redeliver webhook %s: %w", id, err)
		}
		var st string
		err = w.conn.QueryRowContext(bg, `SELECT status FROM webhook_deliveries WHERE id = ?`, id).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("redeliver webhook %s: %w", id, storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("redeliver webhook %s: %w", id, err)
		}
		return fmt.Errorf("redeliver webhook %s: status %s: %w", id, st, storage.ErrConflict)
	})
	if err != nil {
		return message.WebhookDelivery{}, err
	}
	return s.WebhookDelivery(ctx, r.d.ID)
}

// WebhookCounts implements storage.Store: pending from the due index,
// failed from the status index.
func (s *Store) WebhookCounts(ctx context.Context) (_ map[message.WebhookStatus]int, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return nil, err
	}
	var p, f int
	if err := s.rdb.QueryRowContext(ctx, sqlWebhookPending).Scan(&p); err != nil {
		return nil, fmt.Errorf("count webhook deliveries: %w", err)
	}
	if err := s.rdb.QueryRowContext(ctx, sqlWebhookFailed).Scan(&f); err != nil {
		return nil, fmt.Errorf("count webhook deliveries: %w", err)
	}
	return map[message.WebhookStatus]int{message.WebhookPending: p, message.WebhookFailed: f}, nil
}
