// Package clock is the mock's controllable time: real time plus an offset
// that tests move forward, so token expiry, quota windows and grant times can
// be exercised without waiting.
package clock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock is safe for concurrent use. The zero value is real time.
type Clock struct {
	offset atomic.Int64 // nanoseconds added to real time

	mu       sync.Mutex
	watchers []func(now time.Time)
}

// OnChange registers f to run after every move of the clock (Advance, Set,
// Reset), with the new time, so that what is due at a mock time happens
// when a test jumps past it (a media check's push). f runs in the mover's
// goroutine: it must be quick and must not move the clock.
func (c *Clock) OnChange(f func(now time.Time)) {
	c.mu.Lock()
	c.watchers = append(c.watchers, f)
	c.mu.Unlock()
}

func (c *Clock) changed() time.Time {
	now := c.Now()
	c.mu.Lock()
	ws := c.watchers
	c.mu.Unlock()
	for _, f := range ws {
		f(now)
	}
	return now
}

// Now returns the mock's current time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d (negative d moves it back) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.offset.Add(int64(d))
	return c.changed()
}

// Set moves the clock so that Now returns t (plus the time that passes).
func (c *Clock) Set(t time.Time) time.Time {
	c.offset.Store(int64(time.Until(t)))
	return c.changed()
}

// Offset is how far the clock runs ahead of real time.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Reset returns the clock to real time.
func (c *Clock) Reset() {
	c.offset.Store(0)
	c.changed()
}

// Beijing is the platforms' time zone (UTC+8, no DST): daily quotas reset at
// Beijing midnight. A fixed zone needs no tzdata in a scratch image.
var Beijing = time.FixedZone("CST", 8*3600)

// DayStart is the start of t's day in Beijing time.
func DayStart(t time.Time) time.Time {
	b := t.In(Beijing)
	return time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, Beijing)
}
