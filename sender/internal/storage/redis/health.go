package redis

import (
	"context"
	"time"
)

// probeTimeout bounds a probe write and the small writes made outside a
// caller's context.
const probeTimeout = 2 * time.Second

// Writable implements storage.Store.
func (s *Store) Writable() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.health.State(time.Now())
}

// heartbeat probes Redis with a small write when nothing else has written
// for a while, or the last write failed, until Close. A write, not a
// PING: a Redis that is out of memory or read-only answers PING.
func (s *Store) heartbeat() {
	s.health.Probe(s.stopBeat, s.beatDone, func(now time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		_ = s.done(s.c.Set(ctx, s.prefix+":heartbeat", now.UnixMilli(), 0).Err())
	})
}
