package controlapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/mockapi"
)

func durationOf(d mockapi.Duration) time.Duration { return time.Duration(d) }

// ContentRules are the words that make content risky or review-worthy.
func (a *API) ContentRules() mockapi.ContentRules { return a.env.Content.Get() }

// SetContentRules replaces the content rules. Risky images are stored
// normalised, in place in rules.RiskyImages.
func (a *API) SetContentRules(rules mockapi.ContentRules) error {
	if err := checkWords("risky", rules.Risky); err != nil {
		return err
	}
	if err := checkWords("review", rules.Review); err != nil {
		return err
	}
	for i, img := range rules.RiskyImages {
		n, err := content.NormalizeImage(img)
		if err != nil {
			return bad(fmt.Sprintf("risky_images[%d]", i), "risky_images[%d]: %v", i, err)
		}
		rules.RiskyImages[i] = n // the caller's slice: the answer shows what is stored
	}
	a.env.Content.Set(rules)
	return nil
}

func (a *API) getContentRules(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.ContentRules())
}

// PUT /_mock/content-rules {"risky":["…"],"review":["…"],"risky_images":["<sha256>"|"<url>"]}
// replaces the rules.
func (a *API) putContentRules(w http.ResponseWriter, r *http.Request) {
	var rules mockapi.ContentRules
	if err := decode(r, &rules); err != nil {
		fail(w, err)
		return
	}
	if err := a.SetContentRules(rules); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rules)
}

// checkWords refuses blank words (which the rules would ignore, so a script
// that sends one has a bug) and negative labels.
func checkWords(list string, words []mockapi.ContentWord) error {
	for i, w := range words {
		field := fmt.Sprintf("%s[%d]", list, i)
		if strings.TrimSpace(w.Word) == "" {
			return bad(field+".word", "%s is a blank word", field)
		}
		if w.Label < 0 {
			return bad(field+".label", "%s has a negative label", field)
		}
	}
	return nil
}

// Quotas lists an app's call limits with their usage in the current
// window.
func (a *API) Quotas(platformName, appID string) ([]mockapi.QuotaUsage, error) {
	app, err := a.platformApp(platformName, appID)
	if err != nil {
		return nil, err
	}
	now := a.env.Clock.Now()
	out := []mockapi.QuotaUsage{}
	for _, l := range app.Limits {
		out = append(out, mockapi.QuotaUsage{
			Quota: mockapi.Quota{Platform: app.Platform, AppID: app.AppID, Endpoint: l.Endpoint, Limit: l.Max, Per: string(l.Per)},
			Used:  a.env.Quota.Used(app.Platform+"/"+app.AppID, l.Endpoint, l.Per, now),
		})
	}
	return out, nil
}

// GET /_mock/quotas?platform=&app_id= — the app's limits and current usage.
func (a *API) getQuotas(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := a.Quotas(q.Get("platform"), q.Get("app_id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"quotas": out})
}

// SetQuota sets one call limit of an app (replacing the limit of the same
// endpoint and window).
func (a *API) SetQuota(q mockapi.Quota) error {
	app, err := a.platformApp(q.Platform, q.AppID)
	if err != nil {
		return err
	}
	l, err := toLimit(a.platforms[q.Platform], q)
	if err != nil {
		return err
	}
	updated := *app
	updated.Limits = setLimit(append(app.Limits[:0:0], app.Limits...), l)
	a.env.Store.PutApp(&updated)
	return nil
}

// PUT /_mock/quotas {"platform","app_id","endpoint","limit","per"}
func (a *API) putQuota(w http.ResponseWriter, r *http.Request) {
	var q mockapi.Quota
	if err := decode(r, &q); err != nil {
		fail(w, err)
		return
	}
	if err := a.SetQuota(q); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// ClearQuotaUsage forgets counted calls of an app (of every app when appID
// is empty), like the platform's clear_quota.
func (a *API) ClearQuotaUsage(platformName, appID string) error {
	key := ""
	if appID != "" {
		app, err := a.platformApp(platformName, appID)
		if err != nil {
			return err
		}
		key = app.Platform + "/" + app.AppID
	}
	a.env.Quota.Reset(key)
	return nil
}

// DELETE /_mock/quotas/usage?platform=&app_id= forgets counted calls (all
// apps' when no app is given), like the platform's clear_quota.
func (a *API) deleteQuotaUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := a.ClearQuotaUsage(q.Get("platform"), q.Get("app_id")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Stats counts what the mock holds and the calls in the journal.
func (a *API) Stats() mockapi.Stats {
	apps, users, templates := a.env.Store.Counts()
	st := mockapi.Stats{
		Now: a.env.Clock.Now(), Apps: apps, Users: users, Templates: templates,
		Messages: a.env.Inbox.Len(), Dropped: a.env.Inbox.Dropped(), Delivered: a.env.Delivered(),
		Requests: a.env.Journal.Total(), ByEndpoint: map[string]int{}, ByErrCode: map[string]int{},
		Faults: a.env.Faults.Len(), Pushes: a.env.Push.Stats(),
	}
	reqs, _ := a.env.Journal.Filter(nil, 0, 0)
	for _, c := range reqs {
		st.ByEndpoint[c.Platform+"/"+c.Endpoint]++
		st.ByErrCode[c.Platform+"/"+itoa(c.ErrCode)]++
	}
	return st
}

func (a *API) getStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.Stats())
}
