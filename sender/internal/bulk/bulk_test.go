package bulk_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/bulk"
)

// store has fan-out and sweep work in rows; a step takes up to limit.
type store struct {
	mu               sync.Mutex
	fanout, sweep    int
	fanSteps, sweeps int
	maxStep          int
	failNext         bool
	keysBefore       time.Time
}

func (s *store) FanOut(_ context.Context, limit int) (int, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext {
		s.failNext = false
		return 0, false, errors.New("disk I/O error")
	}
	n := min(limit, s.fanout)
	s.fanout -= n
	s.fanSteps++
	s.maxStep = max(s.maxStep, n)
	return n, s.fanout > 0, nil
}

func (s *store) Sweep(_ context.Context, keysBefore time.Time, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keysBefore = keysBefore
	n := min(limit, s.sweep)
	s.sweep -= n
	s.sweeps++
	return n, nil
}

func (s *store) add(fanout int) {
	s.mu.Lock()
	s.fanout += fanout
	s.mu.Unlock()
}

func (s *store) left() (fanout, sweep, maxStep int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fanout, s.sweep, s.maxStep
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Work present at start (a restart mid fan-out) is done at once, in steps
// no larger than the chunk; new work is done when Wake says so, long
// before the poll; a failed step is tried again; sweeps run on their own
// schedule.
func TestRunner(t *testing.T) {
	t.Parallel()
	st := &store{fanout: 25, sweep: 7}
	r := bulk.New(st, slog.New(slog.DiscardHandler), bulk.WithChunk(10), bulk.WithPoll(time.Hour),
		bulk.WithSweepEvery(50*time.Millisecond), bulk.WithKeyWindow(3*time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	waitFor(t, "the fan-out present at start", func() bool { f, _, _ := st.left(); return f == 0 })
	st.add(5)
	r.Wake()
	waitFor(t, "the woken fan-out", func() bool { f, _, _ := st.left(); return f == 0 })
	st.mu.Lock()
	st.failNext = true
	st.mu.Unlock()
	st.add(3)
	r.Wake() // this step fails
	time.Sleep(20 * time.Millisecond)
	r.Wake() // and is tried again
	waitFor(t, "the retried fan-out", func() bool { f, _, _ := st.left(); return f == 0 })
	waitFor(t, "the sweep", func() bool { _, s, _ := st.left(); return s == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, maxStep := st.left(); maxStep > 10 {
		t.Errorf("a step of %d rows, over the chunk of 10", maxStep)
	}
	// Keys expire after the window, not before.
	st.mu.Lock()
	age := time.Since(st.keysBefore)
	st.mu.Unlock()
	if age < 3*time.Hour || age > 3*time.Hour+5*time.Second {
		t.Errorf("the sweep expired keys older than %v, want the 3h window", age)
	}
}
