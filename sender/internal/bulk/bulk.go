// Package bulk drives the storage work too large for one write: it fans
// group broadcasts out and sweeps what nothing needs any more (expired
// idempotency keys, replaced groups' members, finished messages past their
// retention), one bounded step at a time. Between steps the store's writer is free for outcomes
// and new messages, and after each step the runner rests half as long as
// the step took, so bulk work never takes more than about two thirds of
// the writer (docs/delivery.md).
package bulk

import (
	"context"
	"log/slog"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
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
	retention  map[message.Status]time.Duration
	pruned     func(st message.Status, n int)
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

// WithRetention sets how long finished messages are kept, per status
// (delivered, failed, rejected, cancelled; absent or 0: forever). Each sweep prunes
// the older ones through storage.Retainer, in bounded steps, so a long
// backlog (retention turned on over years of
// history) is worked off over several sweeps without starving fan-outs.
func WithRetention(keep map[message.Status]time.Duration) Option {
	return func(r *Runner) { r.retention = keep }
}

// Retention deletes in steps of retentionChunk messages (fewer than other
// bulk steps: a deleted message touches every index of the table and its
// attempts, and a short write waits for one step at most — with 2,000 the
// soak's accept p99 tripled while deletes ran, docs/performance.md), and
// at most retentionSteps steps a sweep: 500 × 200 = 100,000 messages a
// minute, 6 million an hour.
const (
	retentionChunk = 200
	retentionSteps = 500
)

// WithPruned is called with the messages each sweep's retention deleted,
// per status (a metrics hook).
func WithPruned(f func(st message.Status, n int)) Option { return func(r *Runner) { r.pruned = f } }

// WithFannedOut is called with the messages each fan-out step created (a
// metrics hook).
func WithFannedOut(f func(n int)) Option { return func(r *Runner) { r.fannedOut = f } }

// New returns a runner over store.
func New(store Store, log *slog.Logger, opts ...Option) *Runner {
	r := &Runner{store: store, log: log, chunk: DefaultChunk, poll: DefaultPoll, sweepEvery: DefaultSweepEvery,
		keyWindow: DefaultKeyWindow, fannedOut: func(int) {}, pruned: func(message.Status, int) {}, wake: make(chan struct{}, 1)}
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
			r.prune(ctx)
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

// prune deletes the history older than the retention, status by status.
func (r *Runner) prune(ctx context.Context) {
	ret, ok := r.store.(storage.Retainer)
	if !ok || len(r.retention) == 0 {
		return
	}
	for _, st := range []message.Status{message.StatusDelivered, message.StatusFailed, message.StatusRejected, message.StatusCancelled} {
		keep := r.retention[st]
		if keep <= 0 {
			continue
		}
		before, steps, total := time.Now().Add(-keep), 0, 0
		r.drain(ctx, "retention", func() (bool, error) {
			chunk := min(r.chunk, retentionChunk)
			n, err := ret.PruneMessages(ctx, st, before, chunk)
			steps, total = steps+1, total+n
			return n == chunk && steps < retentionSteps, err
		})
		if total > 0 {
			r.pruned(st, total)
			r.log.Info("retention: old messages deleted", "status", st, "deleted", total, "older_than", before)
		}
	}
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
