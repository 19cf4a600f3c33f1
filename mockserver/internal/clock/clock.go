// Package clock is the mock's controllable time: real time plus an offset
// that tests move forward, so token expiry, quota windows and grant times can
// be exercised without waiting.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock is safe for concurrent use. The zero value is real time.
type Clock struct {
	offset atomic.Int64 // nanoseconds added to real time
}

// Now returns the mock's current time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d (negative d moves it back) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.offset.Add(int64(d))
	return c.Now()
}

// Set moves the clock so that Now returns t (plus the time that passes).
func (c *Clock) Set(t time.Time) time.Time {
	c.offset.Store(int64(time.Until(t)))
	return c.Now()
}

// Offset is how far the clock runs ahead of real time.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Reset returns the clock to real time.
func (c *Clock) Reset() { c.offset.Store(0) }

// Beijing is the platforms' time zone (UTC+8, no DST): daily quotas reset at
// Beijing midnight. A fixed zone needs no tzdata in a scratch image.
var Beijing = time.FixedZone("CST", 8*3600)

// DayStart is the start of t's day in Beijing time.
func DayStart(t time.Time) time.Time {
	b := t.In(Beijing)
	return time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, Beijing)
}
