package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/senderclient"
)

// screenRows is the messages one screen shows: one API page. The API
// applies every filter of the messages page itself (app, status, reason,
// user, time) and pages by its cursor.
const screenRows = 50

// overview: queue depth per status and app, delivered/s, live.

type statsView struct {
	Totals map[string]int
	Apps   []senderclient.App
	// Rate is delivered messages per second since the previous sample
	// ("" before the second sample).
	Rate    string
	Sampled time.Time
}

func (c *Console) stats(r *http.Request) (statsView, error) {
	apps, err := c.client(fromContext(r.Context())).Apps(r.Context())
	if err != nil {
		return statsView{}, err
	}
	v := statsView{Totals: map[string]int{}, Apps: apps, Sampled: time.Now()}
	for _, a := range apps {
		for s, n := range a.Queue {
			v.Totals[s] += n
		}
	}
	return v, nil
}

func (c *Console) overviewPage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Prefix+"/" {
		c.renderError(w, r, http.StatusNotFound, "No page "+r.URL.Path+" in the console.")
		return
	}
	v, err := c.stats(r)
	if err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	p := c.newPage(r, "Overview", "overview")
	p.Data = v
	c.render(w, http.StatusOK, "overview", p)
}

// messages: filters, cursor paging.

type messageFilter struct {
	App, Status, Reason, User, From, To, Cursor string
	from, to                                    time.Time
}

// Query is the filter as a query string (without the cursor).
func (f messageFilter) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"app": f.App, "status": f.Status, "reason": f.Reason, "user": f.User, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// parseTime reads a time from a form: an <input type=datetime-local>
// value (UTC) or RFC 3339.
func parseTime(field, s string) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, ""
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, ""
		}
	}
	return time.Time{}, field + " must be a time such as 2026-12-05T10:00 (UTC) or RFC 3339, got " + strconvQuote(s)
}

func strconvQuote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// readFilter validates the query; problems are shown above the list.
func (c *Console) readFilter(q url.Values, statuses []string) (messageFilter, []string) {
	f := messageFilter{App: q.Get("app"), Status: q.Get("status"), Reason: q.Get("reason"), User: strings.TrimSpace(q.Get("user")),
		From: q.Get("from"), To: q.Get("to"), Cursor: q.Get("cursor")}
	var bad []string
	if f.App != "" && !slices.Contains(c.apps, f.App) {
		bad = append(bad, "app: no app named "+strconvQuote(f.App)+" is configured")
	}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		bad = append(bad, "status must be one of "+strings.Join(statuses, ", "))
	}
	if f.Reason != "" && !slices.Contains(reasons, f.Reason) {
		bad = append(bad, "reason "+strconvQuote(f.Reason)+" is not in the sender's vocabulary")
	}
	var msg string
	if f.from, msg = parseTime("from", f.From); msg != "" {
		bad = append(bad, msg)
	}
	if f.to, msg = parseTime("to", f.To); msg != "" {
		bad = append(bad, msg)
	}
	return f, bad
}

type listView struct {
	Filter   messageFilter
	Items    []senderclient.Message
	Next     string // the API cursor of the next screen
	Statuses []string
}

// Bounded: a short screen with more to read, where the sender stopped at
// its bound of messages examined for a sparse filter.
func (v listView) Bounded() bool { return v.Next != "" && len(v.Items) < screenRows }

// NextQuery links the next screen.
func (v listView) NextQuery() string { return nextQuery(v.Filter.Query(), v.Next) }

// nextQuery is a list screen's query for the screen after it: its filter's
// query and the API's cursor.
func nextQuery(filter, cursor string) string {
	if filter != "" {
		filter += "&"
	}
	return filter + "cursor=" + url.QueryEscape(cursor)
}

// list reads one screen of messages: one API page with the filter. The
// page may be short (even empty) with a cursor when the sender reached its
// bound of messages examined for a sparse filter; Older continues.
func (c *Console) list(r *http.Request, f messageFilter) (listView, error) {
	cl := c.client(fromContext(r.Context()))
	pg, err := cl.Messages(r.Context(), senderclient.MessageFilter{App: f.App, Status: f.Status, Reason: f.Reason, To: f.User,
		CreatedFrom: f.from, CreatedTo: f.to, Limit: screenRows, Cursor: f.Cursor})
	if err != nil {
		return listView{Filter: f}, err
	}
	return listView{Filter: f, Items: pg.Items, Next: pg.NextCursor}, nil
}

