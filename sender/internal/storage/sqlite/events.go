package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

const (
	eventCols      = `id, app, platform, dedupe_key, name, user_id, payload, received_at, processed_at, result`
	sqlInsertEvent = `INSERT INTO events (` + eventCols + `) VALUES (?,?,?,?,?,?,?,?,0,'')
	ON CONFLICT (app, dedupe_key) DO NOTHING`
	sqlEventByKey   = `SELECT ` + eventCols + ` FROM events WHERE app = ? AND dedupe_key = ?`
	sqlEventByID    = `SELECT ` + eventCols + ` FROM events WHERE id = ?`
	sqlPendingEvent = `SELECT ` + eventCols + ` FROM events INDEXED BY events_pending
	WHERE processed_at = 0 ORDER BY seq LIMIT ?`
	sqlCompleteEvent = `UPDATE events SET processed_at = ?1, result = ?2 WHERE id = ?3 AND processed_at = 0`
	sqlPutReceipt    = `INSERT INTO receipts (app, platform_msgid, status, error_code, error_status, at)
	VALUES (?,?,?,?,?,?)
	ON CONFLICT (app, platform_msgid) DO UPDATE SET status = excluded.status,
		error_code = excluded.error_code, error_status = excluded.error_status, at = excluded.at`
	// sqlPruneEvents deletes at most 5,000 events (storage.PruneBatch): a
	// long delete would hold the writer every send waits for.
	sqlPruneEvents = `DELETE FROM events WHERE seq IN (SELECT seq FROM events INDEXED BY events_processed
	WHERE processed_at <> 0 AND received_at < ? LIMIT 5000)`
)

type eventRow struct {
	e                   message.Event
	received, processed int64
}

func (r *eventRow) dest() []any {
	return []any{&r.e.ID, &r.e.App, &r.e.Platform, &r.e.Key, &r.e.Name, &r.e.User, &r.e.Payload,
		&r.received, &r.processed, &r.e.Result}
}

func (r *eventRow) event() message.Event {
	e := r.e
	e.ReceivedAt, e.ProcessedAt = fromMS(r.received), fromMS(r.processed)
	return e
}

