package controlapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/minipush/minipush/internal/httpserver"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// MessageFilter selects inbox messages; empty fields match everything.
type MessageFilter struct {
	Platform, AppID, OpenID, TemplateID string
	// Kind selects one kind of message (mockapi.KindSubscribe, …).
	Kind string
}

// Match reports whether m passes the filter.
func (f MessageFilter) Match(m *mockapi.Message) bool {
	return (f.Platform == "" || m.Platform == f.Platform) && (f.AppID == "" || m.AppID == f.AppID) &&
		(f.OpenID == "" || m.OpenID == f.OpenID) && (f.TemplateID == "" || m.TemplateID == f.TemplateID) &&
		(f.Kind == "" || m.Kind == f.Kind)
}

// RequestFilter selects journal entries; empty fields (nil ErrCode) match
// everything.
type RequestFilter struct {
	Platform, Endpoint, AppID, OpenID string
	ErrCode                           *int
}

// Match reports whether c passes the filter.
func (f RequestFilter) Match(c *mockapi.Request) bool {
	return (f.Platform == "" || c.Platform == f.Platform) && (f.Endpoint == "" || c.Endpoint == f.Endpoint) &&
		(f.AppID == "" || c.AppID == f.AppID) && (f.OpenID == "" || c.OpenID == f.OpenID) &&
		(f.ErrCode == nil || c.ErrCode == *f.ErrCode)
}

// Page selects a slice of matches: skip Offset, return at most Limit (0: no
// limit); with Wait, first block until at least Min (default 1) match or
// the wait or ctx ends.
type Page struct {
	Offset, Limit, Min int
	Wait               time.Duration
}

func (p Page) minimum() int {
	if p.Min == 0 {
		return 1
	}
	return p.Min
}

// Messages reads the inbox of delivered messages, oldest first.
func (a *API) Messages(ctx context.Context, f MessageFilter, p Page) mockapi.Messages {
	msgs, total, dropped := readPage(ctx, a.env.Inbox, f.Match, p)
	return mockapi.Messages{Messages: msgs, Total: total, Dropped: dropped}
}

// Requests reads the journal of platform calls, oldest first.
func (a *API) Requests(ctx context.Context, f RequestFilter, p Page) mockapi.Requests {
	reqs, total, dropped := readPage(ctx, a.env.Journal, f.Match, p)
	return mockapi.Requests{Requests: reqs, Total: total, Dropped: dropped}
}

// readPage waits as the page asks, then reads it: the matches (never nil,
// so JSON shows []), how many match in all, and how many the ring dropped.
func readPage[T any](ctx context.Context, rg *ring.Ring[T], match func(*T) bool, p Page) ([]T, int, uint64) {
	if p.Wait > 0 {
		ctx, cancel := context.WithTimeout(ctx, p.Wait)
		rg.Wait(ctx, match, p.minimum())
		cancel()
	}
	out, total := rg.Filter(match, p.Offset, p.Limit)
	if out == nil {
		out = []T{}
	}
	return out, total, rg.Dropped()
}

// ClearMessages empties the inbox.
func (a *API) ClearMessages() { a.env.Inbox.Reset() }

// ClearRequests empties the journal.
func (a *API) ClearRequests() { a.env.Journal.Reset() }

// queryPage reads offset, limit, min and wait.
func queryPage(r *http.Request) (Page, error) {
	var p Page
	var err error
	if p.Offset, err = queryInt(r, "offset"); err != nil {
		return p, err
	}
	if p.Limit, err = queryInt(r, "limit"); err != nil {
		return p, err
	}
	if p.Min, err = queryInt(r, "min"); err != nil {
		return p, err
	}
	p.Wait, err = queryWait(r)
	return p, err
}

// waitWriteGrace is the time a long poll has to write its answer once its
// wait is over: a long poll is exempt from the server's write timeout
// (which would cut any wait longer than it) and bounded by maxWait plus
// this instead.
const waitWriteGrace = 30 * time.Second

// GET /_mock/messages?platform=&app_id=&openid=&template_id=&kind=&wait=5s&min=N&offset=&limit=
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
	p, err := queryPage(r)
	if err != nil {
		fail(w, err)
		return
	}
	f := MessageFilter{Platform: q.Get("platform"), AppID: q.Get("app_id"), OpenID: q.Get("openid"), TemplateID: q.Get("template_id"),
		Kind: q.Get("kind")}
	if p.Wait > 0 {
		httpserver.ExtendWriteDeadline(w, r, p.Wait+waitWriteGrace)
	}
	writeJSON(w, http.StatusOK, a.Messages(r.Context(), f, p))
}

func (a *API) deleteMessages(w http.ResponseWriter, _ *http.Request) {
	a.ClearMessages()
	w.WriteHeader(http.StatusNoContent)
}

// ParseErrCode reads an errcode filter value ("" is no filter).
func ParseErrCode(s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, bad("errcode", "errcode must be an integer, got %q", s)
	}
	return &n, nil
}

// GET /_mock/requests?platform=&endpoint=&app_id=&openid=&errcode=&wait=&min=&offset=&limit=
func (a *API) getRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := queryPage(r)
	if err != nil {
		fail(w, err)
		return
	}
	errcode, err := ParseErrCode(q.Get("errcode"))
	if err != nil {
		fail(w, err)
		return
	}
	f := RequestFilter{Platform: q.Get("platform"), Endpoint: q.Get("endpoint"), AppID: q.Get("app_id"),
		OpenID: q.Get("openid"), ErrCode: errcode}
	if p.Wait > 0 {
		httpserver.ExtendWriteDeadline(w, r, p.Wait+waitWriteGrace)
	}
	writeJSON(w, http.StatusOK, a.Requests(r.Context(), f, p))
}

func (a *API) deleteRequests(w http.ResponseWriter, _ *http.Request) {
	a.ClearRequests()
	w.WriteHeader(http.StatusNoContent)
}
