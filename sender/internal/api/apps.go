package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
)

// appView is an app as GET /v1/apps/{name} shows it: its configuration
// (never a secret), whether it is paused and why, its access token, its
// health and its queue.
type appView struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	AppID    string `json:"app_id"`
	// PausedUntil is when the app's pause ends: null while it is not
	// paused. The platform's code and message that caused it, and its
	// reason (quota_exceeded: a daily quota, waited out until the
	// platform's midnight; rate_limited: a transient throttle) come with
	// it.
	PausedUntil  *time.Time     `json:"paused_until"`
	PauseReason  *reason.Reason `json:"pause_reason"`
	PauseCode    string         `json:"pause_code,omitempty"`
	PauseMessage string         `json:"pause_message,omitempty"`
	PausedSince  *time.Time     `json:"paused_since,omitempty"`
	// TokenValidUntil is the access token's expiry: null while none is
	// held (or the platform signs instead: Alipay).
	TokenValidUntil  *time.Time `json:"token_valid_until"`
	TokenRefreshedAt *time.Time `json:"token_refreshed_at,omitempty"`
	TokenFailures    int        `json:"token_failures"`
	TokenError       string     `json:"token_error,omitempty"`
	// Healthy is false while the platform refuses the app's credentials.
	Healthy      bool       `json:"healthy"`
	HealthReason string     `json:"health_reason,omitempty"`
	HealthSince  *time.Time `json:"health_since,omitempty"`
	Rate         rateView   `json:"rate"`
	// Queue counts the app's messages per status.
	Queue        map[message.Status]int `json:"queue"`
	Consent      string                 `json:"consent"`
	Events       bool                   `json:"events"`
	ContentCheck bool                   `json:"content_check"`
	DefaultPage  string                 `json:"default_page,omitempty"`
	// Campaigns are the app's campaign rules (docs/campaigns.md); absent
	// when it has none.
	Campaigns *campaignsView `json:"campaigns,omitempty"`
	// Templates is where the app's templates come from, for the checks
	// before the 202 (sender/internal/templates).
	Templates templatesView `json:"templates"`
}

// templatesView: source "platform" (a list fetched), "config" (declared
// only) or "none" (only the value rules apply); count known; when the
// list was fetched and the last fetch's error.
type templatesView struct {
	Source    string     `json:"source"`
	Count     int        `json:"count"`
	Listed    bool       `json:"listed"`
	FetchedAt *time.Time `json:"fetched_at,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// rateView is the app's send rate: per second (0: unlimited), burst, and
// the least time between two sends to one user.
type rateView struct {
	PerSecond       float64 `json:"per_second"`
	Burst           int     `json:"burst"`
	PerUserInterval string  `json:"per_user_interval"`
}

// GET /v1/apps → {"items":[app…],"next_cursor":""}: every configured app.
func (a *API) listApps(w http.ResponseWriter, r *http.Request) {
	if _, ps := queryParams(r); len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	pauses, err := a.pauses(r.Context())
	if err != nil {
		a.storeError(w, err, "apps")
		return
	}
	views := make([]appView, 0, len(a.order))
	for _, name := range a.order {
		v, err := a.appView(r.Context(), a.apps[name], pauses)
		if err != nil {
			a.storeError(w, err, "apps")
			return
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, page(views, ""))
}

// GET /v1/apps/{name} → the app.
func (a *API) getApp(w http.ResponseWriter, r *http.Request) {
	app, ok := a.pathApp(w, r)
	if !ok {
		return
	}
	a.answerApp(w, r, app)
}

// POST /v1/apps/{name}/resume ends the app's pause now (a quota pause
// included: the operator knows the platform allows it, or wants to try)
// and makes the messages it held due at once → 200 with the app. An app
// that is not paused answers the same.
func (a *API) resumeApp(w http.ResponseWriter, r *http.Request) {
	app, ok := a.pathApp(w, r)
	if !ok {
		return
	}
	if a.hooks.Resume == nil {
		writeError(w, http.StatusServiceUnavailable, "this sender cannot resume apps")
		return
	}
	n, err := a.hooks.Resume(r.Context(), app.Name)
	if err != nil {
		a.storeError(w, err, "app")
		return
	}
	a.log.Info("app resumed", "app", app.Name, "key", keyName(r), "messages_due", n)
	a.answerApp(w, r, app)
}

func (a *API) answerApp(w http.ResponseWriter, r *http.Request, app config.App) {
	pauses, err := a.pauses(r.Context())
	if err == nil {
		var v appView
		if v, err = a.appView(r.Context(), app, pauses); err == nil {
			writeJSON(w, http.StatusOK, v)
			return
		}
	}
	a.storeError(w, err, "app")
}

// pathApp reads {name}: a configured app (404 otherwise).
func (a *API) pathApp(w http.ResponseWriter, r *http.Request) (config.App, bool) {
	name := mux.Vars(r)["name"]
	ps := checkIdent("name", name, maxGroupNameBytes)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return config.App{}, false
	}
	app, ok := a.apps[name]
	if !ok {
		msg := "no app named " + name + " is configured"
		writeError(w, http.StatusNotFound, msg, Problem{"name", "not_found", msg})
		return config.App{}, false
	}
	return app, true
}

// pauses are the stored pauses still in effect, by app.
func (a *API) pauses(ctx context.Context) (map[string]message.Pause, error) {
	ps, err := a.store.Pauses(ctx)
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := map[string]message.Pause{}
	for _, p := range ps {
		if p.Until.After(now) {
			out[p.App] = p
		}
	}
	return out, nil
}

func (a *API) appView(ctx context.Context, app config.App, pauses map[string]message.Pause) (appView, error) {
	counts, err := a.store.AppCounts(ctx, app.Name)
	if err != nil {
		return appView{}, err
	}
	if counts == nil {
		return appView{}, errors.New("no counts")
	}
	v := appView{Name: app.Name, Platform: app.Platform, AppID: app.AppID, Queue: counts, Healthy: true,
		Consent: app.Consent, Events: app.Events != nil, ContentCheck: app.ContentCheck, DefaultPage: app.DefaultPage,
		Campaigns: newCampaignsView(app.Campaigns)}
	if v.Consent == "" {
		v.Consent = config.ConsentObserve
	}
	if st, ok := a.templates.State(app.Name); ok {
		v.Templates = templatesView{Source: st.Source, Count: st.Count, Listed: st.Listable, FetchedAt: timePtr(st.FetchedAt),
			Error: st.Error}
	}
	if p, ok := pauses[app.Name]; ok {
		v.PausedUntil, v.PauseReason, v.PauseCode, v.PauseMessage = ptr(p.Until), ptr(p.Reason), p.Code, p.Message
		v.PausedSince = timePtr(p.Since)
	}
	if a.hooks.Runtime != nil {
		rt := a.hooks.Runtime(app.Name)
		v.TokenValidUntil, v.TokenRefreshedAt = timePtr(rt.TokenValidUntil), timePtr(rt.TokenRefreshedAt)
		v.TokenFailures, v.TokenError = rt.TokenFailures, rt.TokenError
		v.Healthy, v.HealthReason, v.HealthSince = rt.Healthy, rt.HealthReason, timePtr(rt.HealthSince)
		v.Rate = rateView{PerSecond: rt.RatePerSecond, Burst: rt.RateBurst, PerUserInterval: rt.RatePerUser.String()}
	}
	return v, nil
}

func ptr[T any](v T) *T { return &v }

// timePtr is t, or nil when t is zero (null in JSON).
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