func (c *Console) messagesPage(w http.ResponseWriter, r *http.Request) {
	c.listPage(w, r, "Messages", "messages", "messages", statusOrder)
}

// deadLettersPage lists failed messages (or the other redrivable
// statuses) with redrive buttons and the bulk redrive form.
func (c *Console) deadLettersPage(w http.ResponseWriter, r *http.Request) {
	c.listPage(w, r, "Dead letters", "deadletters", "deadletters",
		[]string{senderclient.StatusFailed, senderclient.StatusRejected, senderclient.StatusCancelled})
}

func (c *Console) listPage(w http.ResponseWriter, r *http.Request, title, nav, tmpl string, statuses []string) {
	f, bad := c.readFilter(r.URL.Query(), statuses)
	if nav == "deadletters" && f.Status == "" {
		f.Status = senderclient.StatusFailed
	}
	p := c.newPage(r, title, nav)
	status := http.StatusOK
	v := listView{Filter: f, Statuses: statuses}
	if len(bad) > 0 {
		p.Error, status = strings.Join(bad, "; "), http.StatusBadRequest
	} else {
		var err error
		if v, err = c.list(r, f); err != nil {
			c.renderAPIError(w, r, err)
			return
		}
		v.Statuses = statuses
	}
	p.Data = v
	c.render(w, status, tmpl, p)
}

func (c *Console) messagePage(w http.ResponseWriter, r *http.Request) {
	m, err := c.client(fromContext(r.Context())).Message(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	p := c.newPage(r, "Message "+m.ID, "messages")
	p.Data = m
	c.render(w, http.StatusOK, "message", p)
}

func (c *Console) broadcastPage(w http.ResponseWriter, r *http.Request) {
	b, err := c.client(fromContext(r.Context())).BroadcastState(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	p := c.newPage(r, "Broadcast "+b.ID, "broadcasts")
	p.Data = b
	c.render(w, http.StatusOK, "broadcast", p)
}

// pickApp is the app a per-app page shows: the one asked for, else the
// first configured.
func (c *Console) pickApp(q url.Values) (string, string) {
	app := q.Get("app")
	if app == "" && len(c.apps) > 0 {
		return c.apps[0], ""
	}
	if !slices.Contains(c.apps, app) {
		return app, "app: no app named " + strconvQuote(app) + " is configured"
	}
	return app, ""
}

type groupsView struct {
	App    string
	Groups senderclient.GroupList
	Group  *senderclient.GroupPage
	Cursor string
}

func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := c.newPage(r, "Groups", "groups")
	app, bad := c.pickApp(q)
	v := groupsView{App: app}
	if bad != "" {
		p.Error, p.Data = bad, v
		c.render(w, http.StatusBadRequest, "groups", p)
		return
	}
	cl := c.client(fromContext(r.Context()))
	var err error
	if v.Groups, err = cl.Groups(r.Context(), app, senderclient.GroupPageRequest{Cursor: q.Get("cursor"), Limit: 100}); err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	if name := q.Get("name"); name != "" {
		g, err := cl.Group(r.Context(), app, name, senderclient.GroupPageRequest{Cursor: q.Get("member_cursor"), Limit: 100})
		if err != nil {
			c.renderAPIError(w, r, err)
			return
		}
		v.Group = &g
	}
	p.Data = v
	c.render(w, http.StatusOK, "groups", p)
}

func (c *Console) appsPage(w http.ResponseWriter, r *http.Request) {
	apps, err := c.client(fromContext(r.Context())).Apps(r.Context())
	if err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	p := c.newPage(r, "Apps", "apps")
	p.Data = apps
	c.render(w, http.StatusOK, "apps", p)
}

type consentsView struct {
	App, User string
	Page      senderclient.Consents
	Cursor    string
}

func (c *Console) consentsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := c.newPage(r, "Consents", "consents")
	app, bad := c.pickApp(q)
	v := consentsView{App: app, User: strings.TrimSpace(q.Get("user")), Cursor: q.Get("cursor")}
	if bad != "" {
		p.Error, p.Data = bad, v
		c.render(w, http.StatusBadRequest, "consents", p)
		return
	}
	var err error
	v.Page, err = c.client(fromContext(r.Context())).Consents(r.Context(),
		senderclient.ConsentFilter{App: app, User: v.User, Limit: 100, Cursor: v.Cursor})
	if err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	p.Data = v
	c.render(w, http.StatusOK, "consents", p)
}
