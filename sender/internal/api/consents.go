package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

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

// GET /v1/consents?app=&user=&limit=&cursor= → a page of the app's consent
// ledger (one user's when user is given), by user then template: what the
// platforms' events and answers taught the sender (docs/events.md). The
// app's consent mode and whether it receives events are on the app
// (GET /v1/apps/{name}).
func (a *API) getConsents(w http.ResponseWriter, r *http.Request) {
	q, ps := queryParams(r, "app", "user", "limit", "cursor")
	name, user := q["app"], q["user"]
	_, ok := a.apps[name]
	switch {
	case name == "":
		ps = append(ps, Problem{"app", "required", "app is required: the app whose ledger to show"})
	case !ok:
		ps = append(ps, Problem{"app", "unknown_app", "no app named " + strconv.Quote(name) + " is configured"})
	}
	limit, ps := listLimit(q, ps)
	after, ok := decodeConsentCursor(q["cursor"])
	if !ok {
		ps = append(ps, Problem{"cursor", "invalid", "cursor must be a next_cursor from a previous page"})
	}
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	entries, after, err := a.store.Consents(r.Context(), name, user, after, limit)
	if err != nil {
		a.storeError(w, err, "consents")
		return
	}
	next := ""
	if after != (consent.Key{}) {
		next = encodeConsentCursor(after)
	}
	views := make([]consentView, len(entries))
	for i, e := range entries {
		ok, why := e.Allows()
		views[i] = consentView{Entry: e, Allows: ok, Verdict: why}
	}
	writeJSON(w, http.StatusOK, page(views, next))
}

// A consents cursor is the last entry's user and template, opaque to
// callers: base64url of a JSON pair (ids may hold any character).
func encodeConsentCursor(k consent.Key) string {
	b, _ := json.Marshal([2]string{k.User, k.TemplateID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeConsentCursor(c string) (consent.Key, bool) {
	if c == "" {
		return consent.Key{}, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	var pair [2]string
	if err != nil || json.Unmarshal(b, &pair) != nil || pair[0] == "" {
		return consent.Key{}, false
	}
	return consent.Key{User: pair[0], TemplateID: pair[1]}, true
}
