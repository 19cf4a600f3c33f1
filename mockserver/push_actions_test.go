package mockserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// Users' actions that make the platforms push: popups, settings, customer
// service, and events written by hand.

// jsonEvent decodes a plain JSON WeChat push.
type jsonEvent struct {
	ToUserName, FromUserName, MsgType, Event, Content, SessionFrom string
	CreateTime                                                     json.Number
	MsgId                                                          json.Number
	List                                                           json.RawMessage
}

func decodeJSONEvent(t *testing.T, body []byte) jsonEvent {
	t.Helper()
	var ev jsonEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("push %s: %v", body, err)
	}
	return ev
}

type listItem struct{ TemplateId, SubscribeStatusString, PopupScene string }

func grantOf(gs []mockapi.GrantState, tmpl string) (mockapi.GrantState, bool) {
	for _, g := range gs {
		if g.TemplateID == tmpl {
			return g, true
		}
	}
	return mockapi.GrantState{}, false
}

func popup(t *testing.T, m *mocktest.Mock, p mockapi.Popup) mockapi.UserActionResult {
	t.Helper()
	res, err := m.Control.AnswerPopup(context.Background(), p)
	if err != nil {
		t.Fatalf("popup %+v: %v", p, err)
	}
	return res
}

func TestPopupChangesGrantsAndPushes(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "plain")
	tok := wxToken(t, m)

	// Two one-time templates accepted: one credit each; List is an array.
	res := popup(t, m, mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, Accept: []string{pushOneTime, pushOneTime2}})
	if g, _ := grantOf(res.Grants, pushOneTime); g.Remaining != 1 || len(res.Pushes) != 1 {
		t.Fatalf("popup answer = %+v", res)
	}
	_, body := d.nextPost(t)
	ev := decodeJSONEvent(t, body)
	var items []listItem
	if ev.Event != "subscribe_msg_popup_event" || ev.FromUserName != pushUser || json.Unmarshal(ev.List, &items) != nil ||
		len(items) != 2 || items[0] != (listItem{pushOneTime, "accept", "0"}) || items[1].TemplateId != pushOneTime2 {
		t.Fatalf("popup push = %s", body)
	}
	ps := waitPushes(t, m, mockclient.PushFilter{ID: res.Pushes[0], Outcome: mockapi.PushDelivered}, 1)
	if ps[0].Event != "subscribe_msg_popup_event" || ps[0].OpenID != pushUser {
		t.Errorf("journal = %+v", ps[0])
	}

	// The credit is spent by one send; the second answers 43101.
	if ans := wxSend(t, m, tok, pushOneTime); ans.ErrCode != 0 {
		t.Fatalf("send after accept = %+v", ans)
	}
	d.nextPost(t) // its sent event
	if ans := wxSend(t, m, tok, pushOneTime); ans.ErrCode != 43101 {
		t.Fatalf("second send = %+v, want 43101", ans)
	}

	// One template, answered three times: three credits, three pushes,
	// each List an object.
	res = popup(t, m, mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, Accept: []string{pushOneTime}, Times: 3})
	if g, _ := grantOf(res.Grants, pushOneTime); g.Remaining != 3 || len(res.Pushes) != 3 {
		t.Fatalf("three popups = %+v", res)
	}
	for range 3 {
		_, body := d.nextPost(t)
		var item listItem
		if err := json.Unmarshal(decodeJSONEvent(t, body).List, &item); err != nil || item.TemplateId != pushOneTime {
			t.Fatalf("one-item List must be an object: %s", body)
		}
	}

	// A rejection ends the credits; sends answer 43101 until an accept.
	res = popup(t, m, mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, Reject: []string{pushOneTime}})
	if _, ok := grantOf(res.Grants, pushOneTime); ok {
		t.Fatalf("grant kept after a reject: %+v", res.Grants)
	}
	_, body = d.nextPost(t)
	var item listItem
	json.Unmarshal(decodeJSONEvent(t, body).List, &item)
	if item.SubscribeStatusString != "reject" {
		t.Fatalf("reject push = %s", body)
	}
	if ans := wxSend(t, m, tok, pushOneTime); ans.ErrCode != 43101 {
		t.Fatalf("send after reject = %+v", ans)
	}
	_, rejected, _ := grantsAndRejections(t, m, "wechat", pushWxApp)
	if len(rejected) != 1 || rejected[0].TemplateID != pushOneTime {
		t.Fatalf("rejections = %+v", rejected)
	}
	// A long-term template accepted: a long-term grant.
	res = popup(t, m, mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, Accept: []string{pushLongTerm}})
	if g, _ := grantOf(res.Grants, pushLongTerm); !g.LongTerm {
		t.Fatalf("long-term accept = %+v", res.Grants)
	}
}

