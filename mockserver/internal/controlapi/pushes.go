package controlapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/internal/httpserver"
	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Pusher is implemented by the platform emulations whose platforms push
// users' actions to developers' servers (WeChat, Douyin): the events of a
// popup answer, of a template switched off in settings, and of an event
// written by hand.
type Pusher interface {
	PopupEvents(appID, openID string, answers []push.Answer) []push.Event
	SettingsEvents(appID, openID, templateID string, longTerm bool) []push.Event
	HandEvent(cfg push.Config, body push.Object) (push.Event, []push.Effect, error)
}

// KefuPusher is implemented by the emulations that push users' customer-
// service messages (WeChat): a text, or entering the session.
type KefuPusher interface {
	KefuEvent(appID, openID string, enter bool, text string) push.Event
}

// pushRoutes registers the control calls of pushes to developers'
// servers: push settings, handshakes, the push journal, and the users'
// actions that make the platforms push.
func (a *API) pushRoutes(c *mux.Router) {
	c.Handle("/apps/push", methods{http.MethodPut: a.putPush, http.MethodPost: a.putPush})
	c.Handle("/pushes", methods{http.MethodGet: a.getPushes, http.MethodDelete: a.deletePushes})
	c.Handle("/pushes/verify", methods{http.MethodPost: a.postVerify})
	c.Handle("/popups", methods{http.MethodPost: a.postPopup})
	c.Handle("/events", methods{http.MethodPost: a.postEvent})
}

// checkPush validates an app's push settings (nil: none).
func (a *API) checkPush(app *store.App, in *mockapi.PushConfig) (*push.Config, error) {
	if in == nil {
		return nil, nil
	}
	cfg, field, err := a.env.Push.CheckConfig(app, *in)
	if errors.Is(err, push.ErrNoPush) {
		return nil, bad("push", "%s pushes nothing to developer servers (see docs/mock-%s.md)", app.Platform, app.Platform)
	}
	if err != nil {
		return nil, prefixField("push", bad(field, "%v", err))
	}
	return &cfg, nil
}

// SetPush changes an app's push settings (nil removes them, dropping the
// pushes still queued for it). Saving runs the handshake, as the console
// does, and answers it; the settings are kept even when it fails, so a test
// can start its receiver afterwards (the console would refuse to save).
func (a *API) SetPush(ctx context.Context, platformName, appID string, in *mockapi.PushConfig) (mockapi.PushSettingsResult, error) {
	out := mockapi.PushSettingsResult{Platform: platformName, AppID: appID}
	app, err := a.platformApp(platformName, appID)
	if err != nil {
		return out, err
	}
	cfg, err := a.checkPush(app, in)
	if err != nil {
		return out, err
	}
	a.env.Push.SetConfig(platformName, appID, cfg)
	if cfg == nil {
		return out, nil
	}
	out.Push = cfg.Info()
	v, err := a.VerifyPush(ctx, platformName, appID)
	if err != nil {
		return out, err
	}
	out.Verify = &v
	return out, nil
}

// VerifyPush runs the URL-verification handshake of an app's push
// settings now (WeChat's GET with echostr, Douyin's verify_webhook).
func (a *API) VerifyPush(ctx context.Context, platformName, appID string) (mockapi.VerifyResult, error) {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return mockapi.VerifyResult{}, err
	}
	res, err := a.env.Push.Verify(ctx, platformName, appID)
	if errors.Is(err, push.ErrNoSettings) {
		return res, noPushSettings()
	}
	return res, err
}

func noPushSettings() error {
	return &fieldError{field: "app_id", status: http.StatusConflict,
		err: errors.New("the app has no push settings: give it push.url first (POST /_mock/apps or PUT /_mock/apps/push)")}
}

// pushInfo is what GET /_mock/apps shows of an app's push settings.
func (a *API) pushInfo(platformName, appID string) *mockapi.PushInfo {
	cfg, ok := a.env.Push.Config(platformName, appID)
	if !ok {
		return nil
	}
	return cfg.Info()
}

