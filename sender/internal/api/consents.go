package api

import (
	"net/http"
	"strconv"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
)

// consentView is a ledger entry with what it means for the next send.
type consentView struct {
	consent.Entry
	// Allows: the ledger lets a message through (in enforce mode; observe
	// sends in any case).
	Allows bool `json:"allows"`
	// Verdict is the reason (credit, long_term, rejected, no_credit).
	Verdict string `json:"verdict"`
}

// GET /v1/consents?app=&user=&limit= → the app's consent ledger (one
// user's when user is given): what the platforms' events and answers
// taught the sender (docs/events.md).
func (a *API) getConsents(w http.ResponseWriter, r *http.Request) {
	q, ps := queryParams(r, "app", "user", "limit")
	name, user := q["app"], q["user"]
	app, ok := a.apps[name]
	switch {
	case name == "":
		ps = append(ps, Problem{"app", "required", "app is required: the app whose ledger to show"})
	case !ok:
		ps = append(ps, Problem{"app", "unknown_app", "no app named " + strconv.Quote(name) + " is configured"})
	}
	limit := 100
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			ps = append(ps, Problem{"limit", "range", "limit must be 1..1000"})
		}
		limit = n
	}
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	entries, err := a.store.Consents(r.Context(), name, user, limit)
	if err != nil {
		a.storeError(w, err, "consents")
		return
	}
	views := make([]consentView, len(entries))
	for i, e := range entries {
		ok, why := e.Allows()
		views[i] = consentView{Entry: e, Allows: ok, Verdict: why}
	}
	mode := app.Consent
	if mode == "" {
		mode = config.ConsentObserve
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": name, "mode": mode, "events": app.Events != nil, "consents": views})
}
