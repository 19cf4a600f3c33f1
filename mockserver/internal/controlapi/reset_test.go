package controlapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestResetReturnsToSeed(t *testing.T) {
	t.Parallel()
	rules := &mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "seeded-risky"}}}
	m := start(t, mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{demoApp(1)}, ContentRules: rules}))
	c := m.Control

	// Change everything the reset must undo.
	oldTok := token(t, m, appID, secret)
	if r := send(t, m, tok(t, m), openID, tmplID, "spend the grant"); r.ErrCode != 0 {
		t.Fatal(r)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.AddApp(ctx(t), mockapi.App{Platform: wechat, AppID: "wx_added", Secret: "s"})
	must(err)
	must(c.AddUser(ctx(t), mockapi.User{Platform: wechat, AppID: appID, OpenID: "o_added"}))
	must(c.AddTemplate(ctx(t), mockapi.Template{Platform: wechat, AppID: appID, TemplateID: "t_added", Keywords: []string{"thing1"}}))
	_, err = c.Grant(ctx(t), mockapi.Grant{Platform: wechat, AppID: appID, OpenID: "o_added", TemplateID: tmplID, Count: 9})
	must(err)
	busy := -1
	_, err = c.AddFault(ctx(t), mockapi.Fault{Platform: wechat, Endpoint: "msg_sec_check", ErrCode: &busy})
	must(err)
	must(c.SetQuota(ctx(t), mockapi.Quota{Platform: wechat, AppID: appID, Endpoint: "token", Limit: 0, Per: "day"}))
	must(c.SetContentRules(ctx(t), mockapi.ContentRules{Review: []mockapi.ContentWord{{Word: "added"}}}))
	_, err = c.Advance(ctx(t), 48*time.Hour)
	must(err)

	call(t, m, http.MethodPost, "/_mock/reset", nil).expect(t, http.StatusNoContent, "")

	apps, _ := c.Apps(ctx(t))
	if len(apps) != 1 || apps[0].AppID != appID || apps[0].Users != 1 || apps[0].Templates != 1 {
		t.Fatalf("apps after reset: %+v", apps)
	}
	gs, _ := c.Grants(ctx(t), wechat, appID, "")
	if len(gs) != 1 || gs[0].OpenID != openID || gs[0].Remaining != 1 {
		t.Fatalf("grants after reset: %+v; want the seeded one back with 1 remaining", gs)
	}
	if msgs, _ := c.Messages(ctx(t), mockclient.MessageFilter{}); len(msgs.Messages) != 0 || msgs.Dropped != 0 {
		t.Fatalf("inbox after reset: %+v", msgs)
	}
	if reqs, _ := c.Requests(ctx(t), mockclient.RequestFilter{}); reqs.Total != 0 {
		t.Fatalf("journal after reset: %+v", reqs)
	}
	if fs, _ := c.Faults(ctx(t)); len(fs) != 0 {
		t.Fatalf("faults after reset: %+v", fs)
	}
	cr, _ := c.ContentRules(ctx(t))
	if len(cr.Risky) != 1 || cr.Risky[0].Word != "seeded-risky" || len(cr.Review) != 0 {
		t.Fatalf("content rules after reset: %+v", cr)
	}
	now, _ := c.Now(ctx(t))
	if d := time.Until(now).Abs(); d > time.Minute {
		t.Fatalf("clock after reset is %v from real time", d)
	}
	st, _ := c.Stats(ctx(t))
	if st.Apps != 1 || st.Users != 1 || st.Templates != 1 || st.Faults != 0 || st.Messages != 0 {
		t.Fatalf("stats after reset: %+v", st)
	}
	// Tokens are forgotten; the quota override and its usage are gone.
	if r := send(t, m, oldTok, openID, tmplID, "x"); r.ErrCode != 40001 {
		t.Fatalf("pre-reset token: %+v, want 40001", r)
	}
	newTok := tok(t, m)
	if r := send(t, m, newTok, "o_added", tmplID, "x"); r.ErrCode != 40003 {
		t.Fatalf("user added before reset: %+v, want 40003", r)
	}
	if r := send(t, m, newTok, openID, tmplID, "x"); r.ErrCode != 0 {
		t.Fatalf("seeded grant after reset: %+v", r)
	}
}

// tok fetches a token for the seeded app.
func tok(t *testing.T, m *mocktest.Mock) string {
	t.Helper()
	return token(t, m, appID, secret)
}

func TestResetPinsSeedStart(t *testing.T) {
	t.Parallel()
	pinned := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	m := start(t, mockserver.WithSeed(mockapi.Seed{Start: &pinned}))
	if _, err := m.Control.Advance(ctx(t), 5*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := m.Control.Reset(ctx(t)); err != nil {
		t.Fatal(err)
	}
	now, _ := m.Control.Now(ctx(t))
	if d := now.Sub(pinned); d < 0 || d > time.Minute {
		t.Fatalf("after reset the clock is at %v, want the seed's start %v", now, pinned)
	}
}

func TestResetWithEmptySeedLeavesNothing(t *testing.T) {
	t.Parallel()
	m := start(t)
	if _, err := m.Control.AddApp(ctx(t), demoApp(1)); err != nil {
		t.Fatal(err)
	}
	if err := m.Control.Reset(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if apps, _ := m.Control.Apps(ctx(t)); len(apps) != 0 {
		t.Fatalf("apps after reset to an empty seed: %+v", apps)
	}
	cr, _ := m.Control.ContentRules(ctx(t))
	if len(cr.Risky) == 0 {
		t.Fatal("default content rules (the official test strings) not back after reset")
	}
}
