package controlapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// maxClockOffset bounds how far the mock clock may run from real time. A
// time.Duration spans ±292 years; beyond that offsets wrap or saturate and
// the clock silently shows a wrong time, so the API refuses instead.
const maxClockOffset = 100 * 365 * 24 * time.Hour

// Clock is the mock clock's time and its offset from real time.
func (a *API) Clock() mockapi.Clock {
	return mockapi.Clock{Now: a.env.Clock.Now(), Offset: mockapi.Duration(a.env.Clock.Offset())}
}

// AdvanceClock moves the mock clock by d (negative: back), at most 100
// years from real time.
func (a *API) AdvanceClock(d time.Duration) (mockapi.Clock, error) {
	off := a.env.Clock.Offset()
	if d > maxClockOffset-off || d < -maxClockOffset-off {
		return a.Clock(), bad("advance", "the clock may run at most 100 years from the real time (now %v ahead)", off)
	}
	a.env.Clock.Advance(d)
	return a.Clock(), nil
}

// SetClock sets the mock clock, within 100 years of real time.
func (a *API) SetClock(t time.Time) (mockapi.Clock, error) {
	if d := time.Until(t); d > maxClockOffset || d < -maxClockOffset {
		return a.Clock(), bad("set", "set must be within 100 years of the real time")
	}
	a.env.Clock.Set(t)
	return a.Clock(), nil
}

func (a *API) getClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.Clock())
}

// clockChange mirrors mockapi.ClockChange with set left raw, so that a bad
// time is reported as field "set" (time.Time's own errors name no field).
type clockChange struct {
	Advance mockapi.Duration `json:"advance,omitempty"`
	Set     json.RawMessage  `json:"set,omitempty"`
}

// POST /_mock/clock {"advance":"2h"} or {"set":"2026-01-01T00:00:00+08:00"}
func (a *API) postClock(w http.ResponseWriter, r *http.Request) {
	var c clockChange
	if err := decode(r, &c); err != nil {
		fail(w, err)
		return
	}
	var set *time.Time
	if len(c.Set) > 0 && string(c.Set) != "null" {
		var t time.Time
		if err := json.Unmarshal(c.Set, &t); err != nil {
			fail(w, bad("set", "set must be an RFC 3339 time like \"2026-01-01T08:00:00+08:00\""))
			return
		}
		set = &t
	}
	var (
		answer mockapi.Clock
		err    error
	)
	switch {
	case set != nil && c.Advance != 0:
		err = bad("advance", "give advance or set, not both")
	case set != nil:
		answer, err = a.SetClock(*set)
	case c.Advance != 0:
		answer, err = a.AdvanceClock(durationOf(c.Advance))
	default:
		err = bad("advance", "advance (e.g. \"2h\") or set (RFC 3339 time) is required")
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}
