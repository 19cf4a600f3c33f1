// Package ring is a bounded, concurrency-safe log that drops its oldest
// entries when full and lets readers wait for entries to arrive. The mock's
// inbox and request journal are rings, so memory stays flat on long runs.
package ring

import (
	"context"
	"sync"
)

// Ring holds at most Cap entries. Safe for concurrent use.
type Ring[T any] struct {
	mu      sync.Mutex
	buf     []T
	head    int    // index of the oldest entry
	n       int    // entries held
	seq     uint64 // sequence number of the next entry appended
	dropped uint64
	changed chan struct{} // closed and replaced on append when someone waits
	watched bool
}

// New returns a ring holding at most capacity entries (minimum 1).
func New[T any](capacity int) *Ring[T] {
	if capacity < 1 {
		capacity = 1
	}
	return &Ring[T]{buf: make([]T, capacity), changed: make(chan struct{})}
}

// Append adds v, evicting the oldest entry if the ring is full, and returns
// v's sequence number (counting from 0 since the last Reset).
func (r *Ring[T]) Append(v T) uint64 {
	r.mu.Lock()
	if r.n == len(r.buf) {
		r.buf[r.head] = v
		r.head = (r.head + 1) % len(r.buf)
		r.dropped++
	} else {
		r.buf[(r.head+r.n)%len(r.buf)] = v
		r.n++
	}
	s := r.seq
	r.seq++
	if r.watched {
		close(r.changed)
		r.changed = make(chan struct{})
		r.watched = false
	}
	r.mu.Unlock()
	return s
}

// Len is the number of entries held.
func (r *Ring[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Dropped counts entries evicted since the last Reset.
func (r *Ring[T]) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Total counts entries appended since the last Reset.
func (r *Ring[T]) Total() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// Reset empties the ring.
func (r *Ring[T]) Reset() {
	r.mu.Lock()
	clear(r.buf)
	r.head, r.n, r.seq, r.dropped = 0, 0, 0, 0
	if r.watched {
		close(r.changed)
		r.changed = make(chan struct{})
		r.watched = false
	}
	r.mu.Unlock()
}

// Filter returns the held entries that match (all when match is nil), oldest
// first, skipping the first offset matches and returning at most limit of
// them (limit <= 0: no limit), plus the number of matches in total.
func (r *Ring[T]) Filter(match func(*T) bool, offset, limit int) ([]T, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []T
	total := 0
	for i := 0; i < r.n; i++ {
		e := &r.buf[(r.head+i)%len(r.buf)]
		if match != nil && !match(e) {
			continue
		}
		total++
		if total <= offset || (limit > 0 && len(out) >= limit) {
			continue
		}
		out = append(out, *e)
	}
	return out, total
}

// Wait blocks until at least min held entries match or ctx ends. It counts
// entries already held, then only new arrivals, so a long wait costs one
// scan plus one check per appended entry.
func (r *Ring[T]) Wait(ctx context.Context, match func(*T) bool, min int) {
	r.mu.Lock()
	count := 0
	for i := 0; i < r.n; i++ {
		if match == nil || match(&r.buf[(r.head+i)%len(r.buf)]) {
			count++
		}
	}
	next := r.seq
	for count < min {
		ch := r.changed
		r.watched = true
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		r.mu.Lock()
		if r.seq < next { // reset happened: count afresh
			next, count = 0, 0
		}
		// Entries with sequence >= next are new; those evicted already are lost.
		newCount := int(r.seq - next)
		if newCount > r.n {
			newCount = r.n
		}
		for i := r.n - newCount; i < r.n; i++ {
			if match == nil || match(&r.buf[(r.head+i)%len(r.buf)]) {
				count++
			}
		}
		next = r.seq
	}
	r.mu.Unlock()
}