// PutEvent implements storage.Store.
func (s *Store) PutEvent(ctx context.Context, e message.Event) (message.Event, bool, error) {
	switch {
	case e.App == "":
		return message.Event{}, false, errors.New("put event: empty app")
	case e.Key == "":
		return message.Event{}, false, errors.New("put event: empty dedupe key")
	}
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = s.now()
	}
	if e.ID == "" {
		e.ID = message.NewID("evt_", e.ReceivedAt)
	}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	e.ReceivedAt, e.ProcessedAt, e.Result = ms(e.ReceivedAt), time.Time{}, ""
	var (
		dup      bool
		existing eventRow
	)
	err := s.submit(ctx, true, func(w *writer) error {
		res, err := w.conn.ExecContext(context.Background(), sqlInsertEvent, e.ID, e.App, e.Platform, e.Key, e.Name,
			e.User, e.Payload, toMS(e.ReceivedAt))
		if err != nil {
			return writeErr("put event "+e.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("put event %s: %w", e.ID, err)
		}
		if dup = n == 0; dup {
			if err := w.conn.QueryRowContext(context.Background(), sqlEventByKey, e.App, e.Key).Scan(existing.dest()...); err != nil {
				return fmt.Errorf("put event %s: read duplicate: %w", e.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return message.Event{}, false, err
	}
	if dup {
		return existing.event(), true, nil
	}
	return e, false, nil
}

// PendingEvents implements storage.Store.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]message.Event, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.rdb.QueryContext(ctx, sqlPendingEvent, limit)
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	defer rows.Close()
	var out []message.Event
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("pending events: %w", err)
		}
		out = append(out, r.event())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	return out, nil
}

// Event implements storage.Store.
func (s *Store) Event(ctx context.Context, id string) (message.Event, error) {
	if err := s.readable(); err != nil {
		return message.Event{}, err
	}
	var r eventRow
	err := s.rdb.QueryRowContext(ctx, sqlEventByID, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return message.Event{}, fmt.Errorf("event %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return message.Event{}, fmt.Errorf("event %s: %w", id, err)
	}
	return r.event(), nil
}

// CompleteEvent implements storage.Store: the mark and every effect in one
// request of the writer, so a crash leaves all or none of them.
func (s *Store) CompleteEvent(ctx context.Context, id string, fx storage.EventEffects, at time.Time) error {
	for _, c := range fx.Consent {
		if err := c.Change.Valid(); err != nil {
			return fmt.Errorf("complete event %s: %w", id, err)
		}
	}
	for _, r := range fx.Receipts {
		if r.App == "" || r.PlatformMsgID == "" {
			return fmt.Errorf("complete event %s: a receipt needs an app and a platform msgid", id)
		}
	}
	bg := context.Background()
	return s.submit(ctx, false, func(w *writer) error {
		res, err := w.conn.ExecContext(bg, sqlCompleteEvent, toMS(at), fx.Result, id)
		if err != nil {
			return fmt.Errorf("complete event %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("complete event %s: %w", id, err)
		} else if n == 0 {
			var processed int64
			err := w.conn.QueryRowContext(bg, "SELECT processed_at FROM events WHERE id = ?", id).Scan(&processed)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("complete event %s: %w", id, storage.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("complete event %s: %w", id, err)
			}
			return fmt.Errorf("complete event %s: processed already: %w", id, storage.ErrConflict)
		}
		for _, c := range fx.Consent {
			if _, _, err := w.applyConsent(c.Key, c.Change, at); err != nil {
				return fmt.Errorf("complete event %s: %w", id, err)
			}
		}
		for _, r := range fx.Receipts {
			rc := r.Receipt
			if _, err := w.conn.ExecContext(bg, sqlPutReceipt, r.App, r.PlatformMsgID, string(rc.Status), rc.ErrorCode,
				rc.ErrorStatus, toMS(rc.At)); err != nil {
				return fmt.Errorf("complete event %s: receipt %s: %w", id, r.PlatformMsgID, err)
			}
		}
		return nil
	})
}

// PruneEvents implements storage.Store.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.submit(ctx, true, func(w *writer) error {
		res, err := w.conn.ExecContext(context.Background(), sqlPruneEvents, toMS(before))
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

const (
	consentCols   = `app, user_id, template_id, credits, long_term, rejected, source, accepts, rejects, updated_at`
	sqlGetConsent = `SELECT ` + consentCols + ` FROM consents WHERE app = ? AND user_id = ? AND template_id = ?`
	sqlPutConsent = `INSERT INTO consents (` + consentCols + `) VALUES (?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (app, user_id, template_id) DO UPDATE SET credits = excluded.credits,
		long_term = excluded.long_term, rejected = excluded.rejected, source = excluded.source,
		accepts = excluded.accepts, rejects = excluded.rejects, updated_at = excluded.updated_at`
)

type consentRow struct {
	e       consent.Entry
	updated int64
}

func (r *consentRow) dest() []any {
	return []any{&r.e.App, &r.e.User, &r.e.TemplateID, &r.e.Credits, &r.e.LongTerm, &r.e.Rejected, &r.e.Source,
		&r.e.Accepts, &r.e.Rejects, &r.updated}
}

func (r *consentRow) entry() consent.Entry {
	e := r.e
	e.UpdatedAt = fromMS(r.updated)
	return e
}

func scanConsent(row *sql.Row, k consent.Key) (consent.Entry, error) {
	var r consentRow
	err := row.Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Entry{App: k.App, User: k.User, TemplateID: k.TemplateID}, nil
	}
	if err != nil {
		return consent.Entry{}, err
	}
	return r.entry(), nil
}

// Consent implements storage.Store.
func (s *Store) Consent(ctx context.Context, k consent.Key) (consent.Entry, error) {
	if err := s.readable(); err != nil {
		return consent.Entry{}, err
	}
	e, err := scanConsent(s.rdb.QueryRowContext(ctx, sqlGetConsent, k.App, k.User, k.TemplateID), k)
	if err != nil {
		return consent.Entry{}, fmt.Errorf("consent %s: %w", k, err)
	}
	return e, nil
}

// ApplyConsent implements storage.Store: read, apply and write in one
// request of the writer, which runs requests one at a time.
func (s *Store) ApplyConsent(ctx context.Context, k consent.Key, c consent.Change, at time.Time) (consent.Entry, consent.Entry, error) {
	if err := c.Valid(); err != nil {
		return consent.Entry{}, consent.Entry{}, fmt.Errorf("consent %s: %w", k, err)
	}
	if k.App == "" || k.User == "" || k.TemplateID == "" {
		return consent.Entry{}, consent.Entry{}, fmt.Errorf("consent %q: app, user and template are required", k)
	}
	var before, after consent.Entry
	err := s.submit(ctx, true, func(w *writer) error {
		var err error
		before, after, err = w.applyConsent(k, c, at)
		return err
	})
	return before, after, err
}

// applyConsent is ApplyConsent inside the writer's transaction.
func (w *writer) applyConsent(k consent.Key, c consent.Change, at time.Time) (consent.Entry, consent.Entry, error) {
	bg := context.Background()
	before, err := scanConsent(w.conn.QueryRowContext(bg, sqlGetConsent, k.App, k.User, k.TemplateID), k)
	if err != nil {
		return before, before, fmt.Errorf("consent %s: %w", k, err)
	}
	after, changed := c.Apply(before, ms(at))
	if !changed {
		return before, after, nil
	}
	if _, err := w.conn.ExecContext(bg, sqlPutConsent, k.App, k.User, k.TemplateID, after.Credits, after.LongTerm,
		after.Rejected, after.Source, after.Accepts, after.Rejects, toMS(after.UpdatedAt)); err != nil {
		return before, before, fmt.Errorf("consent %s: %w", k, err)
	}
	return before, after, nil
}

// Consents implements storage.Store.
func (s *Store) Consents(ctx context.Context, app, user string, after consent.Key, limit int) ([]consent.Entry, consent.Key, error) {
	if err := s.readable(); err != nil {
		return nil, consent.Key{}, err
	}
	limit = storage.PageSize(limit)
	q, args := `SELECT `+consentCols+` FROM consents WHERE app = ?`, []any{app}
	if user != "" {
		q, args = q+` AND user_id = ?`, append(args, user)
	}
	if after != (consent.Key{}) {
		q, args = q+` AND (user_id, template_id) > (?, ?)`, append(args, after.User, after.TemplateID)
	}
	q, args = q+` ORDER BY user_id, template_id LIMIT ?`, append(args, limit+1) // one more tells whether a next page exists
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, consent.Key{}, fmt.Errorf("consents of %s: %w", app, err)
	}
	defer rows.Close()
	out := []consent.Entry{}
	for rows.Next() {
		var r consentRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, consent.Key{}, fmt.Errorf("consents of %s: %w", app, err)
		}
		out = append(out, r.entry())
	}
	if err := rows.Err(); err != nil {
		return nil, consent.Key{}, fmt.Errorf("consents of %s: %w", app, err)
	}
	if len(out) <= limit {
		return out, consent.Key{}, nil
	}
	last := out[limit-1]
	return out[:limit], consent.Key{User: last.User, TemplateID: last.TemplateID}, nil
}
