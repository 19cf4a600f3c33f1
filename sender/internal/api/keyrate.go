package api

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/minipush/minipush/sender/internal/config"
)

// keyRates holds one token bucket per API key (nil: no limit), so one
// runaway client cannot take the service from the others. Requests over
// the rate are refused (429), not queued: the caller's retry is cheaper
// than a connection held open.
type keyRates []*rate.Limiter

func newKeyRates(cfg *config.Config) keyRates {
	rs := make(keyRates, len(cfg.APIKeys))
	for i, k := range cfg.APIKeys {
		if r := cfg.RateOf(k); r.PerSecond > 0 {
			rs[i] = rate.NewLimiter(rate.Limit(r.PerSecond), max(1, r.Burst))
		}
	}
	return rs
}

// allow takes one request from key i's bucket, or says how long until one
// is free.
func (rs keyRates) allow(i int, now time.Time) (time.Duration, bool) {
	l := rs[i]
	if l == nil {
		return 0, true
	}
	res := l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

func (rs keyRates) describe(i int) string {
	l := rs[i]
	return fmt.Sprintf("%g/s, burst %d", float64(l.Limit()), l.Burst())
}

// retryAfterSeconds is Retry-After's whole seconds (RFC 9110 §10.2.3),
// rounded up and at least 1 so a client never retries at once.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
