package douyin

import (
	"encoding/json"
	"strconv"

	"github.com/minipush/minipush/mockserver/internal/push"
)

// PopupEvents is user_subscribe_action, one push per template answered
// (the event carries one msg_id): 1 one-time or 2 long-term subscription,
// 4 one-time or 3 long-term rejection.
func (e *Emulator) PopupEvents(appID, openID string, answers []push.Answer) []push.Event {
	out := make([]push.Event, 0, len(answers))
	for _, a := range answers {
		out = append(out, e.subscribeAction(appID, openID, a.TemplateID, subscribeAction(a.Accept, a.LongTerm)))
	}
	return out
}

// SettingsEvents is user_subscribe_action with a rejection: the user
// switched the template off in the mini-app's settings (the doc's actions
// do not say where the user acted; rejection it is).
func (e *Emulator) SettingsEvents(appID, openID, templateID string, longTerm bool) []push.Event {
	return []push.Event{e.subscribeAction(appID, openID, templateID, subscribeAction(false, longTerm))}
}

func subscribeAction(accept, longTerm bool) int {
	switch {
	case accept && longTerm:
		return ActionLongTerm
	case accept:
		return ActionOneTime
	case longTerm:
		return ActionLongTermReject
	}
	return ActionOneTimeReject
}

// HandEvent reads a webhook written by hand with Douyin's field names: it
// needs event; client_key is filled with the app id when absent; content
// written as an object is turned into the JSON string Douyin sends.
// user_subscribe_action carries its domain effect (1/2 accept, 3/4 reject
// the content's msg_id).
func (e *Emulator) HandEvent(cfg push.Config, body push.Object) (push.Event, []push.Effect, error) {
	event, _ := body.Get("event")
	name, ok := event.(string)
	if !ok || name == "" {
		return push.Event{}, nil, push.BadField("event.event", "event is required: the event's name, e.g. %q", EventSubscribeAction)
	}
	if !body.Has("client_key") {
		body = body.InsertAfter("event", push.Field{Name: "client_key", Value: cfg.AppID})
	}
	openID := ""
	if v, ok := body.Get("from_user_id"); ok {
		if openID, ok = v.(string); !ok {
			return push.Event{}, nil, push.BadField("event.from_user_id", "from_user_id must be a string: the user's open_id")
		}
	}
	content, has := body.Get("content")
	switch c := content.(type) {
	case push.Object:
		b, err := c.MarshalJSON()
		if err != nil {
			return push.Event{}, nil, push.BadField("event.content", "%v", err)
		}
		body = body.With("content", string(b))
		content = string(b)
	case string:
	default:
		if has {
			return push.Event{}, nil, push.BadField("event.content", "content must be an object or the JSON string Douyin sends")
		}
	}
	var effects []push.Effect
	if name == EventSubscribeAction {
		eff, err := subscribeEffect(openID, content)
		if err != nil {
			return push.Event{}, nil, err
		}
		effects = eff
	}
	if _, err := body.MarshalJSON(); err != nil {
		return push.Event{}, nil, push.BadField("event", "%v", err)
	}
	return push.Event{Platform: Name, AppID: cfg.AppID, Name: name, OpenID: openID, Body: body}, effects, nil
}

func subscribeEffect(openID string, content any) ([]push.Effect, error) {
	if openID == "" {
		return nil, push.BadField("event.from_user_id", "from_user_id is required: the user who acted")
	}
	s, _ := content.(string)
	var c struct {
		MsgID  string          `json:"msg_id"`
		Action json.RawMessage `json:"subscribe_action"`
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, push.BadField("event.content", "content must hold {\"msg_id\",\"time\",\"subscribe_action\"}: %v", err)
	}
	if c.MsgID == "" {
		return nil, push.BadField("event.content.msg_id", "msg_id is required: the template's id")
	}
	action, err := strconv.Atoi(string(c.Action))
	if err != nil || action < ActionNone || action > ActionOneTimeReject {
		return nil, push.BadField("event.content.subscribe_action", "subscribe_action must be 0 to 4")
	}
	eff := push.Effect{OpenID: openID, TemplateID: c.MsgID, Field: "event.content.msg_id"}
	switch action {
	case ActionOneTime, ActionLongTerm:
		eff.Kind = push.EffectAccept
	case ActionLongTermReject, ActionOneTimeReject:
		eff.Kind = push.EffectReject
	default:
		return nil, nil // 0: no subscription relation, nothing changes
	}
	return []push.Effect{eff}, nil
}
