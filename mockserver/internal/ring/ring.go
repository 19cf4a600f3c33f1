// Package ring is a bounded, concurrency-safe log that drops its oldest
// entries when full and lets readers wait for entries to arrive. The mock's
// inbox and request journal are rings, so memory stays flat on long runs.
package ring

import (
	"context"
	"slices"
	"sync"
)

// Ring holds at most capacity entries. Safe for concurrent use.
//
// Its storage grows with use up to the capacity, in chunks of chunkSize
// entries (growing never copies what is held: a journal filling up to
// 100,000 calls would otherwise copy megabytes at every doubling, on the
// send path), and is released by Reset, so an idle mock with the default
// 100,000-entry inbox costs no memory and a reset gives back what a long
// run used.
type Ring[T any] struct {
	mu       sync.Mutex
	capacity int
	// chunks hold the entries: slot p is chunks[p/chunkSize][p%chunkSize].
	// Until the ring is full, slots 0…n-1 are used and head == 0; once
	// full, every slot is and head moves round.
	chunks  [][]T
	head    int    // slot of the oldest entry
	n       int    // entries held
	seq     uint64 // sequence number of the next entry appended
	dropped uint64
	epoch   uint64        // bumped by Reset, so a waiter knows its counts are stale
	changed chan struct{} // closed and replaced on append when someone waits
	watched bool
}

// New returns a ring holding at most capacity entries (minimum 1).
func New[T any](capacity int) *Ring[T] {
	if capacity < 1 {
		capacity = 1
	}
	return &Ring[T]{capacity: capacity, changed: make(chan struct{})}
}

// Append adds v, evicting the oldest entry if the ring is full, and returns
// v's sequence number (counting from 0 since the last Reset).
func (r *Ring[T]) Append(v T) uint64 {
	return r.AppendFunc(func(uint64) T { return v })
}

// AppendFunc appends the entry build makes from its sequence number, under
// the ring's lock: entries that carry an id derived from their position
// (the inbox's "m1", "m2", …) get unique ids even when appended
// concurrently. build must be quick and must not use the ring.
func (r *Ring[T]) AppendFunc(build func(seq uint64) T) uint64 {
	r.mu.Lock()
	s, _ := r.appendLocked(build(r.seq))
	r.mu.Unlock()
	return s
}

// chunkSize is how many entries a chunk of a ring's storage holds.
const chunkSize = 1024

// slot is the entry kept in slot p.
func (r *Ring[T]) slot(p int) *T { return &r.chunks[p/chunkSize][p%chunkSize] }

// at is the i-th oldest held entry (0 ≤ i < n).
func (r *Ring[T]) at(i int) *T { return r.slot((r.head + i) % r.n) }

// appendLocked stores v and returns its sequence number and where it is
// kept; r.mu is held.
func (r *Ring[T]) appendLocked(v T) (uint64, *T) {
	var slot *T
	if r.n < r.capacity {
		if r.n/chunkSize == len(r.chunks) {
			// A new chunk, never past the capacity.
			r.chunks = append(r.chunks, make([]T, min(chunkSize, r.capacity-r.n)))
		}
		slot = r.slot(r.n)
		*slot = v
		r.n++
	} else {
		slot = r.slot(r.head)
		*slot = v
		r.head = (r.head + 1) % r.capacity
		r.dropped++
	}
	s := r.seq
	r.seq++
	if r.watched {
		close(r.changed)
		r.changed = make(chan struct{})
		r.watched = false
	}
	return s, slot
}

// AppendStamped appends v after stamp has set what derives from its
// sequence number, under the ring's lock (as AppendFunc; a stamp that is a
// plain function allocates nothing, where a closure over v would move v to
// the heap). stamp must be quick and must not use the ring.
func (r *Ring[T]) AppendStamped(v T, stamp func(v *T, seq uint64)) uint64 {
	r.mu.Lock()
	s, slot := r.appendLocked(v)
	stamp(slot, s) // in place: v itself never escapes
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
	r.chunks = nil // give the memory back
	r.head, r.n, r.seq, r.dropped = 0, 0, 0, 0
	r.epoch++
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
		e := r.at(i)
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

// Wait blocks until at least min held entries match or ctx ends. It scans
// the entries already held once, then only new arrivals, so a long wait
// costs one scan plus one check per appended entry.
//
// It counts entries still held, not entries ever seen: when the ring is
// full and matching entries are evicted while it waits, they no longer
// count (readers then find at least min matches when Wait returns, unless
// the ring is reset or overflows again in between). It remembers the
// sequence numbers of the newest min matches only, so memory stays O(min).
func (r *Ring[T]) Wait(ctx context.Context, match func(*T) bool, min int) {
	if min <= 0 {
		return
	}
	r.mu.Lock()
	var seen []uint64 // sequence numbers of the newest matches, oldest first
	epoch := r.epoch
	next := r.seq - uint64(r.n) // first sequence number not yet examined
	for {
		if r.epoch != epoch { // reset: what we counted is gone
			epoch, seen, next = r.epoch, seen[:0], 0
		}
		oldest := r.seq - uint64(r.n)
		if next < oldest { // evicted before we could look at them
			next = oldest
		}
		for s := next; s < r.seq; s++ {
			if match == nil || match(r.at(int(s-oldest))) {
				seen = append(seen, s)
				if len(seen) > min {
					seen = seen[1:]
				}
			}
		}
		next = r.seq
		for len(seen) > 0 && seen[0] < oldest {
			seen = seen[1:]
		}
		if len(seen) >= min {
			r.mu.Unlock()
			return
		}
		ch := r.changed
		r.watched = true
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		r.mu.Lock()
	}
}

// Cursor is a position in a ring: the sequence number of the next entry to
// read, in the ring's current epoch (Reset starts a new epoch and numbers
// entries from 0 again). The zero Cursor is the start of the first epoch.
type Cursor struct {
	Epoch, Seq uint64
}

// Tail returns the newest n held entries that match (all when n <= 0),
// oldest first, and the cursor just past the newest entry held, taken under
// the same lock: a reader that renders the tail and then follows with Since
// from the cursor misses nothing and sees nothing twice.
func (r *Ring[T]) Tail(match func(*T) bool, n int) ([]T, Cursor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []T
	for i := r.n - 1; i >= 0 && (n <= 0 || len(out) < n); i-- {
		e := r.at(i)
		if match == nil || match(e) {
			out = append(out, *e)
		}
	}
	slices.Reverse(out)
	return out, Cursor{Epoch: r.epoch, Seq: r.seq}
}

// Since returns the held entries appended at or after c that match, oldest
// first, at most limit of them (limit <= 0: no limit), and the cursor to
// read from next. When the ring was reset after c was taken, reset is true
// and the entries are read from the start of the new epoch. Entries evicted
// before they were read are skipped (Dropped counts them).
func (r *Ring[T]) Since(c Cursor, match func(*T) bool, limit int) (out []T, next Cursor, reset bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.Epoch != r.epoch || c.Seq > r.seq {
		c, reset = Cursor{Epoch: r.epoch}, true
	}
	oldest := r.seq - uint64(r.n)
	s := max(c.Seq, oldest)
	for ; s < r.seq && (limit <= 0 || len(out) < limit); s++ {
		e := r.at(int(s - oldest))
		if match == nil || match(e) {
			out = append(out, *e)
		}
	}
	return out, Cursor{Epoch: r.epoch, Seq: s}, reset
}

// Changed returns a channel that is closed at the next append or reset.
// Take it before reading with Since, so that nothing appended in between
// goes unnoticed.
func (r *Ring[T]) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.watched = true
	return r.changed
}
