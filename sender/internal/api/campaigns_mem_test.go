package api_test

import (
	"context"
	"iter"
	"slices"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// memStore's CSV audiences and schedules: enough to drive the handlers.

func (s *memStore) PutAudience(ctx context.Context, app, name string, members iter.Seq2[message.Member, error], report func() *message.AudienceReport, key string, fp func() string) (message.Group, bool, error) {
	g, dup, err := s.PutGroup(ctx, app, name, func(yield func(string, error) bool) {
		for m, err := range members {
			if !yield(m.To, err) {
				return
			}
		}
	}, key, fp)
	if err == nil && report != nil {
		g.CSV = report()
	}
	return g, dup, err
}

func (s *memStore) CreateSchedule(_ context.Context, sc message.Schedule) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schedules == nil {
		s.schedules = map[string]message.Schedule{}
	}
	if _, ok := s.schedules[sc.ID]; ok {
		return storage.ErrConflict
	}
	s.schedules[sc.ID] = sc
	return nil
}

func (s *memStore) Schedule(_ context.Context, id string) (message.Schedule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.schedules[id]
	if !ok {
		return message.Schedule{}, storage.ErrNotFound
	}
	return sc, nil
}

func (s *memStore) ListSchedules(_ context.Context, app, after string, limit int) ([]message.Schedule, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []message.Schedule
	for _, sc := range s.schedules {
		if (app == "" || sc.App == app) && sc.ID > after {
			out = append(out, sc)
		}
	}
	slices.SortFunc(out, func(a, b message.Schedule) int { return compare(a.ID, b.ID) })
	return out, "", nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *memStore) modify(id string, f func(*message.Schedule) error) (message.Schedule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.schedules[id]
	if !ok {
		return message.Schedule{}, storage.ErrNotFound
	}
	if err := f(&sc); err != nil {
		return sc, err
	}
	s.schedules[id] = sc
	return sc, nil
}

func (s *memStore) PauseSchedule(_ context.Context, id string, paused bool, at time.Time) (message.Schedule, error) {
	return s.modify(id, func(sc *message.Schedule) error { sc.Paused, sc.UpdatedAt = paused, at; return nil })
}

func (s *memStore) DeleteSchedule(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.schedules[id]; !ok {
		return storage.ErrNotFound
	}
	delete(s.schedules, id)
	return nil
}

func (s *memStore) ClaimRun(_ context.Context, id string, run message.ScheduleRun) (bool, error) {
	var took bool
	_, err := s.modify(id, func(sc *message.Schedule) error {
		var err error
		took, err = storage.ClaimRun(sc, run)
		return err
	})
	return took, err
}

func (s *memStore) FinishRun(_ context.Context, id string, at time.Time, outcome, bid, errText string) error {
	_, err := s.modify(id, func(sc *message.Schedule) error {
		if !storage.FinishRun(sc, at, outcome, bid, errText) {
			return storage.ErrNotFound
		}
		return nil
	})
	return err
}
