// Package bulk drives the storage work too large for one write: it fans
// group broadcasts out and sweeps what nothing needs any more (expired
// idempotency keys, replaced groups' members), one bounded step at a time. Between steps the store's writer is free for outcomes
// and new messages, and after each step the runner rests half as long as
// the step took, so bulk work never takes more than about two thirds of
// the writer (docs/delivery.md).
package bulk

import (
	"context"
	"log/slog"
	"time"
)

// Store is what the runner needs from storage.
type Store interface {
	FanOut(ctx context.Context, limit int) (n int, more bool, err error)
	Sweep(ctx context.Context, keysBefore time.Time, limit int) (int, error)
}

// Defaults for the options.
const (
	// DefaultChunk is the rows of one step: a few tens of milliseconds
	// of the writer on a busy 2-core machine (docs/delivery.md).
	DefaultChunk = 2000
	// DefaultPoll is how often the runner looks for work nobody woke it
	// for (fan-outs left unfinished by a restart are picked up at once).
	DefaultPoll = time.Second
	// DefaultSweepEvery is how often it sweeps.
	DefaultSweepEvery = time.Minute
	// DefaultKeyWindow is how long idempotency keys are kept.
	DefaultKeyWindow = 24 * time.Hour
)

// Runner runs the bulk work. Create with New, start with Run.
type Runner struct {
	store      Store
	log        *slog.Logger
	chunk      int
	poll       time.Duration
	sweepEvery time.Duration
	keyWindow  time.Duration
	fannedOut  func(n int)
	wake       chan struct{}
}

// Option configures a Runner.
type Option func(*Runner)

// WithChunk sets the rows per step.
func WithChunk(n int) Option { return func(r *Runner) { r.chunk = n } }

// WithPoll sets how often the runner looks for unannounced work.
func WithPoll(d time.Duration) Option { return func(r *Runner) { r.poll = d } }

// WithSweepEvery sets how often the runner sweeps.
func WithSweepEvery(d time.Duration) Option { return func(r *Runner) { r.sweepEvery = d } }

// WithKeyWindow sets how long idempotency keys are kept: each sweep
// expires those older.
func WithKeyWindow(d time.Duration) Option { return func(r *Runner) { r.keyWindow = d } }

// WithFannedOut is called with the messages each fan-out step created (a
// metrics hook).
func WithFannedOut(f func(n int)) Option { return func(r *Runner) { r.fannedOut = f } }

// New returns a runner over store.
func New(store Store, log *slog.Logger, opts ...Option) *Runner {
	r := &Runner{store: store, log: log, chunk: DefaultChunk, poll: DefaultPoll, sweepEvery: DefaultSweepEvery,
		keyWindow: DefaultKeyWindow, fannedOut: func(int) {}, wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Wake tells the runner there is fan-out work (a group broadcast was just
// accepted), so it starts now rather than at the next poll.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends. A step that fails is logged and tried again
// at the next poll: its work is not lost, only delayed.
func (r *Runner) Run(ctx context.Context) error {
	nextSweep := time.Now().Add(r.sweepEvery)
	for ctx.Err() == nil {
		r.drain(ctx, "fan out", func() (bool, error) {
			n, more, err := r.store.FanOut(ctx, r.chunk)
			if n > 0 {
				r.fannedOut(n)
			}
			return more, err
		})
		if !time.Now().Before(nextSweep) {
			keysBefore := time.Now().Add(-r.keyWindow)
			r.drain(ctx, "sweep", func() (bool, error) {
				n, err := r.store.Sweep(ctx, keysBefore, r.chunk)
				return n > 0, err
			})
			nextSweep = time.Now().Add(r.sweepEvery)
		}
		t := time.NewTimer(min(r.poll, time.Until(nextSweep)))
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// drain runs step until it reports no more work, resting after each.
func (r *Runner) drain(ctx context.Context, what string, step func() (more bool, err error)) {
	for ctx.Err() == nil {
		start := time.Now()
		more, err := step()
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("bulk storage work failed; will try again", "work", what, "err", err)
			}
			return
		}
		if !more {
			return
		}
		t := time.NewTimer(time.Since(start) / 2)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}