// enqueue queues events and returns the ids of those queued (none when the
// app has no push settings: the platform has nowhere to push).
func (a *API) enqueue(evs []push.Event) []string {
	ids := []string{}
	for _, ev := range evs {
		if id, ok := a.env.Push.Enqueue(ev); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// PushFilter selects push attempts; empty fields match everything.
type PushFilter struct {
	Platform, AppID, Event, OpenID string
	// Outcome is one of mockapi.PushDelivered, …
	Outcome string
	// ID selects the attempts of one push.
	ID string
}

// Match reports whether p passes the filter.
func (f PushFilter) Match(p *mockapi.Push) bool {
	return (f.Platform == "" || p.Platform == f.Platform) && (f.AppID == "" || p.AppID == f.AppID) &&
		(f.Event == "" || p.Event == f.Event) && (f.OpenID == "" || p.OpenID == f.OpenID) &&
		(f.Outcome == "" || p.Outcome == f.Outcome) && (f.ID == "" || p.ID == f.ID)
}

// Pushes reads the journal of push attempts and handshakes, oldest first,
// with the queue's counters.
func (a *API) Pushes(ctx context.Context, f PushFilter, p Page) mockapi.Pushes {
	j := a.env.Push.Journal()
	if p.Wait > 0 {
		ctx, cancel := context.WithTimeout(ctx, p.Wait)
		j.Wait(ctx, f.Match, p.minimum())
		cancel()
	}
	pushes, total := j.Filter(f.Match, p.Offset, p.Limit)
	if pushes == nil {
		pushes = []mockapi.Push{}
	}
	return mockapi.Pushes{Pushes: pushes, Total: total, Evicted: j.Dropped(), Queue: a.env.Push.Stats()}
}

// ClearPushes empties the push journal (the queue is left alone; reset
// clears both).
func (a *API) ClearPushes() { a.env.Push.Journal().Reset() }

// extendForHandshake lets a call that runs the handshake answer after it:
// the handshake waits up to the push timeout for the developer's server,
// which may exceed the mock's write timeout.
func (a *API) extendForHandshake(w http.ResponseWriter, r *http.Request) {
	httpserver.ExtendWriteDeadline(w, r, a.env.Push.Options().Timeout+waitWriteGrace)
}

// PUT /_mock/apps/push {"platform","app_id","push":{…}|null}
func (a *API) putPush(w http.ResponseWriter, r *http.Request) {
	var req mockapi.PushSettings
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	a.extendForHandshake(w, r)
	out, err := a.SetPush(r.Context(), req.Platform, req.AppID, req.Push)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// POST /_mock/pushes/verify {"platform","app_id"}
func (a *API) postVerify(w http.ResponseWriter, r *http.Request) {
	var req mockapi.PushTarget
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	a.extendForHandshake(w, r)
	res, err := a.VerifyPush(r.Context(), req.Platform, req.AppID)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// GET /_mock/pushes?platform=&app_id=&event=&openid=&outcome=&id=&wait=&min=&offset=&limit=
func (a *API) getPushes(w http.ResponseWriter, r *http.Request) {
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
	f := PushFilter{Platform: q.Get("platform"), AppID: q.Get("app_id"), Event: q.Get("event"),
		OpenID: q.Get("openid"), Outcome: q.Get("outcome"), ID: q.Get("id")}
	switch f.Outcome {
	case "", mockapi.PushDelivered, mockapi.PushRetry, mockapi.PushFailed, mockapi.PushDropped,
		mockapi.PushPassed, mockapi.PushRejected:
	default:
		fail(w, bad("outcome", "outcome must be delivered, retry, failed, dropped, passed or rejected, got %q", f.Outcome))
		return
	}
	if p.Wait > 0 {
		httpserver.ExtendWriteDeadline(w, r, p.Wait+waitWriteGrace)
	}
	writeJSON(w, http.StatusOK, a.Pushes(r.Context(), f, p))
}

func (a *API) deletePushes(w http.ResponseWriter, _ *http.Request) {
	a.ClearPushes()
	w.WriteHeader(http.StatusNoContent)
}
