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

// broadcasts: GET /v1/broadcasts, one API page a screen, with its filters.

// broadcastStates are the states the broadcasts page filters by.
var broadcastStates = []string{senderclient.BroadcastScheduled, senderclient.BroadcastFanningOut,
	senderclient.BroadcastSending, senderclient.BroadcastDone}

type broadcastFilter struct {
	App, State, Schedule, From, To, Cursor string
	from, to                               time.Time
}

// Query is the filter as a query string (without the cursor).
func (f broadcastFilter) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"app": f.App, "state": f.State, "schedule": f.Schedule, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

type broadcastsView struct {
	Filter broadcastFilter
	Items  []senderclient.BroadcastState
	Next   string
	States []string
}

// Bounded: a short screen with more to read (the sender stopped at its
// bound of broadcasts examined for state or schedule).
func (v broadcastsView) Bounded() bool { return v.Next != "" && len(v.Items) < screenRows }

// NextQuery links the next screen.
func (v broadcastsView) NextQuery() string { return nextQuery(v.Filter.Query(), v.Next) }

func (c *Console) broadcastsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if id := strings.TrimSpace(q.Get("id")); id != "" {
		http.Redirect(w, r, Prefix+"/broadcasts/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	f := broadcastFilter{App: q.Get("app"), State: q.Get("state"), Schedule: strings.TrimSpace(q.Get("schedule")),
		From: q.Get("from"), To: q.Get("to"), Cursor: q.Get("cursor")}
	var bad []string
	if f.App != "" && !slices.Contains(c.apps, f.App) {
		bad = append(bad, "app: no app named "+strconvQuote(f.App)+" is configured")
	}
	if f.State != "" && !slices.Contains(broadcastStates, f.State) {
		bad = append(bad, "state must be one of "+strings.Join(broadcastStates, ", "))
	}
	var msg string
	if f.from, msg = parseTime("from", f.From); msg != "" {
		bad = append(bad, msg)
	}
	if f.to, msg = parseTime("to", f.To); msg != "" {
		bad = append(bad, msg)
	}
	p := c.newPage(r, "Broadcasts", "broadcasts")
	v := broadcastsView{Filter: f, States: broadcastStates}
	if len(bad) > 0 {
		p.Error, p.Data = strings.Join(bad, "; "), v
		c.render(w, http.StatusBadRequest, "broadcasts", p)
		return
	}
	l, err := c.client(fromContext(r.Context())).Broadcasts(r.Context(), senderclient.BroadcastFilter{App: f.App, State: f.State,
		Schedule: f.Schedule, CreatedFrom: f.from, CreatedTo: f.to, Limit: screenRows, Cursor: f.Cursor})
	if err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	v.Items, v.Next = l.Items, l.NextCursor
	p.Data = v
	c.render(w, http.StatusOK, "broadcasts", p)
}

// schedules: GET /v1/schedules, with pause, resume and delete.

type schedulesView struct {
	App    string
	Page   senderclient.ScheduleList
	Cursor string
}

func (c *Console) schedulesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := c.newPage(r, "Schedules", "schedules")
	v := schedulesView{App: q.Get("app"), Cursor: q.Get("cursor")}
	if v.App != "" && !slices.Contains(c.apps, v.App) {
		p.Error, p.Data = "app: no app named "+strconvQuote(v.App)+" is configured", v
		c.render(w, http.StatusBadRequest, "schedules", p)
		return
	}
	var err error
	v.Page, err = c.client(fromContext(r.Context())).Schedules(r.Context(), v.App, senderclient.GroupPageRequest{Cursor: v.Cursor, Limit: screenRows})
	if err != nil {
		c.renderAPIError(w, r, err)
		return
	}
	p.Data = v
	c.render(w, http.StatusOK, "schedules", p)
}

// POST /console/schedules/{id}/pause and /resume
// (POST /v1/schedules/{id}/pause, /resume).
func (c *Console) postSchedulePause(pause bool) actionFunc {
	return func(_ http.ResponseWriter, r *http.Request) (string, string, error) {
		cl, id := c.client(fromContext(r.Context())), mux.Vars(r)["id"]
		var err error
		notice := "schedule-resumed"
		if pause {
			_, err = cl.PauseSchedule(r.Context(), id)
			notice = "schedule-paused"
		} else {
			_, err = cl.ResumeSchedule(r.Context(), id)
		}
		if err != nil {
			return "", "", err
		}
		return backWithout(r, Prefix+"/schedules"), notice, nil
	}
}

// POST /console/schedules/{id}/delete (DELETE /v1/schedules/{id}).
func (c *Console) postScheduleDelete(_ http.ResponseWriter, r *http.Request) (string, string, error) {
	if err := c.client(fromContext(r.Context())).DeleteSchedule(r.Context(), mux.Vars(r)["id"]); err != nil {
		return "", "", err
	}
	return backWithout(r, Prefix+"/schedules"), "schedule-deleted", nil
}

// backWithout is back without the notice the page was showing, so the
// action's own notice is the one shown.
func backWithout(r *http.Request, def string) string {
	u, err := url.Parse(back(r, def))
	if err != nil {
		return def
	}
	q := u.Query()
	q.Del("notice")
	q.Del("count")
	u.RawQuery = q.Encode()
	return u.String()
}
