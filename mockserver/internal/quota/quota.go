// Package quota counts platform calls per app and endpoint in fixed windows
// (second, minute, Beijing day, Beijing month) and says when a limit is reached, the way the
// platforms answer 45009 "reach max api daily quota limit" until the window
// resets.
package quota

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/minipush/minipush/mockserver/internal/clock"
)

// Window is a quota period.
type Window string

// Windows.
const (
	Second Window = "second"
	Minute Window = "minute"
	Day    Window = "day"
	// Month is a Beijing calendar month (WeChat's clear_quota allows 10
	// resets a month).
	Month Window = "month"
)

// ParseWindow accepts second, minute, day, month (and s/m/d, 1s/1m/24h,
// monthly).
func ParseWindow(s string) (Window, error) {
	switch s {
	case "second", "s", "1s", "sec":
		return Second, nil
	case "minute", "m", "1m", "min":
		return Minute, nil
	case "day", "d", "24h", "daily":
		return Day, nil
	case "month", "monthly":
		return Month, nil
	}
	return "", fmt.Errorf("unknown window %q (want second, minute, day or month)", s)
}

// start is the beginning of the window holding t.
func (w Window) start(t time.Time) time.Time {
	switch w {
	case Second:
		return t.Truncate(time.Second)
	case Minute:
		return t.Truncate(time.Minute)
	case Month:
		d := clock.DayStart(t)
		return d.AddDate(0, 0, 1-d.Day())
	default:
		return clock.DayStart(t)
	}
}

// Limit is one quota rule.
type Limit struct {
	Endpoint string
	Max      int
	Per      Window
}

type key struct {
	app      string
	endpoint string
	per      Window
}

type counter struct {
	start time.Time
	n     int
}

// Counter tracks usage. Safe for concurrent use.
type Counter struct {
	mu       sync.Mutex
	counters map[key]*counter
}

// New returns an empty counter.
func New() *Counter { return &Counter{counters: map[key]*counter{}} }

// Limited reports whether any of limits applies to endpoint: when none
// does, Take allows the call without looking at the app or the time.
func Limited(limits []Limit, endpoint string) bool {
	return slices.ContainsFunc(limits, func(l Limit) bool { return l.Endpoint == endpoint && l.Max >= 0 })
}

// Take records one call of endpoint by app at now against every limit that
// applies, unless one of them is already exhausted; it then returns that
// limit and false (nothing is recorded).
func (c *Counter) Take(app string, limits []Limit, endpoint string, now time.Time) (Limit, bool) {
	// Most calls of most endpoints have no limit: they take no lock (every
	// call of the mock passes here, some twice).
	if !Limited(limits, endpoint) {
		return Limit{}, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var hit []*counter
	for _, l := range limits {
		if l.Endpoint != endpoint || l.Max < 0 {
			continue
		}
		k := key{app, endpoint, l.Per}
		ct := c.counters[k]
		start := l.Per.start(now)
		if ct == nil {
			ct = &counter{start: start}
			c.counters[k] = ct
		} else if !ct.start.Equal(start) {
			ct.start, ct.n = start, 0
		}
		if ct.n >= l.Max {
			return l, false
		}
		hit = append(hit, ct)
	}
	for _, ct := range hit {
		ct.n++
	}
	return Limit{}, true
}

// Used reports calls counted in the current window.
func (c *Counter) Used(app, endpoint string, per Window, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.counters[key{app, endpoint, per}]
	if ct == nil || !ct.start.Equal(per.start(now)) {
		return 0
	}
	return ct.n
}

// ResetExcept forgets one app's usage of every endpoint but those listed:
// what a platform's "clear quota" call does, which keeps counting its own
// uses.
func (c *Counter) ResetExcept(app string, keep ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.counters {
		if k.app == app && !slices.Contains(keep, k.endpoint) {
			delete(c.counters, k)
		}
	}
}

// Reset forgets all usage (all of one app's when app is non-empty).
func (c *Counter) Reset(app string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if app == "" {
		c.counters = map[key]*counter{}
		return
	}
	for k := range c.counters {
		if k.app == app {
			delete(c.counters, k)
		}
	}
}
