package controlapi

import (
	"net/http"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func (a *API) clockAnswer() mockapi.Clock {
	return mockapi.Clock{Now: a.env.Clock.Now(), Offset: mockapi.Duration(a.env.Clock.Offset())}
}

func (a *API) getClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.clockAnswer())
}

// POST /_mock/clock {"advance":"2h"} or {"set":"2026-01-01T00:00:00+08:00"}
func (a *API) postClock(w http.ResponseWriter, r *http.Request) {
	var c mockapi.ClockChange
	if err := decode(r, &c); err != nil {
		fail(w, err)
		return
	}
	switch {
	case c.Set != nil && c.Advance != 0:
		fail(w, bad("advance", "give advance or set, not both"))
		return
	case c.Set != nil:
		a.env.Clock.Set(*c.Set)
	case c.Advance != 0:
		a.env.Clock.Advance(durationOf(c.Advance))
	default:
		fail(w, bad("advance", "advance (e.g. \"2h\") or set (RFC 3339 time) is required"))
		return
	}
	writeJSON(w, http.StatusOK, a.clockAnswer())
}
