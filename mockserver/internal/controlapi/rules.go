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

func (a *API) getContentRules(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.env.Content.Get())
}

// PUT /_mock/content-rules {"risky":["…"],"review":["…"],"risky_images":["<sha256>"|"<url>"]}
// replaces the rules.
func (a *API) putContentRules(w http.ResponseWriter, r *http.Request) {
	var rules mockapi.ContentRules
	if err := decode(r, &rules); err != nil {
		fail(w, err)
		return
	}
	if err := checkWords("risky", rules.Risky); err != nil {
		fail(w, err)
		return
	}
	if err := checkWords("review", rules.Review); err != nil {
		fail(w, err)
		return
	}
	for i, img := range rules.RiskyImages {
		n, err := content.NormalizeImage(img)
		if err != nil {
			fail(w, bad(fmt.Sprintf("risky_images[%d]", i), "risky_images[%d]: %v", i, err))
			return
		}
		rules.RiskyImages[i] = n
	}
	a.env.Content.Set(rules)
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

// GET /_mock/quotas?platform=&app_id= — the app's limits and current usage.
func (a *API) getQuotas(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	app, err := a.platformApp(q.Get("platform"), q.Get("app_id"))
	if err != nil {
		fail(w, err)
		return
	}
	type usage struct {
		mockapi.Quota
		Used int `json:"used"`
	}
	now := a.env.Clock.Now()
	out := []usage{}
	for _, l := range app.Limits {
		out = append(out, usage{
			Quota: mockapi.Quota{Platform: app.Platform, AppID: app.AppID, Endpoint: l.Endpoint, Limit: l.Max, Per: string(l.Per)},
			Used:  a.env.Quota.Used(app.Platform+"/"+app.AppID, l.Endpoint, l.Per, now),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"quotas": out})
}

// PUT /_mock/quotas {"platform","app_id","endpoint","limit","per"}
func (a *API) putQuota(w http.ResponseWriter, r *http.Request) {
	var q mockapi.Quota
	if err := decode(r, &q); err != nil {
		fail(w, err)
		return
	}
	app, err := a.platformApp(q.Platform, q.AppID)
	if err != nil {
		fail(w, err)
		return
	}
	l, err := toLimit(a.platforms[q.Platform], q)
	if err != nil {
		fail(w, err)
		return
	}
	updated := *app
	updated.Limits = setLimit(append(app.Limits[:0:0], app.Limits...), l)
	a.env.Store.PutApp(&updated)
	writeJSON(w, http.StatusOK, q)
}

// DELETE /_mock/quotas/usage?platform=&app_id= forgets counted calls (all
// apps' when no app is given), like the platform's clear_quota.
func (a *API) deleteQuotaUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := ""
	if q.Get("app_id") != "" {
		app, err := a.platformApp(q.Get("platform"), q.Get("app_id"))
		if err != nil {
			fail(w, err)
			return
		}
		key = app.Platform + "/" + app.AppID
	}
	a.env.Quota.Reset(key)
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) getStats(w http.ResponseWriter, _ *http.Request) {
	apps, users, templates := a.env.Store.Counts()
	st := mockapi.Stats{
		Now: a.env.Clock.Now(), Apps: apps, Users: users, Templates: templates,
		Messages: a.env.Inbox.Len(), Dropped: a.env.Inbox.Dropped(), Delivered: a.env.Delivered(),
		Requests: a.env.Journal.Total(), ByEndpoint: map[string]int{}, ByErrCode: map[string]int{},
		Faults: a.env.Faults.Len(),
	}
	reqs, _ := a.env.Journal.Filter(nil, 0, 0)
	for _, c := range reqs {
		st.ByEndpoint[c.Platform+"/"+c.Endpoint]++
		st.ByErrCode[c.Platform+"/"+itoa(c.ErrCode)]++
	}
	writeJSON(w, http.StatusOK, st)
}
