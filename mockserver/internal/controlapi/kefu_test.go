package controlapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestKefuSessions(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 0)
	w, err := m.Control.OpenKefuSession(ctx(t), mockapi.KefuSession{Platform: wechat, AppID: appID, OpenID: "o_new_user"})
	if err != nil {
		t.Fatal(err)
	}
	now, err := m.Control.Now(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if w.Trigger != "message" || w.Remaining != 5 || !w.Open || w.Deadline.Sub(now) > 48*time.Hour || w.Deadline.Sub(now) < 47*time.Hour {
		t.Fatalf("window after a user message = %+v", w)
	}
	// The user who wrote is now a user of the app.
	apps, err := m.Control.Apps(ctx(t))
	if err != nil || len(apps) != 1 || apps[0].Users != 2 {
		t.Fatalf("apps = %+v, %v; want the writer registered", apps, err)
	}
	// Entering the session while a larger allowance holds changes nothing.
	w, err = m.Control.OpenKefuSession(ctx(t), mockapi.KefuSession{Platform: wechat, AppID: appID, OpenID: "o_new_user", Trigger: "enter"})
	if err != nil || w.Remaining != 5 || w.Trigger != "enter" {
		t.Fatalf("window after entering = %+v, %v", w, err)
	}
	w, err = m.Control.OpenKefuSession(ctx(t), mockapi.KefuSession{Platform: wechat, AppID: appID, OpenID: openID, Trigger: "enter"})
	if err != nil || w.Remaining != 2 || w.Deadline.Sub(w.OpenedAt) != time.Minute {
		t.Fatalf("window after entering only = %+v, %v", w, err)
	}
	list, err := m.Control.KefuSessions(ctx(t), wechat, appID, "")
	if err != nil || len(list) != 2 || list[0].OpenID != openID || list[1].OpenID != "o_new_user" {
		t.Fatalf("sessions = %+v, %v", list, err)
	}
	// A closed window shows no replies left.
	if _, err := m.Control.Advance(ctx(t), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	list, err = m.Control.KefuSessions(ctx(t), wechat, appID, openID)
	if err != nil || len(list) != 1 || list[0].Open || list[0].Remaining != 0 {
		t.Fatalf("session after its minute = %+v, %v", list, err)
	}
	// Reset forgets every window.
	if err := m.Control.Reset(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if list, err := m.Control.KefuSessions(ctx(t), wechat, appID, ""); err != nil || len(list) != 0 {
		t.Fatalf("sessions after reset = %+v, %v", list, err)
	}

	const p = "/_mock/kefu/sessions"
	withKuaishou := func(t *testing.T) *mocktest.Mock {
		return start(t, mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{demoApp(0),
			{Platform: mockapi.PlatformKuaishou, AppID: "ks700000000000000009", Secret: "s"}}}))
	}
	runSteps(t, []step{
		{"opened", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","openid":"o1"}`, http.StatusCreated, ""},
		{"entered", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","openid":"o1","trigger":"enter"}`, http.StatusCreated, ""},
		{"listed", http.MethodGet, p + "?platform=wechat&app_id=" + appID, nil, http.StatusOK, ""},
		{"missing openid", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `"}`, http.StatusBadRequest, "openid"},
		{"bad trigger", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","openid":"o1","trigger":"wave"}`, http.StatusBadRequest, "trigger"},
		{"unknown app", http.MethodPost, p, `{"platform":"wechat","app_id":"wxnope","openid":"o1"}`, http.StatusNotFound, "app_id"},
		{"missing platform", http.MethodPost, p, `{"app_id":"` + appID + `","openid":"o1"}`, http.StatusBadRequest, "platform"},
		{"platform without customer service", http.MethodPost, p, `{"platform":"kuaishou","app_id":"ks700000000000000009","openid":"o1"}`, http.StatusBadRequest, "platform"},
		{"unknown field", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","open_id":"o1"}`, http.StatusBadRequest, "open_id"},
		{"list unknown app", http.MethodGet, p + "?platform=wechat&app_id=wxnope", nil, http.StatusNotFound, "app_id"},
		{"wrong method", http.MethodDelete, p, nil, http.StatusMethodNotAllowed, ""},
	}, withKuaishou)
}

func TestMessagesKindFilter(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 2)
	tok := token(t, m, appID, secret)
	send(t, m, tok, openID, tmplID, "one")
	var out mockapi.Messages
	call(t, m, http.MethodGet, "/_mock/messages?kind=subscribe", nil).decodeInto(t, &out)
	if out.Total != 1 || out.Messages[0].Kind != mockapi.KindSubscribe {
		t.Fatalf("subscribe messages = %+v", out)
	}
	call(t, m, http.MethodGet, "/_mock/messages?kind=customer_service", nil).decodeInto(t, &out)
	if out.Total != 0 {
		t.Fatalf("customer_service messages = %+v, want none", out)
	}
}
