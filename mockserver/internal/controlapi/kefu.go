package controlapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// KefuPlatform is implemented by the platform emulations that have a
// customer-service message API (WeChat); the control API opens windows only
// for them.
type KefuPlatform interface {
	EmulatesKefu()
}

func (a *API) kefuRoutes(c *mux.Router) {
	c.Handle("/kefu/sessions", methods{http.MethodGet: a.getKefuSessions, http.MethodPost: a.postKefuSession})
}

// kefuApp checks the platform, app and that the platform emulates customer
// service.
func (a *API) kefuApp(platformName, appID string) error {
	if _, err := a.platformApp(platformName, appID); err != nil {
		return err
	}
	if _, ok := a.platforms[platformName].(KefuPlatform); !ok {
		return bad("platform", "platform %q has no customer-service messages in the mock", platformName)
	}
	return nil
}

// POST /_mock/kefu/sessions {"platform","app_id","openid","trigger"} — the
// user writes (trigger "message", the default) or enters the session
// ("enter"); the app may then reply through the customer-service API.
func (a *API) postKefuSession(w http.ResponseWriter, r *http.Request) {
	var req mockapi.KefuSession
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	if err := a.kefuApp(req.Platform, req.AppID); err != nil {
		fail(w, err)
		return
	}
	if req.OpenID == "" {
		fail(w, bad("openid", "openid is required"))
		return
	}
	trigger := store.KefuTrigger(req.Trigger)
	if trigger == "" {
		trigger = store.KefuUserMessage
	}
	now := a.env.Clock.Now()
	win, err := a.env.Store.OpenKefuWindowBy(req.Platform, req.AppID, req.OpenID, trigger, now)
	switch {
	case errors.Is(err, store.ErrUnknownTrigger):
		fail(w, bad("trigger", "trigger must be %q or %q, got %q", mockapi.KefuTriggerMessage, mockapi.KefuTriggerEnter, req.Trigger))
		return
	case err != nil:
		fail(w, notFound("app_id", "%v", err))
		return
	}
	writeJSON(w, http.StatusCreated, kefuWindow(win, now))
}

// GET /_mock/kefu/sessions?platform=&app_id=&openid=
func (a *API) getKefuSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := a.kefuApp(q.Get("platform"), q.Get("app_id")); err != nil {
		fail(w, err)
		return
	}
	now := a.env.Clock.Now()
	out := mockapi.KefuWindows{Sessions: []mockapi.KefuWindow{}}
	for _, win := range a.env.Store.KefuWindows(q.Get("platform"), q.Get("app_id"), q.Get("openid")) {
		out.Sessions = append(out.Sessions, kefuWindow(win, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func kefuWindow(w store.KefuWindow, now time.Time) mockapi.KefuWindow {
	out := mockapi.KefuWindow{Platform: w.Platform, AppID: w.AppID, OpenID: w.OpenID, Trigger: string(w.Trigger),
		OpenedAt: w.OpenedAt, Deadline: w.Deadline, Remaining: w.Remaining, Open: w.Open(now), Sent: w.Sent,
		Typing: w.Typing(now)}
	if out.Typing {
		t := w.TypingUntil
		out.TypingUntil = &t
	}
	if !out.Open {
		out.Remaining = 0
	}
	return out
}
