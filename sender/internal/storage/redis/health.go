package redis

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Health: Writable answers from what the last writes saw, never from a
// round trip (a readiness probe must not wait on a Redis that hangs).
const (
	// recoverAfter: after a failed write, the store reads as writable
	// again once a write has succeeded and none has failed for this long.
	recoverAfter = 2 * time.Second
	// While unhealthy, a probe write every probeUnhealthy notices that
	// Redis is back even when nothing else writes; while healthy and
	// idle, one every probeIdle notices that it went away.
	probeUnhealthy = time.Second
	probeIdle      = 5 * time.Second
	probeTimeout   = 2 * time.Second
)

type health struct {
	mu       sync.Mutex
	lastOK   time.Time
	lastFail time.Time
	failErr  error
}

func (h *health) ok(now time.Time) {
	h.mu.Lock()
	h.lastOK = now
	h.mu.Unlock()
}

func (h *health) failed(now time.Time, err error) {
	h.mu.Lock()
	h.lastFail, h.failErr = now, err
	h.mu.Unlock()
}

func (h *health) state(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failErr == nil || (h.lastOK.After(h.lastFail) && now.Sub(h.lastFail) >= recoverAfter) {
		return nil
	}
	return fmt.Errorf("the last write to Redis failed %s ago: %w", now.Sub(h.lastFail).Round(time.Millisecond), h.failErr)
}

func (h *health) lastWrite() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastOK.After(h.lastFail) {
		return h.lastOK
	}
	return h.lastFail
}

// Writable implements storage.Store.
func (s *Store) Writable() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.health.state(time.Now())
}

// heartbeat probes Redis with a small write when nothing else has written
// for a while, or the last write failed, until Close. A write, not a
// PING: a Redis that is out of memory or read-only answers PING.
func (s *Store) heartbeat() {
	defer close(s.beatDone)
	t := time.NewTicker(probeUnhealthy)
	defer t.Stop()
	for {
		select {
		case <-s.stopBeat:
			return
		case <-t.C:
		}
		now := time.Now()
		if s.health.state(now) == nil && now.Sub(s.health.lastWrite()) < probeIdle {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		_ = s.done(s.c.Set(ctx, s.prefix+":heartbeat", now.UnixMilli(), 0).Err())
		cancel()
	}
}
