package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Schedules are one JSON document each (schema version 11); a claim reads,
// changes and writes it in one writer transaction, which makes it atomic
// (storage.Schedules).
const (
	sqlInsertSchedule = `INSERT INTO schedules (id, app, doc) VALUES (?, ?, ?)`
	sqlScheduleDoc    = `SELECT doc FROM schedules WHERE id = ?`
	sqlUpdateSchedule = `UPDATE schedules SET doc = ? WHERE id = ?`
	sqlDeleteSchedule = `DELETE FROM schedules WHERE id = ?`
	sqlSchedulesAll   = `SELECT doc FROM schedules WHERE id > ? ORDER BY id LIMIT ?`
	sqlSchedulesApp   = `SELECT doc FROM schedules WHERE app = ? AND id > ? ORDER BY id LIMIT ?`
)

func decodeSchedule(doc string) (message.Schedule, error) {
	var s message.Schedule
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		return message.Schedule{}, fmt.Errorf("decode schedule: %w", err)
	}
	if s.Runs == nil {
		s.Runs = []message.ScheduleRun{}
	}
	return s, nil
}

func encodeSchedule(s message.Schedule) (string, error) {
	s.NextRunAt = time.Time{} // computed on reading, never stored
	b, err := json.Marshal(s)
	return string(b), err
}

// CreateSchedule implements storage.Schedules.
func (s *Store) CreateSchedule(ctx context.Context, sc message.Schedule) error {
	if sc.ID == "" || sc.App == "" {
		return errors.New("create schedule: empty id or app")
	}
	doc, err := encodeSchedule(sc)
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", sc.ID, err)
	}
	return s.submit(ctx, true, func(w *writer) error {
		var n int
		if err := w.conn.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM schedules WHERE id = ?", sc.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("create schedule %s: %w", sc.ID, storage.ErrConflict)
		}
		_, err := w.conn.ExecContext(context.Background(), sqlInsertSchedule, sc.ID, sc.App, doc)
		return err
	})
}

// Schedule implements storage.Schedules.
func (s *Store) Schedule(ctx context.Context, id string) (_ message.Schedule, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return message.Schedule{}, err
	}
	var doc string
	err = s.rdb.QueryRowContext(ctx, sqlScheduleDoc, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return message.Schedule{}, fmt.Errorf("schedule %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return message.Schedule{}, fmt.Errorf("schedule %s: %w", id, err)
	}
	return decodeSchedule(doc)
}

// ListSchedules implements storage.Schedules.
func (s *Store) ListSchedules(ctx context.Context, app, after string, limit int) (_ []message.Schedule, _ string, err error) {
	defer func() { err = unavailable(err) }()
	if err := s.readable(); err != nil {
		return nil, "", err
	}
	limit = storage.PageSize(limit)
	var rows *sql.Rows
	if app == "" {
		rows, err = s.rdb.QueryContext(ctx, sqlSchedulesAll, after, limit+1)
	} else {
		rows, err = s.rdb.QueryContext(ctx, sqlSchedulesApp, app, after, limit+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list schedules: %w", err)
	}
	defer rows.Close()
	out := []message.Schedule{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, "", fmt.Errorf("list schedules: %w", err)
		}
		sc, err := decodeSchedule(doc)
		if err != nil {
			return nil, "", err
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list schedules: %w", err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	return out[:limit], out[limit-1].ID, nil
}

// modifySchedule reads, changes and writes schedule id in one writer
// transaction; change returning false writes nothing.
func (s *Store) modifySchedule(ctx context.Context, id string, change func(*message.Schedule) (bool, error)) (message.Schedule, error) {
	var out message.Schedule
	err := s.submit(ctx, true, func(w *writer) error {
		bg := context.Background()
		var doc string
		err := w.conn.QueryRowContext(bg, sqlScheduleDoc, id).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("schedule %s: %w", id, storage.ErrNotFound)
		}
		if err != nil {
			return err
		}
		sc, err := decodeSchedule(doc)
		if err != nil {
			return err
		}
		write, err := change(&sc)
		if err != nil {
			return err
		}
		out = sc
		if !write {
			return nil
		}
		if doc, err = encodeSchedule(sc); err != nil {
			return err
		}
		_, err = w.conn.ExecContext(bg, sqlUpdateSchedule, doc, id)
		return err
	})
	return out, err
}

// PauseSchedule implements storage.Schedules.
func (s *Store) PauseSchedule(ctx context.Context, id string, paused bool, at time.Time) (message.Schedule, error) {
	return s.modifySchedule(ctx, id, func(sc *message.Schedule) (bool, error) {
		sc.Paused, sc.UpdatedAt = paused, ms(at)
		return true, nil
	})
}

// DeleteSchedule implements storage.Schedules.
func (s *Store) DeleteSchedule(ctx context.Context, id string) error {
	return s.submit(ctx, true, func(w *writer) error {
		res, err := w.conn.ExecContext(context.Background(), sqlDeleteSchedule, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("delete schedule %s: %w", id, storage.ErrNotFound)
		}
		return nil
	})
}

// ClaimRun implements storage.Schedules.
func (s *Store) ClaimRun(ctx context.Context, id string, run message.ScheduleRun) (bool, error) {
	return storage.ClaimRunWith(ctx, s.modifySchedule, id, run)
}

// FinishRun implements storage.Schedules.
func (s *Store) FinishRun(ctx context.Context, id string, at time.Time, outcome, broadcastID, errText string) error {
	return storage.FinishRunWith(ctx, s.modifySchedule, id, at, outcome, broadcastID, errText)
}

var (
	_ storage.Schedules = (*Store)(nil)
	_ storage.Audiences = (*Store)(nil)
)