func grantsAndRejections(t *testing.T, m *mocktest.Mock, platform, appID string) ([]mockapi.GrantState, []mockapi.Rejection, error) {
	t.Helper()
	var out struct {
		Grants   []mockapi.GrantState `json:"grants"`
		Rejected []mockapi.Rejection  `json:"rejected"`
	}
	getJSON(t, m.URL+"/_mock/grants?"+url.Values{"platform": {platform}, "app_id": {appID}}.Encode(), &out)
	return out.Grants, out.Rejected, nil
}

func TestPopupRules(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	ctx := context.Background()
	base := mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser}
	with := func(f func(p *mockapi.Popup)) mockapi.Popup { p := base; f(&p); return p }
	cases := []struct {
		name   string
		popup  mockapi.Popup
		status int
		field  string
	}{
		{"nothing answered", base, 400, "accept"},
		{"four templates", with(func(p *mockapi.Popup) { p.Accept = []string{pushOneTime, pushOneTime2}; p.Reject = []string{"a", "b"} }), 400, "accept"},
		{"mixed kinds", with(func(p *mockapi.Popup) { p.Accept = []string{pushOneTime, pushLongTerm} }), 400, "accept[1]"},
		{"twice", with(func(p *mockapi.Popup) { p.Accept = []string{pushOneTime}; p.Reject = []string{pushOneTime} }), 400, "reject[0]"},
		{"unknown template", with(func(p *mockapi.Popup) { p.Reject = []string{"nope"} }), 404, "reject[0]"},
		{"no openid", with(func(p *mockapi.Popup) { p.OpenID = " "; p.Accept = []string{pushOneTime} }), 400, "openid"},
		{"times", with(func(p *mockapi.Popup) { p.Accept = []string{pushOneTime}; p.Times = 101 }), 400, "times"},
		{"unknown app", with(func(p *mockapi.Popup) { p.AppID = "wxnope"; p.Accept = []string{pushOneTime} }), 404, "app_id"},
	}
	for _, tc := range cases {
		_, err := m.Control.AnswerPopup(ctx, tc.popup)
		wantRefused(t, tc.name, err, tc.status, tc.field)
	}
	if gs, _, _ := grantsAndRejections(t, m, "wechat", pushWxApp); len(gs) != 0 {
		t.Fatalf("refused popups changed grants: %+v", gs)
	}
	// Without push settings the grants still change; nothing is pushed.
	res := popup(t, m, with(func(p *mockapi.Popup) { p.Accept = []string{pushOneTime} }))
	if len(res.Pushes) != 0 || len(res.Grants) != 1 {
		t.Fatalf("popup without push settings = %+v", res)
	}
	// A platform that pushes nothing: grants only.
	if _, err := m.Control.AddApp(ctx, mockapi.App{Platform: "kuaishou", AppID: "ks700000000000000009", Secret: "s",
		Templates: []mockapi.Template{{TemplateID: "ks-t", Keywords: []string{"thing01"}}}}); err != nil {
		t.Fatal(err)
	}
	res = popup(t, m, mockapi.Popup{Platform: "kuaishou", AppID: "ks700000000000000009", OpenID: "ks_u", Accept: []string{"ks-t"}})
	if len(res.Pushes) != 0 || len(res.Grants) != 1 || res.Grants[0].Remaining != 1 {
		t.Fatalf("kuaishou popup = %+v", res)
	}
}

func TestSettingsOffPushesChangeEvent(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "plain")
	ctx := context.Background()
	m.Control.Grant(ctx, mockapi.Grant{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, TemplateID: pushLongTerm, LongTerm: true})
	if err := m.Control.Revoke(ctx, "wechat", pushWxApp, pushUser, pushLongTerm); err != nil {
		t.Fatal(err)
	}
	_, body := d.nextPost(t)
	ev := decodeJSONEvent(t, body)
	var item listItem
	if ev.Event != "subscribe_msg_change_event" || json.Unmarshal(ev.List, &item) != nil ||
		item.TemplateId != pushLongTerm || item.SubscribeStatusString != "reject" || item.PopupScene != "" {
		t.Fatalf("change event = %s", body)
	}
	if ans := wxSend(t, m, wxToken(t, m), pushLongTerm); ans.ErrCode != 43101 {
		t.Fatalf("send after the settings change = %+v", ans)
	}
}

