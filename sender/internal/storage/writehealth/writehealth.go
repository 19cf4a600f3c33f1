// Package writehealth keeps what a store's recent writes saw, so that its
// Writable (and /readyz) answers from memory, never from a query or a round
// trip: a readiness probe must not wait on a stalled disk or a Redis that
// hangs. Both storage drivers use it; Probe writes when nothing else does.
package writehealth

import (
	"fmt"
	"sync"
	"time"
)

const (
	// RecoverAfter: after a failed write, the store reads as writable
	// again once a write has succeeded and none has failed for this long,
	// so one small write slipping through a full disk does not flip it
	// back and forth.
	RecoverAfter = 2 * time.Second
	// While unhealthy, a probe write every ProbeUnhealthy notices that
	// the store is back even when nothing else writes; while healthy and
	// idle, one every ProbeIdle notices that it went away.
	ProbeUnhealthy = time.Second
	ProbeIdle      = 5 * time.Second
)

// Tracker is the outcome of a store's recent writes. The zero value is
// healthy; What names the writes in State's error ("write", "write to
// Redis").
type Tracker struct {
	What string

	mu       sync.Mutex
	lastOK   time.Time
	lastFail time.Time
	failErr  error
}

// OK notes a write that succeeded at now.
func (h *Tracker) OK(now time.Time) {
	h.mu.Lock()
	h.lastOK = now
	h.mu.Unlock()
}

// Failed notes a write that failed at now with err.
func (h *Tracker) Failed(now time.Time, err error) {
	h.mu.Lock()
	h.lastFail, h.failErr = now, err
	h.mu.Unlock()
}

// State is nil when writes succeed; else the last failure, wrapped.
func (h *Tracker) State(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failErr == nil || (h.lastOK.After(h.lastFail) && now.Sub(h.lastFail) >= RecoverAfter) {
		return nil
	}
	what := h.What
	if what == "" {
		what = "write"
	}
	return fmt.Errorf("the last %s failed %s ago: %w", what, now.Sub(h.lastFail).Round(time.Millisecond), h.failErr)
}

// LastWrite is when a write last succeeded or failed.
func (h *Tracker) LastWrite() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastOK.After(h.lastFail) {
		return h.lastOK
	}
	return h.lastFail
}

// Probe calls write (a small write whose outcome the store notes in h, as
// any write's) every ProbeUnhealthy while the last write failed, and after
// ProbeIdle without any write, until stop closes; then it closes done.
func (h *Tracker) Probe(stop <-chan struct{}, done chan<- struct{}, write func(now time.Time)) {
	defer close(done)
	t := time.NewTicker(ProbeUnhealthy)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := time.Now()
		if h.State(now) == nil && now.Sub(h.LastWrite()) < ProbeIdle {
			continue
		}
		write(now)
	}
}
