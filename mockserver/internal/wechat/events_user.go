package wechat

import (
	"strconv"

	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// The pushes of users' actions
// (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/subscribe-message.html
// and customer-message/receive.html).

// popupScene is PopupScene for a popup in a mini-program page: "0", a
// string as live pushes carry it.
const popupScene = "0"

// PopupEvents is subscribe_msg_popup_event: one push per popup answer,
// every template of the popup in its List (accept or reject).
func (e *Emulator) PopupEvents(appID, openID string, answers []push.Answer) []push.Event {
	items := make([]push.Object, 0, len(answers))
	for _, a := range answers {
		status := "reject"
		if a.Accept {
			status = "accept"
		}
		items = append(items, push.Object{{Name: "TemplateId", Value: a.TemplateID},
			{Name: "SubscribeStatusString", Value: status}, {Name: "PopupScene", Value: popupScene}})
	}
	return []push.Event{e.NewEvent(appID, openID, EventSubscribePopup, push.Object{{Name: "List", Value: list(items)}})}
}

// SettingsEvents is subscribe_msg_change_event: the user switched a
// template off in the settings ("目前只推送取消订阅的事件").
func (e *Emulator) SettingsEvents(appID, openID, templateID string, _ bool) []push.Event {
	item := push.Object{{Name: "TemplateId", Value: templateID}, {Name: "SubscribeStatusString", Value: "reject"}}
	return []push.Event{e.NewEvent(appID, openID, EventSubscribeChange, push.Object{{Name: "List", Value: list([]push.Object{item})}})}
}

// KefuEvent is what the app's server gets when a user writes to customer
// service (a text message: MsgId an int64, CreateTime a number) or enters
// the session from a contact button (user_enter_tempsession with the
// button's session-from).
func (e *Emulator) KefuEvent(appID, openID string, enter bool, text string) push.Event {
	if enter {
		return e.NewEvent(appID, openID, EventEnterSession, push.Object{{Name: "SessionFrom", Value: text}})
	}
	body := push.Object{{Name: "FromUserName", Value: openID}, {Name: "CreateTime", Value: e.env.Clock.Now().Unix()},
		{Name: "MsgType", Value: MsgTypeText}, {Name: "Content", Value: text}, {Name: "MsgId", Value: e.env.NextMsgID()}}
	return push.Event{Platform: Name, AppID: appID, Name: MsgTypeText, OpenID: openID, Body: body}
}

// User messages that open the customer-service window (receive.html).
var userMessageTypes = map[string]bool{"text": true, "image": true, "miniprogrampage": true, "voice": true, "video": true}

// HandEvent reads an event written by hand with WeChat's field names: it
// needs MsgType (and Event when MsgType is "event") and FromUserName; it
// fills CreateTime from the mock clock when absent (ToUserName is added
// when it is encoded). The subscribe events and user messages carry their
// domain effects. The event must encode in the app's format.
func (e *Emulator) HandEvent(cfg push.Config, body push.Object) (push.Event, []push.Effect, error) {
	msgType, ok := stringField(body, "MsgType")
	if !ok {
		return push.Event{}, nil, push.BadField("event.MsgType", "MsgType is required: a string such as \"event\" or \"text\"")
	}
	event := ""
	if msgType == MsgTypeEvent {
		if event, ok = stringField(body, "Event"); !ok {
			return push.Event{}, nil, push.BadField("event.Event", "Event is required when MsgType is event (e.g. %q)", EventSubscribePopup)
		}
	}
	openID, ok := stringField(body, "FromUserName")
	if !ok {
		return push.Event{}, nil, push.BadField("event.FromUserName", "FromUserName is required: the user's openid")
	}
	if !body.Has("CreateTime") {
		body = body.InsertAfter("FromUserName", push.Field{Name: "CreateTime", Value: e.env.Clock.Now().Unix()})
	}
	var effects []push.Effect
	switch {
	case event == EventSubscribePopup || event == EventSubscribeChange:
		items, field, err := listItems(body, listWrappers[event])
		if err != nil {
			return push.Event{}, nil, err
		}
		for i, it := range items {
			f := field + "[" + strconv.Itoa(i) + "]"
			id, ok := stringField(it, "TemplateId")
			if !ok {
				return push.Event{}, nil, push.BadField(f+".TemplateId", "TemplateId is required: a template of the app")
			}
			status, _ := stringField(it, "SubscribeStatusString")
			kind := ""
			switch {
			case status == "accept" && event == EventSubscribePopup:
				kind = push.EffectAccept
			case status == "reject":
				kind = push.EffectReject
			default:
				want := `"accept" or "reject"`
				if event == EventSubscribeChange {
					want = `"reject" (the platform pushes only rejections here)`
				}
				return push.Event{}, nil, push.BadField(f+".SubscribeStatusString", "SubscribeStatusString must be %s", want)
			}
			effects = append(effects, push.Effect{Kind: kind, OpenID: openID, TemplateID: id, Field: f + ".TemplateId"})
		}
	case event == EventEnterSession:
		effects = append(effects, push.Effect{Kind: push.EffectSession, OpenID: openID, Trigger: string(store.KefuSessionEnter)})
	case msgType != MsgTypeEvent && userMessageTypes[msgType]:
		effects = append(effects, push.Effect{Kind: push.EffectSession, OpenID: openID, Trigger: string(store.KefuUserMessage)})
	}
	if _, err := encodeEvent(cfg.Format, body.Prepend("ToUserName", cfg.OriginalID)); err != nil {
		return push.Event{}, nil, push.BadField("event", "the event cannot be pushed as %s: %v", cfg.Format, err)
	}
	name := event
	if msgType != MsgTypeEvent {
		name = msgType
	}
	return push.Event{Platform: Name, AppID: cfg.AppID, Name: name, OpenID: openID, Body: body}, effects, nil
}

// listItems reads a subscribe event's List: an object or an array of
// objects, at the top level (JSON's shape) or inside the XML wrapper.
func listItems(body push.Object, wrapper string) ([]push.Object, string, error) {
	field := "event.List"
	v, ok := body.Get("List")
	if !ok {
		if w, isObj := mustObject(body, wrapper); isObj {
			v, ok = w.Get("List")
			field = "event." + wrapper + ".List"
		}
	}
	if !ok {
		return nil, field, push.BadField(field, "List is required: the templates answered")
	}
	switch x := v.(type) {
	case push.Object:
		return []push.Object{x}, field, nil
	case []any:
		if len(x) == 0 {
			return nil, field, push.BadField(field, "List is empty")
		}
		out := make([]push.Object, 0, len(x))
		for i, e := range x {
			o, ok := e.(push.Object)
			if !ok {
				return nil, field, push.BadField(field+"["+strconv.Itoa(i)+"]", "each List item must be an object")
			}
			out = append(out, o)
		}
		return out, field, nil
	}
	return nil, field, push.BadField(field, "List must be an object (one template) or an array of objects")
}

func mustObject(body push.Object, name string) (push.Object, bool) {
	v, _ := body.Get(name)
	o, ok := v.(push.Object)
	return o, ok
}

func stringField(o push.Object, name string) (string, bool) {
	v, _ := o.Get(name)
	s, ok := v.(string)
	return s, ok && s != ""
}