func TestKefuSessionPushesUserMessage(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "plain")
	for _, tc := range []struct {
		trigger, text string
		check         func(ev jsonEvent) bool
	}{
		{"message", "我的订单到哪了", func(ev jsonEvent) bool {
			id, err := ev.MsgId.Int64()
			return ev.MsgType == "text" && ev.Content == "我的订单到哪了" && err == nil && id > 0
		}},
		{"message", "", func(ev jsonEvent) bool { return ev.MsgType == "text" && ev.Content == "你好" }},
		{"enter", "order-42", func(ev jsonEvent) bool {
			return ev.MsgType == "event" && ev.Event == "user_enter_tempsession" && ev.SessionFrom == "order-42"
		}},
	} {
		var win mockapi.KefuWindow
		st := postJSONTo(t, m.URL+"/_mock/kefu/sessions", mockapi.KefuSession{Platform: "wechat", AppID: pushWxApp,
			OpenID: pushUser, Trigger: tc.trigger, Text: tc.text}, &win)
		if st != http.StatusCreated || !win.Open {
			t.Fatalf("open session %s: %d %+v", tc.trigger, st, win)
		}
		_, body := d.nextPost(t)
		if ev := decodeJSONEvent(t, body); !tc.check(ev) || ev.FromUserName != pushUser {
			t.Fatalf("%s push = %s", tc.trigger, body)
		}
	}
}

