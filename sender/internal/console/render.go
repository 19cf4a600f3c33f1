package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/senderclient"
)

// page is what every page template gets.
type page struct {
	Title  string
	Nav    string
	Key    string // the signed-in key's name ("" on the login page)
	Scopes string
	Admin  bool // the key may act (admin scope): buttons are shown
	CSRF   string
	Notice string
	Error  string
	Apps   []string
	Data   any
	Here   string // the page's own path and query, for forms to return to
}

// rowsData is what the message rows partial gets.
type rowsData struct {
	Items      []senderclient.Message
	Admin      bool
	CSRF, Back string
}

// Rows are the page's message rows (list pages).
func (p page) Rows() rowsData {
	v, _ := p.Data.(listView)
	return rowsData{Items: v.Items, Admin: p.Admin, CSRF: p.CSRF, Back: p.Here}
}

// notices are the texts a redirect may ask a page to show: fixed, so a
// link cannot make the console say anything else.
var notices = map[string]string{
	"redriven":         "Redriven: the message is queued again.",
	"cancelled":        "Cancelled: the message will not be sent.",
	"bulk-retry":       "Bulk redrive done.",
	"bulk-cancel":      "Bulk cancel done.",
	"resumed":          "Resumed: the app's held messages are due now.",
	"schedule-paused":  "Paused: the schedule makes no run until it is resumed.",
	"schedule-resumed": "Resumed: the schedule runs again (runs missed meanwhile follow its catch-up policy).",
	"schedule-deleted": "Deleted: the schedule makes no more runs; the broadcasts it made stay.",
	"signed-out":       "Signed out.",
}

// newPage fills what every page shows.
func (c *Console) newPage(r *http.Request, title, nav string) page {
	cur := fromContext(r.Context())
	p := page{Title: title, Nav: nav, Key: cur.key.Name, Admin: cur.key.Name != "" && cur.Admin(), CSRF: cur.csrf, Apps: c.apps,
		Here: safeNext(r.URL.RequestURI())}
	if cur.key.Name != "" {
		p.Scopes = strings.Join(cur.key.ScopesOf(), ", ")
	}
	q := r.URL.Query()
	if n := notices[q.Get("notice")]; n != "" {
		p.Notice = n
		if cnt := q.Get("count"); cnt != "" && strings.HasPrefix(q.Get("notice"), "bulk-") {
			p.Notice += " Messages changed: " + cnt + "."
		}
	}
	return p
}

// render executes a page's template into a buffer first, so a template
// error answers 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := c.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError answers a page that says what went wrong.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := c.newPage(r, http.StatusText(status), "")
	p.Error = msg
	c.render(w, status, "error", p)
}

// renderAPIError shows what the API answered (its status and words), or
// 502 for an answer that could not be read.
func (c *Console) renderAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var fe formError
	if errors.As(err, &fe) {
		c.renderError(w, r, http.StatusBadRequest, fe.Error())
		return
	}
	var apiErr *senderclient.Error
	if errors.As(err, &apiErr) {
		msg := "The API answered " + fmt.Sprint(apiErr.StatusCode) + ": " + apiErr.Message
		for _, p := range apiErr.Problems {
			if p.Message != "" && !strings.Contains(msg, p.Message) {
				msg += " — " + p.Field + ": " + p.Message
			}
		}
		c.renderError(w, r, apiErr.StatusCode, msg)
		return
	}
	c.log.Error("console: API call", "err", err)
	c.renderError(w, r, http.StatusBadGateway, "The API could not be read: "+err.Error())
}

// renderLogin shows the sign-in form.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	p := c.newPage(r, "Sign in", "login")
	p.Key, p.Admin, p.CSRF = "", false, ""
	p.Error = msg
	p.Data = loginData{Next: next}
	c.render(w, status, "login", p)
}

// fragment renders one named partial for a live event.
func (c *Console) fragment(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := c.pages["partials"].ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

var pageNames = []string{"overview", "messages", "message", "deadletters", "broadcasts", "broadcast", "groups", "apps",
	"consents", "schedules", "error", "login"}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	out["partials"] = base
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// statusOrder is the order statuses are shown in.
var statusOrder = []string{senderclient.StatusQueued, senderclient.StatusSending, senderclient.StatusRetrying,
	senderclient.StatusDelivered, senderclient.StatusFailed, senderclient.StatusRejected, senderclient.StatusCancelled}

// reasons are the sender's vocabulary, for the filters.
var reasons = []string{senderclient.ReasonNotSubscribed, senderclient.ReasonInvalidRecipient, senderclient.ReasonInvalidTemplate,
	senderclient.ReasonInvalidData, senderclient.ReasonInvalidRequest, senderclient.ReasonRiskyContent, senderclient.ReasonNotPermitted,
	senderclient.ReasonQuotaExceeded, senderclient.ReasonRateLimited, senderclient.ReasonTokenInvalid, senderclient.ReasonCredentialsInvalid,
	senderclient.ReasonSignatureInvalid, senderclient.ReasonPlatformUnavailable, senderclient.ReasonPlatformError, senderclient.ReasonNetwork,
	senderclient.ReasonCancelled, senderclient.ReasonAppNotConfigured}

type kv struct {
	Key   string
	Value string
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05.000Z")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"ms":      func(f float64) string { return fmt.Sprintf("%.1f ms", f) },
	"sorted": func(m map[string]string) []kv {
		out := make([]kv, 0, len(m))
		for k, v := range m {
			out = append(out, kv{k, v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	},
	"statuses": func() []string { return statusOrder },
	"add": func(ns ...int) int {
		t := 0
		for _, n := range ns {
			t += n
		}
		return t
	},
	"finished": func(b senderclient.BroadcastState) bool { return finished(b.FannedOut, b.Recipients, b.Counts) },
	"reasons":  func() []string { return reasons },
	"count":    func(m map[string]int, s string) int { return m[s] },
	"percent": func(n, of int) int {
		if of <= 0 {
			return 0
		}
		return n * 100 / of
	},
	"str": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"waiting": func(status string) bool {
		return status == senderclient.StatusQueued || status == senderclient.StatusRetrying
	},
	// index0 is a schedule's latest run (nil when it has none).
	"index0": func(runs []senderclient.ScheduleRun) *senderclient.ScheduleRun {
		if len(runs) == 0 {
			return nil
		}
		return &runs[0]
	},
	// missed counts the runs a schedule missed, over the runs it keeps.
	"missed": func(runs []senderclient.ScheduleRun) int {
		n := 0
		for _, r := range runs {
			n += r.Missed
			if r.Outcome == senderclient.RunSkipped {
				n++
			}
		}
		return n
	},
	"redrivable": func(status string) bool {
		return status == senderclient.StatusFailed || status == senderclient.StatusRejected || status == senderclient.StatusCancelled
	},
}
