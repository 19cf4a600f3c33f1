// Package ratelimit shapes one app's sends: a token bucket for the app
// (golang.org/x/time/rate), a minimum interval between two sends to the
// same user (Douyin allows one message per user per second), and a pause of
// the whole app after the platform throttles it (which an operator may end
// early: Resume). Limits delay messages; they never drop them.
//
// With several sender instances the limits must be the deployment's, not
// each instance's (two instances would send at twice the platform's cap):
// WithShared hands them to a Shared home (storage/redis.Limiter), and the
// Shaper keeps only what it learns of a pause, to spare round trips.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Shared keeps an app's limits for every instance of a deployment.
type Shared interface {
	// Admit applies the pause, the per-user interval and the app's rate
	// deployment-wide and, when the send may start within maxWait, takes
	// its slot: wait is how long to sleep first. Otherwise retryIn is
	// how long until it may, and paused says the app is paused. now is
	// the caller's clock, the one Pause's times are on.
	Admit(ctx context.Context, user string, now time.Time, maxWait time.Duration) (ok bool, wait, retryIn time.Duration, paused bool, err error)
	// Pause pauses the app's sends on every instance until until (ttl
	// from now).
	Pause(ctx context.Context, until time.Time, ttl time.Duration) error
}

// Option configures a Shaper.
type Option func(*Shaper)

// WithShared keeps the limits in sh instead of in memory. A call to it
// that fails (Redis unavailable) refuses the send for errorRetry: the
// message goes back to storage and is tried again later.
func WithShared(sh Shared) Option { return func(s *Shaper) { s.shared = sh } }

// pausePoll: with shared limits but neither a rate nor a per-user
// interval, only the pause is shared, and it is read at most this often,
// not once per send.
const pausePoll = 250 * time.Millisecond

// sharedTimeout bounds one call to the shared limits; errorRetry is when a
// message refused because they could not be reached is tried again.
const (
	sharedTimeout = 2 * time.Second
	errorRetry    = time.Second
)

// Shaper is one app's limits. Safe for concurrent use.
type Shaper struct {
	bucket   *rate.Limiter // nil: unlimited
	interval time.Duration // per user; 0: none
	shared   Shared

	mu       sync.Mutex
	nextUser map[string]time.Time
	paused   time.Time
	// pausedAt is when (on the local clock) paused was last moved later:
	// ResumeIfSetBefore leaves a pause alone that is newer than what it
	// was told.
	pausedAt time.Time
	sweep    time.Time
	unpaused time.Time // shared, pause only: when the pause was last read as off
}

// DefaultBurst is the app's burst when none is configured: a tenth of a
// second's sends.
func DefaultBurst(perSecond float64) int { return max(1, int(perSecond/10)) }

// New returns a shaper: perSecond 0 means no app limit.
func New(perSecond float64, burst int, perUserInterval time.Duration, opts ...Option) *Shaper {
	s := &Shaper{interval: perUserInterval, nextUser: map[string]time.Time{}}
	if perSecond > 0 {
		if burst <= 0 {
			burst = DefaultBurst(perSecond)
		}
		s.bucket = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Pause stops the app's sends until t (the platform throttled it): on
// every instance when the limits are shared. A pause already reaching
// later stands.
func (s *Shaper) Pause(t time.Time) {
	s.mu.Lock()
	if t.After(s.paused) {
		s.paused, s.pausedAt = t, time.Now()
	}
	s.mu.Unlock()
	if s.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		// Best effort: this instance holds the pause either way, and the
		// others learn of the throttling from their own next send.
		_ = s.shared.Pause(ctx, t, time.Until(t))
	}
}

// Paused reports whether the app is paused at now, and until when.
func (s *Shaper) Paused(now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused, now.Before(s.paused)
}

// Resume ends the pause.
func (s *Shaper) Resume() {
	s.mu.Lock()
	s.paused = time.Time{}
	s.mu.Unlock()
}

// ResumeIfSetBefore ends the pause unless it was set (or lengthened) at t
// or later on the local clock: a reader that learned at t that the pause
// is gone (another instance resumed the app) must not end one set since.
// It reports whether it ended a pause still in effect at now.
func (s *Shaper) ResumeIfSetBefore(t, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pausedAt.Before(t) {
		return false
	}
	active := now.Before(s.paused)
	s.paused = time.Time{}
	return active
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
	if s.shared != nil {
		pauseOnly := s.bucket == nil && s.interval == 0
		if pauseOnly && now.Sub(s.unpaused) < pausePoll && !now.Before(s.unpaused) {
			s.mu.Unlock()
			return true, 0, time.Time{}
		}
		s.mu.Unlock()
		ok, wait, retryAt := s.admitShared(user, now, maxWait)
		if ok && pauseOnly {
			s.mu.Lock()
			s.unpaused = now
			s.mu.Unlock()
		}
		return ok, wait, retryAt
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

func (s *Shaper) admitShared(user string, now time.Time, maxWait time.Duration) (bool, time.Duration, time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	ok, wait, retryIn, paused, err := s.shared.Admit(ctx, user, now, maxWait)
	switch {
	case err != nil:
		return false, 0, now.Add(errorRetry)
	case ok:
		return true, wait, time.Time{}
	case paused:
		// Remembered here: the app's other messages need not ask.
		s.mu.Lock()
		if until := now.Add(retryIn); until.After(s.paused) {
			s.paused = until
		}
		s.mu.Unlock()
	}
	return false, 0, now.Add(retryIn)
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
