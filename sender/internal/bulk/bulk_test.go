package bulk_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/bulk"
	"github.com/minipush/minipush/sender/internal/message"
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

// retainer is a store with finished messages to prune, per status.
type retainer struct {
	store
	mu2    sync.Mutex
	old    map[message.Status]int
	cuts   map[message.Status]time.Time
	asked  []message.Status
	prunes int
}

func (r *retainer) PruneMessages(_ context.Context, st message.Status, before time.Time, limit int) (int, error) {
	r.mu2.Lock()
	defer r.mu2.Unlock()
	r.asked = append(r.asked, st)
	r.cuts[st] = before
	r.prunes++
	n := min(limit, r.old[st])
	r.old[st] -= n
	return n, nil
}

// Each sweep prunes every status with a retention, cut off at now less
// its own retention, in bounded steps; a status without one is kept, and
// a long backlog takes several sweeps (in bounded steps).
func TestRunnerRetention(t *testing.T) {
	t.Parallel()
	r := &retainer{old: map[message.Status]int{message.StatusDelivered: 120, message.StatusFailed: 5,
		message.StatusRejected: 7}, cuts: map[message.Status]time.Time{}}
	var mu sync.Mutex
	pruned := map[message.Status]int{}
	run := bulk.New(r, slog.New(slog.DiscardHandler), bulk.WithChunk(2), bulk.WithSweepEvery(20*time.Millisecond),
		bulk.WithPoll(5*time.Millisecond),
		bulk.WithRetention(map[message.Status]time.Duration{message.StatusDelivered: 7 * 24 * time.Hour,
			message.StatusFailed: 30 * 24 * time.Hour}),
		bulk.WithPruned(func(st message.Status, n int) { mu.Lock(); pruned[st] += n; mu.Unlock() }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- run.Run(ctx) }()
	waitFor(t, "the delivered backlog pruned", func() bool {
		r.mu2.Lock()
		defer r.mu2.Unlock()
		return r.old[message.StatusDelivered] == 0 && r.old[message.StatusFailed] == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.mu2.Lock()
	defer r.mu2.Unlock()
	if r.old[message.StatusRejected] != 7 {
		t.Errorf("rejected messages pruned without a retention: %d left of 7", r.old[message.StatusRejected])
	}
	for _, st := range r.asked {
		if st == message.StatusRejected {
			t.Error("PruneMessages asked for rejected messages, which have no retention")
		}
	}
	d := start.Sub(r.cuts[message.StatusDelivered])
	if d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("delivered cut off %v before the start, want 7 days", d)
	}
	f := start.Sub(r.cuts[message.StatusFailed])
	if f < 30*24*time.Hour-time.Minute || f > 30*24*time.Hour+time.Minute {
		t.Errorf("failed cut off %v before the start, want 30 days", f)
	}
	// 120 delivered in steps of 2 (the test's chunk).
	mu.Lock()
	defer mu.Unlock()
	if pruned[message.StatusDelivered] != 120 || pruned[message.StatusFailed] != 5 {
		t.Errorf("pruned %v, want 120 delivered and 5 failed", pruned)
	}
}
