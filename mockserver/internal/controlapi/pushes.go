package controlapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

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

// setPush validates and stores an app's push settings (nil removes them).
// It does not run the handshake: a seed describes settings saved long ago.
func (a *API) setPush(app *store.App, in *mockapi.PushConfig) (*push.Config, error) {
	cfg, err := a.checkPush(app, in)
	if err != nil {
		return nil, err
	}
	a.env.Push.SetConfig(app.Platform, app.AppID, cfg)
	return cfg, nil
}

// verify runs the handshake the console runs when push settings are saved.
func (a *API) verify(ctx context.Context, platformName, appID string) (*mockapi.VerifyResult, error) {
	res, err := a.env.Push.Verify(ctx, platformName, appID)
	if errors.Is(err, push.ErrNoSettings) {
		return nil, &fieldError{field: "app_id", status: http.StatusConflict,
			err: errors.New("the app has no push settings: give it push.url first (POST /_mock/apps or PUT /_mock/apps/push)")}
	}
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// pushInfo is what GET /_mock/apps shows of an app's push settings.
func (a *API) pushInfo(platformName, appID string) *mockapi.PushInfo {
	cfg, ok := a.env.Push.Config(platformName, appID)
	if !ok {
		return nil
	}
	return cfg.Info()
}

// PUT /_mock/apps/push {"platform","app_id","push":{…}|null} — change an
// app's push settings later; saving runs the handshake and answers it
// (the settings are kept even when it fails, so a test can start its
// receiver afterwards; the console would refuse to save).
func (a *API) putPush(w http.ResponseWriter, r *http.Request) {
	var req mockapi.PushSettings
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	app, err := a.platformApp(req.Platform, req.AppID)
	if err != nil {
		fail(w, err)
		return
	}
	cfg, err := a.setPush(app, req.Push)
	if err != nil {
		fail(w, err)
		return
	}
	out := mockapi.PushSettingsResult{Platform: req.Platform, AppID: req.AppID}
	if cfg != nil {
		out.Push = cfg.Info()
		if out.Verify, err = a.verify(r.Context(), req.Platform, req.AppID); err != nil {
			fail(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// POST /_mock/pushes/verify {"platform","app_id"} — run the handshake now.
func (a *API) postVerify(w http.ResponseWriter, r *http.Request) {
	var req mockapi.PushTarget
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	if _, err := a.platformApp(req.Platform, req.AppID); err != nil {
		fail(w, err)
		return
	}
	res, err := a.verify(r.Context(), req.Platform, req.AppID)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// GET /_mock/pushes?platform=&app_id=&event=&openid=&outcome=&id=&wait=&min=&offset=&limit=
// Every attempt, handshakes included; wait blocks until min (default 1)
// attempts match.
func (a *API) getPushes(w http.ResponseWriter, r *http.Request) {
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
	outcome := q.Get("outcome")
	switch outcome {
	case "", mockapi.PushDelivered, mockapi.PushRetry, mockapi.PushFailed, mockapi.PushDropped,
		mockapi.PushPassed, mockapi.PushRejected:
	default:
		fail(w, bad("outcome", "outcome must be delivered, retry, failed, dropped, passed or rejected, got %q", outcome))
		return
	}
	platformName, appID, event, openID, id := q.Get("platform"), q.Get("app_id"), q.Get("event"), q.Get("openid"), q.Get("id")
	match := func(p *mockapi.Push) bool {
		return (platformName == "" || p.Platform == platformName) && (appID == "" || p.AppID == appID) &&
			(event == "" || p.Event == event) && (openID == "" || p.OpenID == openID) &&
			(outcome == "" || p.Outcome == outcome) && (id == "" || p.ID == id)
	}
	j := a.env.Push.Journal()
	if wait > 0 {
		if minN == 0 {
			minN = 1
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		j.Wait(ctx, match, minN)
		cancel()
	}
	pushes, total := j.Filter(match, offset, limit)
	if pushes == nil {
		pushes = []mockapi.Push{}
	}
	writeJSON(w, http.StatusOK, mockapi.Pushes{Pushes: pushes, Total: total, Evicted: j.Dropped(), Queue: a.env.Push.Stats()})
}

// DELETE /_mock/pushes empties the journal (the queue is left alone; reset
// clears both).
func (a *API) deletePushes(w http.ResponseWriter, _ *http.Request) {
	a.env.Push.Journal().Reset()
	w.WriteHeader(http.StatusNoContent)
}
