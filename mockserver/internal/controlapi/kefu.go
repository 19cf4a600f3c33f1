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

// defaultKefuText is the user's message when a control call gives none.
const defaultKefuText = "你好"

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

// OpenKefuSession records that a user wrote to the app's customer service
// (trigger "message", the default) or entered the session ("enter"): the
// app may then reply through the customer-service API. The platform pushes
// the user's message (or user_enter_tempsession) to the app's push URL.
func (a *API) OpenKefuSession(req mockapi.KefuSession) (mockapi.KefuWindow, error) {
	if err := a.kefuApp(req.Platform, req.AppID); err != nil {
		return mockapi.KefuWindow{}, err
	}
	if req.OpenID == "" {
		return mockapi.KefuWindow{}, bad("openid", "openid is required")
	}
	trigger := store.KefuTrigger(req.Trigger)
	if trigger == "" {
		trigger = store.KefuUserMessage
	}
	now := a.env.Clock.Now()
	win, err := a.env.Store.OpenKefuWindowBy(req.Platform, req.AppID, req.OpenID, trigger, now)
	switch {
	case errors.Is(err, store.ErrUnknownTrigger):
		return mockapi.KefuWindow{}, bad("trigger", "trigger must be %q or %q, got %q",
			mockapi.KefuTriggerMessage, mockapi.KefuTriggerEnter, req.Trigger)
	case err != nil:
		return mockapi.KefuWindow{}, notFound("app_id", "%v", err)
	}
	text := req.Text
	if text == "" && trigger == store.KefuUserMessage {
		text = defaultKefuText
	}
	a.pushKefu(req.Platform, req.AppID, req.OpenID, trigger, text)
	return kefuWindow(win, now), nil
}

// KefuSessions lists an app's customer-service windows (one user's when
// openID is set), sorted by openid.
func (a *API) KefuSessions(platformName, appID, openID string) ([]mockapi.KefuWindow, error) {
	if err := a.kefuApp(platformName, appID); err != nil {
		return nil, err
	}
	now := a.env.Clock.Now()
	out := []mockapi.KefuWindow{}
	for _, win := range a.env.Store.KefuWindows(platformName, appID, openID) {
		out = append(out, kefuWindow(win, now))
	}
	return out, nil
}

// POST /_mock/kefu/sessions {"platform","app_id","openid","trigger"}
func (a *API) postKefuSession(w http.ResponseWriter, r *http.Request) {
	var req mockapi.KefuSession
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	win, err := a.OpenKefuSession(req)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, win)
}

// GET /_mock/kefu/sessions?platform=&app_id=&openid=
func (a *API) getKefuSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := a.KefuSessions(q.Get("platform"), q.Get("app_id"), q.Get("openid"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, mockapi.KefuWindows{Sessions: list})
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
