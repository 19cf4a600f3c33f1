package redis

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/minipush/minipush/sender/internal/ratelimit"
)

// Limiter is one app's rate limit, per-user interval and throttle pause,
// shared by every instance on the store's Redis (ratelimit.Shared): the
// platform's cap is the deployment's, and a pause one instance sets after
// a 45009 holds on all. One script, one round trip per send.
//
// Why a small GCRA of our own rather than github.com/go-redis/redis_rate:
// redis_rate answers allowed or not, so a worker refused for a few
// milliseconds would have to ask again; the dispatcher reserves its slot
// and sleeps the short wait instead (as the in-memory bucket does), which
// needs the reservation in the same script as the check.
type Limiter struct {
	s        *Store
	app      string
	interval time.Duration
	emission time.Duration // between two sends at the rate; 0: no rate
	burst    int
}

var _ ratelimit.Shared = (*Limiter)(nil)

// Limiter returns app's shared limits: perSecond (0: none) with burst
// (0: ratelimit.DefaultBurst), and the interval between two sends to one
// user (0: none).
func (s *Store) Limiter(app string, perSecond float64, burst int, perUser time.Duration) *Limiter {
	l := &Limiter{s: s, app: app, interval: perUser}
	if perSecond > 0 {
		if burst <= 0 {
			burst = ratelimit.DefaultBurst(perSecond)
		}
		l.emission = time.Duration(float64(time.Second) / perSecond)
		l.burst = burst
	}
	return l
}

// Admit implements ratelimit.Shared.
func (l *Limiter) Admit(ctx context.Context, user string, now time.Time, maxWait time.Duration) (bool, time.Duration, time.Duration, bool, error) {
	if err := l.s.begin(ctx); err != nil {
		return false, 0, 0, false, err
	}
	tolerance := time.Duration(max(l.burst-1, 0)) * l.emission
	v, err := l.s.run(ctx, l.app, "admit", user, l.interval.Milliseconds(), l.emission.Microseconds(),
		tolerance.Microseconds(), maxWait.Microseconds(), toMS(now)).Slice()
	if err != nil {
		return false, 0, 0, false, fmt.Errorf("rate limit of %s: %w", l.app, classify(err))
	}
	if num(v[0]) == 1 {
		return true, time.Duration(num(v[1])) * time.Microsecond, 0, false, nil
	}
	return false, 0, time.Duration(num(v[2])) * time.Millisecond, num(v[3]) == 1, nil
}

// Pause implements ratelimit.Shared.
func (l *Limiter) Pause(ctx context.Context, until time.Time, ttl time.Duration) error {
	if err := l.s.begin(ctx); err != nil {
		return err
	}
	ms := int64(math.Ceil(float64(ttl) / float64(time.Millisecond)))
	if ms <= 0 {
		return nil
	}
	if err := l.s.run(ctx, l.app, "pause", toMS(until), ms).Err(); err != nil {
		return fmt.Errorf("pause %s: %w", l.app, classify(err))
	}
	return nil
}
