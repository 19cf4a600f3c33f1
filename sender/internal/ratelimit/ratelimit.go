// Package ratelimit shapes one app's sends: a token bucket for the app
// (golang.org/x/time/rate), a minimum interval between two sends to the
// same user (Douyin allows one message per user per second), and a pause of
// the whole app after the platform throttles it. Limits delay messages;
// they never drop them.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Shaper is one app's limits. Safe for concurrent use.
type Shaper struct {
	bucket   *rate.Limiter // nil: unlimited
	interval time.Duration // per user; 0: none

	mu       sync.Mutex
	nextUser map[string]time.Time
	paused   time.Time
	sweep    time.Time
}

// New returns a shaper: perSecond 0 means no app limit.
func New(perSecond float64, burst int, perUserInterval time.Duration) *Shaper {
	s := &Shaper{interval: perUserInterval, nextUser: map[string]time.Time{}}
	if perSecond > 0 {
		if burst <= 0 {
			burst = max(1, int(perSecond/10))
		}
		s.bucket = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return s
}

// Pause stops the app's sends until t (the platform throttled it).
func (s *Shaper) Pause(t time.Time) {
	s.mu.Lock()
	if t.After(s.paused) {
		s.paused = t
	}
	s.mu.Unlock()
}

// Admit decides whether a send to user may start at now. When it may not,
// it returns the time to try again. When it may, the user's slot and the
// app's token are taken; wait is a short delay (< maxWait) the caller
// should sleep before sending.
func (s *Shaper) Admit(user string, now time.Time, maxWait time.Duration) (ok bool, wait time.Duration, retryAt time.Time) {
	s.mu.Lock()
	if now.Before(s.paused) {
		p := s.paused
		s.mu.Unlock()
		return false, 0, p
	}
	if s.interval > 0 {
		if next, ok := s.nextUser[user]; ok && now.Before(next) {
			s.mu.Unlock()
			return false, 0, next
		}
	}
	if s.bucket != nil {
		r := s.bucket.ReserveN(now, 1)
		d := r.DelayFrom(now)
		if d > maxWait {
			r.CancelAt(now)
			s.mu.Unlock()
			return false, 0, now.Add(d)
		}
		wait = d
	}
	if s.interval > 0 {
		s.nextUser[user] = now.Add(wait + s.interval)
		s.sweepLocked(now)
	}
	s.mu.Unlock()
	return true, wait, time.Time{}
}

// sweepLocked forgets users whose interval has passed, at most once per
// interval, so the map stays as small as the set of recent recipients.
func (s *Shaper) sweepLocked(now time.Time) {
	if now.Sub(s.sweep) < s.interval || len(s.nextUser) < 1024 {
		return
	}
	s.sweep = now
	for u, t := range s.nextUser {
		if !now.Before(t) {
			delete(s.nextUser, u)
		}
	}
}
