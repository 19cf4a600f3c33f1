package controlapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// GET /_mock/messages?platform=&app_id=&openid=&template_id=&wait=5s&min=N&offset=&limit=
// With wait, it blocks until at least min (default 1) messages match or the
// wait ends, so tests need no polling loops.
func (a *API) getMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if p := q.Get("platform"); p != "" {
		if err := a.checkPlatform(p); err != nil {
			fail(w, err)
			return
		}
	}
	offset, err := queryInt(r, "offset")
	if err != nil {
		fail(w, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		fail(w, err)
		return
	}
	minN, err := queryInt(r, "min")
	if err != nil {
		fail(w, err)
		return
	}
	wait, err := queryWait(r)
	if err != nil {
		fail(w, err)
		return
	}
	platformName, appID, openID, templateID := q.Get("platform"), q.Get("app_id"), q.Get("openid"), q.Get("template_id")
	match := func(m *mockapi.Message) bool {
		return (platformName == "" || m.Platform == platformName) && (appID == "" || m.AppID == appID) &&
			(openID == "" || m.OpenID == openID) && (templateID == "" || m.TemplateID == templateID)
	}
	if wait > 0 {
		if minN == 0 {
			minN = 1
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		a.env.Inbox.Wait(ctx, match, minN)
		cancel()
	}
	msgs, total := a.env.Inbox.Filter(match, offset, limit)
	if msgs == nil {
		msgs = []mockapi.Message{}
	}
	writeJSON(w, http.StatusOK, mockapi.Messages{Messages: msgs, Total: total, Dropped: a.env.Inbox.Dropped()})
}

func (a *API) deleteMessages(w http.ResponseWriter, _ *http.Request) {
	a.env.Inbox.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// GET /_mock/requests?platform=&endpoint=&app_id=&openid=&errcode=&wait=&min=&offset=&limit=
func (a *API) getRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, err := queryInt(r, "offset")
	if err != nil {
		fail(w, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		fail(w, err)
		return
	}
	minN, err := queryInt(r, "min")
	if err != nil {
		fail(w, err)
		return
	}
	wait, err := queryWait(r)
	if err != nil {
		fail(w, err)
		return
	}
	var errcode *int
	if s := q.Get("errcode"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail(w, bad("errcode", "errcode must be an integer, got %q", s))
			return
		}
		errcode = &n
	}
	platformName, endpoint, appID, openID := q.Get("platform"), q.Get("endpoint"), q.Get("app_id"), q.Get("openid")
	match := func(c *mockapi.Request) bool {
		return (platformName == "" || c.Platform == platformName) && (endpoint == "" || c.Endpoint == endpoint) &&
			(appID == "" || c.AppID == appID) && (openID == "" || c.OpenID == openID) &&
			(errcode == nil || c.ErrCode == *errcode)
	}
	if wait > 0 {
		if minN == 0 {
			minN = 1
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		a.env.Journal.Wait(ctx, match, minN)
		cancel()
	}
	reqs, total := a.env.Journal.Filter(match, offset, limit)
	if reqs == nil {
		reqs = []mockapi.Request{}
	}
	writeJSON(w, http.StatusOK, mockapi.Requests{Requests: reqs, Total: total, Dropped: a.env.Journal.Dropped()})
}

func (a *API) deleteRequests(w http.ResponseWriter, _ *http.Request) {
	a.env.Journal.Reset()
	w.WriteHeader(http.StatusNoContent)
}
