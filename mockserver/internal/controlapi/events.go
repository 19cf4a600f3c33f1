package controlapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// PushEvent pushes any event written by hand with the platform's own field
// names (WeChat: MsgType, Event, FromUserName, List…; Douyin: event,
// from_user_id, content…), encoded in the app's format and mode, and
// applies its domain effect first where it has one, as the platform would
// have: a popup or settings event changes the user's grants, a user's
// message to customer service (or entering the session) opens the
// customer-service window. A bad event changes nothing.
func (a *API) PushEvent(req mockapi.EventPush) (mockapi.UserActionResult, error) {
	out := mockapi.UserActionResult{Grants: []mockapi.GrantState{}, Pushes: []string{}}
	if _, err := a.platformApp(req.Platform, req.AppID); err != nil {
		return out, err
	}
	p, ok := a.platforms[req.Platform].(Pusher)
	if !ok {
		return out, bad("platform", "%s pushes nothing to developer servers (see docs/mock-%s.md)", req.Platform, req.Platform)
	}
	cfg, ok := a.env.Push.Config(req.Platform, req.AppID)
	if !ok {
		return out, noPushSettings()
	}
	if len(req.Event) == 0 {
		return out, bad("event", "event is required: the event as the platform writes it")
	}
	body, err := push.ParseObject(req.Event)
	if err != nil {
		return out, bad("event", "event: %v", err)
	}
	ev, effects, err := p.HandEvent(cfg, body)
	var fe *push.FieldError
	if errors.As(err, &fe) {
		return out, bad(fe.Field, "%v", fe.Err)
	}
	if err != nil {
		return out, err
	}
	// Check every effect before applying any: a bad one changes nothing.
	templates := make([]*store.Template, len(effects))
	for i, eff := range effects {
		switch eff.Kind {
		case push.EffectAccept, push.EffectReject:
			t, ok := a.env.Store.Template(req.Platform, req.AppID, eff.TemplateID)
			if !ok {
				return out, notFound(eff.Field, "template %q is not a template of %s app %s", eff.TemplateID, req.Platform, req.AppID)
			}
			templates[i] = t
		case push.EffectSession:
			if _, ok := a.platforms[req.Platform].(KefuPlatform); !ok {
				return out, bad("event", "%s has no customer-service messages in the mock", req.Platform)
			}
		}
	}
	for i, eff := range effects {
		if err := a.apply(req.Platform, req.AppID, eff, templates[i]); err != nil {
			return out, err
		}
		out.Effects = append(out.Effects, describe(eff))
	}
	if id, ok := a.env.Push.Enqueue(ev); ok {
		out.Pushes = append(out.Pushes, id)
	}
	if ev.OpenID != "" {
		if g := a.env.Store.Grants(req.Platform, req.AppID, ev.OpenID); g != nil {
			out.Grants = g
		}
	}
	return out, nil
}

func (a *API) apply(platformName, appID string, eff push.Effect, t *store.Template) error {
	var err error
	switch eff.Kind {
	case push.EffectAccept:
		count := 1
		if t.LongTerm {
			count = 0
		}
		_, err = a.env.Store.Grant(platformName, appID, eff.OpenID, t.ID, count, t.LongTerm)
	case push.EffectReject:
		_, err = a.env.Store.Reject(platformName, appID, eff.OpenID, t.ID)
	case push.EffectSession:
		_, err = a.env.Store.OpenKefuWindowBy(platformName, appID, eff.OpenID, store.KefuTrigger(eff.Trigger), a.env.Clock.Now())
	}
	return err
}

func describe(eff push.Effect) string {
	switch eff.Kind {
	case push.EffectSession:
		return fmt.Sprintf("customer-service window of %s opened (%s)", eff.OpenID, eff.Trigger)
	default:
		return fmt.Sprintf("%s %s for %s", eff.Kind, eff.TemplateID, eff.OpenID)
	}
}

// POST /_mock/events {"platform","app_id","event":{…}}
func (a *API) postEvent(w http.ResponseWriter, r *http.Request) {
	var req mockapi.EventPush
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	out, err := a.PushEvent(req)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// pushKefu queues what the platform pushes when a user writes to customer
// service or enters the session (WeChat: a text message, or
// user_enter_tempsession).
func (a *API) pushKefu(platformName, appID, openID string, trigger store.KefuTrigger, text string) []string {
	p, ok := a.platforms[platformName].(KefuPusher)
	if !ok {
		return nil
	}
	return a.enqueue([]push.Event{p.KefuEvent(appID, openID, trigger == store.KefuSessionEnter, text)})
}
