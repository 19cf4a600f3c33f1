package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Schedules (storage.Schedules) live in one hash, <prefix>:schedules, id →
// the schedule as JSON with its runs. They are few (an operator makes
// them) and rarely written, so one key is enough, and a claim is a
// read-modify-write under WATCH on that key: of two instances claiming the
// same run, the second's transaction fails and it reads the claim made.
func (s *Store) schedulesKey() string { return s.prefix + ":schedules" }

// maxWatchRetries bounds the optimistic transaction's retries.
const maxWatchRetries = 50

// CreateSchedule implements storage.Schedules.
func (s *Store) CreateSchedule(ctx context.Context, sc message.Schedule) error {
	if sc.ID == "" || sc.App == "" {
		return errors.New("create schedule: empty id or app")
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	sc.NextRunAt = time.Time{}
	b, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", sc.ID, err)
	}
	ok, err := s.c.HSetNX(ctx, s.schedulesKey(), sc.ID, b).Result()
	if err := s.done(err); err != nil {
		return fmt.Errorf("create schedule %s: %w", sc.ID, err)
	}
	if !ok {
		return fmt.Errorf("create schedule %s: %w", sc.ID, storage.ErrConflict)
	}
	return nil
}

func decodeSchedule(raw string) (message.Schedule, error) {
	var sc message.Schedule
	if err := json.Unmarshal([]byte(raw), &sc); err != nil {
		return message.Schedule{}, fmt.Errorf("decode schedule: %w", err)
	}
	if sc.Runs == nil {
		sc.Runs = []message.ScheduleRun{}
	}
	return sc, nil
}

// Schedule implements storage.Schedules.
func (s *Store) Schedule(ctx context.Context, id string) (message.Schedule, error) {
	if err := s.begin(ctx); err != nil {
		return message.Schedule{}, err
	}
	raw, err := s.c.HGet(ctx, s.schedulesKey(), id).Result()
	if errors.Is(err, goredis.Nil) {
		return message.Schedule{}, fmt.Errorf("schedule %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return message.Schedule{}, fmt.Errorf("schedule %s: %w", id, classify(err))
	}
	return decodeSchedule(raw)
}

// ListSchedules implements storage.Schedules. It reads every schedule's
// id (HKEYS: they are few) and the page's documents.
func (s *Store) ListSchedules(ctx context.Context, app, after string, limit int) ([]message.Schedule, string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	limit = storage.PageSize(limit)
	all, err := s.c.HGetAll(ctx, s.schedulesKey()).Result()
	if err != nil {
		return nil, "", fmt.Errorf("list schedules: %w", classify(err))
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := []message.Schedule{}
	for _, id := range ids {
		sc, err := decodeSchedule(all[id])
		if err != nil {
			return nil, "", err
		}
		if app != "" && sc.App != app {
			continue
		}
		if len(out) == limit {
			return out, out[limit-1].ID, nil
		}
		out = append(out, sc)
	}
	return out, "", nil
}

// modifySchedule reads, changes and writes schedule id atomically (WATCH,
// MULTI/EXEC, retried when another writer came between); change returning
// false writes nothing.
func (s *Store) modifySchedule(ctx context.Context, id string, change func(*message.Schedule) (bool, error)) (message.Schedule, error) {
	if err := s.begin(ctx); err != nil {
		return message.Schedule{}, err
	}
	key := s.schedulesKey()
	var out message.Schedule
	for range maxWatchRetries {
		err := s.c.Watch(ctx, func(tx *goredis.Tx) error {
			raw, err := tx.HGet(ctx, key, id).Result()
			if errors.Is(err, goredis.Nil) {
				return fmt.Errorf("schedule %s: %w", id, storage.ErrNotFound)
			}
			if err != nil {
				return err
			}
			sc, err := decodeSchedule(raw)
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
			sc.NextRunAt = time.Time{}
			b, err := json.Marshal(sc)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				p.HSet(ctx, key, id, b)
				return nil
			})
			return err
		}, key)
		if errors.Is(err, goredis.TxFailedErr) {
			continue // another writer first: read again
		}
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
			return out, err
		}
		return out, s.done(err)
	}
	return message.Schedule{}, fmt.Errorf("schedule %s: %d concurrent writers in a row: %w", id, maxWatchRetries, storage.ErrUnavailable)
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
	if err := s.begin(ctx); err != nil {
		return err
	}
	n, err := s.c.HDel(ctx, s.schedulesKey(), id).Result()
	if err := s.done(err); err != nil {
		return fmt.Errorf("delete schedule %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete schedule %s: %w", id, storage.ErrNotFound)
	}
	return nil
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