func TestHandEventsApplyTheirEffect(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "xml", "plain")
	ctx := context.Background()

	// A popup event by hand: the accept grants a credit, the reject ends it.
	res, err := m.Control.PushEvent(ctx, "wechat", pushWxApp, json.RawMessage(`{"FromUserName":"`+pushUser+`","MsgType":"event",
		"Event":"subscribe_msg_popup_event","List":[{"TemplateId":"`+pushOneTime+`","SubscribeStatusString":"accept","PopupScene":"0"},
		{"TemplateId":"`+pushOneTime2+`","SubscribeStatusString":"reject","PopupScene":"0"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := grantOf(res.Grants, pushOneTime); g.Remaining != 1 || len(res.Effects) != 2 || len(res.Pushes) != 1 {
		t.Fatalf("hand popup = %+v", res)
	}
	r, body := d.nextPost(t)
	if r.Header.Get("Content-Type") != "text/xml" || !containsAll(string(body), "<ToUserName><![CDATA[gh_",
		"<CreateTime>", "<SubscribeMsgPopupEvent><List><TemplateId><![CDATA["+pushOneTime+"]]>", "</List><List>", "</SubscribeMsgPopupEvent></xml>") {
		t.Fatalf("hand popup as XML = %s", body)
	}

	// A user's text opens the customer-service window.
	res, err = m.Control.PushEvent(ctx, "wechat", pushWxApp, map[string]any{"FromUserName": pushUser, "MsgType": "text", "Content": "hi", "MsgId": 1})
	if err != nil || len(res.Effects) != 1 {
		t.Fatalf("hand text = %+v, %v", res, err)
	}
	d.nextPost(t)
	var wins []mockapi.KefuWindow
	var out struct {
		Sessions []mockapi.KefuWindow `json:"sessions"`
	}
	getJSON(t, m.URL+"/_mock/kefu/sessions?platform=wechat&app_id="+pushWxApp+"&openid="+pushUser, &out)
	wins = out.Sessions
	if len(wins) != 1 || !wins[0].Open || wins[0].Remaining != 5 {
		t.Fatalf("window after a hand text = %+v", wins)
	}

	// Any other event is pushed as written, with no effect.
	res, err = m.Control.PushEvent(ctx, "wechat", pushWxApp, json.RawMessage(`{"FromUserName":"`+pushUser+`","MsgType":"event","Event":"wxa_media_check","trace_id":"t-1","result":{"suggest":"pass","label":100}}`))
	if err != nil || len(res.Effects) != 0 {
		t.Fatalf("media check by hand = %+v, %v", res, err)
	}
	if _, body := d.nextPost(t); !containsAll(string(body), "<trace_id><![CDATA[t-1]]></trace_id>", "<result><suggest><![CDATA[pass]]></suggest><label>100</label></result>") {
		t.Fatalf("media check as XML = %s", body)
	}
	ps := waitPushes(t, m, mockclient.PushFilter{Event: "wxa_media_check"}, 1)
	if ps[0].OpenID != pushUser {
		t.Errorf("journal = %+v", ps[0])
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestHandEventErrors(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	ctx := context.Background()
	d := newDevServer(t, nil)
	// Before the app has push settings.
	_, err := m.Control.PushEvent(ctx, "wechat", pushWxApp, json.RawMessage(`{"MsgType":"text","FromUserName":"o"}`))
	wantRefused(t, "no push settings", err, 409, "app_id")
	setPush(t, m, "wechat", pushWxApp, wxPush(d, "xml", "safe"))
	d.next(t)
	m.Control.AddApp(ctx, mockapi.App{Platform: "alipay", AppID: "2021000000008888"})
	for _, tc := range []struct {
		name, platform, event string
		status                int
		field                 string
	}{
		{"not an object", "wechat", `[1]`, 400, "event"},
		{"duplicate field", "wechat", `{"MsgType":"text","MsgType":"event"}`, 400, "event"},
		{"no MsgType", "wechat", `{"FromUserName":"o"}`, 400, "event.MsgType"},
		{"no Event", "wechat", `{"MsgType":"event","FromUserName":"o"}`, 400, "event.Event"},
		{"no FromUserName", "wechat", `{"MsgType":"text"}`, 400, "event.FromUserName"},
		{"bad status", "wechat", `{"MsgType":"event","Event":"subscribe_msg_popup_event","FromUserName":"o","List":{"TemplateId":"` + pushOneTime + `","SubscribeStatusString":"maybe"}}`, 400, "event.List[0].SubscribeStatusString"},
		{"change accept", "wechat", `{"MsgType":"event","Event":"subscribe_msg_change_event","FromUserName":"o","List":{"TemplateId":"` + pushOneTime + `","SubscribeStatusString":"accept"}}`, 400, "event.List[0].SubscribeStatusString"},
		{"no List", "wechat", `{"MsgType":"event","Event":"subscribe_msg_popup_event","FromUserName":"o"}`, 400, "event.List"},
		{"unknown template", "wechat", `{"MsgType":"event","Event":"subscribe_msg_popup_event","FromUserName":"o","List":[{"TemplateId":"` + pushOneTime + `","SubscribeStatusString":"accept"},{"TemplateId":"nope","SubscribeStatusString":"accept"}]}`, 404, "event.List[1].TemplateId"},
		{"not XML-able", "wechat", `{"MsgType":"text","FromUserName":"o","bad name":"x"}`, 400, "event"},
		{"control char", "wechat", `{"MsgType":"text","FromUserName":"o","Content":"a\u0001"}`, 400, "event"},
		{"alipay", "alipay", `{"x":1}`, 400, "platform"},
	} {
		appID := pushWxApp
		if tc.platform == "alipay" {
			appID = "2021000000008888"
		}
		_, err := m.Control.PushEvent(ctx, tc.platform, appID, json.RawMessage(tc.event))
		wantRefused(t, tc.name, err, tc.status, tc.field)
	}
	// None of the refused events changed anything or pushed anything.
	if gs, _, _ := grantsAndRejections(t, m, "wechat", pushWxApp); len(gs) != 0 {
		t.Fatalf("a refused event changed grants: %+v", gs)
	}
	d.quiet(t, 100*time.Millisecond)
}

// Pushes carry the mock clock: CreateTime in the body, timestamp in the
// query, the journal's time.
func TestPushesFollowTheMockClock(t *testing.T) {
	t.Parallel()
	m, d := startWithPush(t, "json", "compatible")
	ctx := context.Background()
	at := time.Date(2030, 6, 1, 8, 0, 0, 0, time.UTC)
	if _, err := m.Control.SetClock(ctx, at); err != nil {
		t.Fatal(err)
	}
	popup(t, m, mockapi.Popup{Platform: "wechat", AppID: pushWxApp, OpenID: pushUser, Accept: []string{pushOneTime}})
	r, body := d.nextPost(t)
	created, _ := decodeJSONEvent(t, body).CreateTime.Int64()
	ts, _ := strconv.ParseInt(r.URL.Query().Get("timestamp"), 10, 64)
	for name, v := range map[string]int64{"CreateTime": created, "timestamp": ts} {
		if v < at.Unix() || v > at.Unix()+60 {
			t.Errorf("%s %d is not the mock clock's %d", name, v, at.Unix())
		}
	}
	ps := waitPushes(t, m, mockclient.PushFilter{Event: "subscribe_msg_popup_event"}, 1)
	if ps[0].Time.Year() != 2030 {
		t.Errorf("journal time %v", ps[0].Time)
	}
}
