package controlapi_test

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// step is one raw control call and the answer it must get.
type step struct {
	name   string
	method string
	path   string
	body   any
	status int
	field  string // field the error must name ("" for success)
}

func runSteps(t *testing.T, steps []step, m func(t *testing.T) *mocktest.Mock) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			call(t, m(t), s.method, s.path, s.body).expect(t, s.status, s.field)
		})
	}
}

func TestPostApps(t *testing.T) {
	t.Parallel()
	const p = "/_mock/apps"
	runSteps(t, []step{
		{"created", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s"}`, http.StatusCreated, ""},
		{"replacing is fine", http.MethodPost, p, mockapi.App{Platform: wechat, AppID: appID, Secret: "other"}, http.StatusCreated, ""},
		{"with nested state", http.MethodPost, p, demoApp(3), http.StatusCreated, ""},
		{"with quota override", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","quotas":[{"endpoint":"token","limit":5,"per":"minute"}]}`, http.StatusCreated, ""},
		{"missing platform", http.MethodPost, p, `{"app_id":"wx1","secret":"s"}`, http.StatusBadRequest, "platform"},
		{"unknown platform", http.MethodPost, p, `{"platform":"myspace","app_id":"wx1","secret":"s"}`, http.StatusBadRequest, "platform"},
		{"missing app_id", http.MethodPost, p, `{"platform":"wechat","secret":"s"}`, http.StatusBadRequest, "app_id"},
		{"blank app_id", http.MethodPost, p, `{"platform":"wechat","app_id":"  ","secret":"s"}`, http.StatusBadRequest, "app_id"},
		{"wechat needs a secret", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1"}`, http.StatusBadRequest, "secret"},
		{"unknown field", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","appid":"x"}`, http.StatusBadRequest, "appid"},
		{"wrong type", http.MethodPost, p, `{"platform":"wechat","app_id":1,"secret":"s"}`, http.StatusBadRequest, "app_id"},
		{"wrong nested type", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","users":"o1"}`, http.StatusBadRequest, "users"},
		{"bad nested template", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","templates":[{"template_id":"t","keywords":["bogus1"]}]}`, http.StatusBadRequest, "templates[0].keywords[0]"},
		{"bad nested grant", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","grants":[{"openid":"o","template_id":"none","count":1}]}`, http.StatusNotFound, "grants[0].template_id"},
		{"bad nested user", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","users":[""]}`, http.StatusBadRequest, "users[0].openid"},
		{"bad quota endpoint", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","quotas":[{"endpoint":"nope","limit":1,"per":"day"}]}`, http.StatusBadRequest, "quotas[0].endpoint"},
		{"bad quota window", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","quotas":[{"endpoint":"token","limit":1,"per":"week"}]}`, http.StatusBadRequest, "quotas[0].per"},
		{"negative quota", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s","quotas":[{"endpoint":"token","limit":-1,"per":"day"}]}`, http.StatusBadRequest, "quotas[0].limit"},
		{"empty body", http.MethodPost, p, nil, http.StatusBadRequest, ""},
		{"malformed", http.MethodPost, p, `{"platform":`, http.StatusBadRequest, ""},
		{"array body", http.MethodPost, p, `[]`, http.StatusBadRequest, ""},
		{"trailing data", http.MethodPost, p, `{"platform":"wechat","app_id":"wx1","secret":"s"} {}`, http.StatusBadRequest, ""},
		{"wrong method", http.MethodPatch, p, `{}`, http.StatusMethodNotAllowed, ""},
	}, func(t *testing.T) *mocktest.Mock { return start(t) })
}

func TestAppsAreListedWithoutSecrets(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 1)
	apps, err := m.Control.Apps(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].AppID != appID || apps[0].Users != 1 || apps[0].Templates != 1 {
		t.Fatalf("apps %+v", apps)
	}
	// The answer to POST carries platform and app_id, not the secret.
	out, err := m.Control.AddApp(ctx(t), mockapi.App{Platform: wechat, AppID: "wx2", Secret: "s2"})
	if err != nil || out["app_id"] != "wx2" || out["platform"] != wechat {
		t.Fatalf("AddApp = %v, %v", out, err)
	}
	if _, ok := out["secret"]; ok {
		t.Fatalf("AddApp answer holds the secret: %v", out)
	}
	// A registered app can fetch tokens with its secret.
	token(t, m, "wx2", "s2")
}

func TestPostUsers(t *testing.T) {
	t.Parallel()
	const p = "/_mock/users"
	runSteps(t, []step{
		{"created", http.MethodPost, p, mockapi.User{Platform: wechat, AppID: appID, OpenID: "o_new"}, http.StatusCreated, ""},
		{"again is fine", http.MethodPost, p, mockapi.User{Platform: wechat, AppID: appID, OpenID: openID}, http.StatusCreated, ""},
		{"unknown app", http.MethodPost, p, mockapi.User{Platform: wechat, AppID: "wxnope", OpenID: "o"}, http.StatusNotFound, "app_id"},
		{"missing app_id", http.MethodPost, p, mockapi.User{Platform: wechat, OpenID: "o"}, http.StatusBadRequest, "app_id"},
		{"missing platform", http.MethodPost, p, mockapi.User{AppID: appID, OpenID: "o"}, http.StatusBadRequest, "platform"},
		{"missing openid", http.MethodPost, p, mockapi.User{Platform: wechat, AppID: appID}, http.StatusBadRequest, "openid"},
		{"unknown field", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","open_id":"o"}`, http.StatusBadRequest, "open_id"},
	}, func(t *testing.T) *mocktest.Mock { return startSeeded(t, 0) })
}

func TestUnregisteredUserGets40003(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 5)
	tok := token(t, m, appID, secret)
	if r := send(t, m, tok, "o_stranger", tmplID, "hello"); r.ErrCode != 40003 {
		t.Fatalf("send to an unregistered openid: %+v, want 40003", r)
	}
	if err := m.Control.AddUser(ctx(t), mockapi.User{Platform: wechat, AppID: appID, OpenID: "o_stranger"}); err != nil {
		t.Fatal(err)
	}
	// Registered but without a grant: the platform's refusal, not 40003.
	if r := send(t, m, tok, "o_stranger", tmplID, "hello"); r.ErrCode != 43101 {
		t.Fatalf("send to a registered openid without grant: %+v, want 43101", r)
	}
	if r := send(t, m, tok, openID, tmplID, "hello"); r.ErrCode != 0 {
		t.Fatalf("send to a granted user: %+v", r)
	}
}

func TestPostTemplates(t *testing.T) {
	t.Parallel()
	const p = "/_mock/templates"
	tmpl := func(edit func(*mockapi.Template)) mockapi.Template {
		tp := mockapi.Template{Platform: wechat, AppID: appID, TemplateID: "t2", Title: "到货提醒",
			Keywords: []string{"thing1", "time2", "character_string3"}}
		if edit != nil {
			edit(&tp)
		}
		return tp
	}
	runSteps(t, []step{
		{"created", http.MethodPost, p, tmpl(nil), http.StatusCreated, ""},
		{"long term", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.Type = mockapi.TemplateLongTerm }), http.StatusCreated, ""},
		{"with enums", http.MethodPost, p, tmpl(func(tp *mockapi.Template) {
			tp.Keywords = []string{"enum1"}
			tp.Enums = map[string][]string{"enum1": {"a", "b"}}
		}), http.StatusCreated, ""},
		{"unknown app", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.AppID = "wxnope" }), http.StatusNotFound, "app_id"},
		{"missing template_id", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.TemplateID = "" }), http.StatusBadRequest, "template_id"},
		{"no keywords", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.Keywords = nil }), http.StatusBadRequest, "keywords"},
		{"keyword without digits", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.Keywords = []string{"thing1", "thing"} }), http.StatusBadRequest, "keywords[1]"},
		{"keyword of unknown type", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.Keywords = []string{"widget1"} }), http.StatusBadRequest, "keywords[0]"},
		{"duplicate keyword", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.Keywords = []string{"thing1", "time2", "thing1"} }), http.StatusBadRequest, "keywords[2]"},
		{"enum of no keyword", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.Enums = map[string][]string{"phrase9": {"x"}} }), http.StatusBadRequest, "enums"},
		{"bad type", http.MethodPost, p, tmpl(func(tp *mockapi.Template) { tp.Type = "forever" }), http.StatusBadRequest, "type"},
		{"keywords not an array", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","template_id":"t","keywords":"thing1"}`, http.StatusBadRequest, "keywords"},
	}, func(t *testing.T) *mocktest.Mock { return startSeeded(t, 0) })
}

func TestTemplatesAreListedAndUsable(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 0)
	err := m.Control.AddTemplate(ctx(t), mockapi.Template{Platform: wechat, AppID: appID, TemplateID: "t-long",
		Keywords: []string{"thing1"}, Type: mockapi.TemplateLongTerm})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := m.Control.Templates(ctx(t), wechat, appID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].TemplateID != tmplID || ts[1].TemplateID != "t-long" ||
		ts[1].Type != mockapi.TemplateLongTerm || ts[1].Title != "t-long" || ts[0].Type != mockapi.TemplateOneTime {
		t.Fatalf("templates %+v", ts)
	}
	call(t, m, http.MethodGet, "/_mock/templates?platform=wechat&app_id=wxnope", nil).expect(t, http.StatusNotFound, "app_id")
	call(t, m, http.MethodGet, "/_mock/templates?app_id="+appID, nil).expect(t, http.StatusBadRequest, "platform")
}

func TestPostGrants(t *testing.T) {
	t.Parallel()
	const p = "/_mock/grants"
	g := func(edit func(*mockapi.Grant)) mockapi.Grant {
		gr := mockapi.Grant{Platform: wechat, AppID: appID, OpenID: "o_granted", TemplateID: tmplID, Count: 2}
		if edit != nil {
			edit(&gr)
		}
		return gr
	}
	runSteps(t, []step{
		{"count", http.MethodPost, p, g(nil), http.StatusCreated, ""},
		{"long term", http.MethodPost, p, g(func(gr *mockapi.Grant) { gr.Count, gr.LongTerm = 0, true }), http.StatusCreated, ""},
		{"unknown app", http.MethodPost, p, g(func(gr *mockapi.Grant) { gr.AppID = "wxnope" }), http.StatusNotFound, "app_id"},
		{"unknown template", http.MethodPost, p, g(func(gr *mockapi.Grant) { gr.TemplateID = "nope" }), http.StatusNotFound, "template_id"},
		{"missing template", http.MethodPost, p, g(func(gr *mockapi.Grant) { gr.TemplateID = "" }), http.StatusBadRequest, "template_id"},
		{"missing openid", http.MethodPost, p, g(func(gr *mockapi.Grant) { gr.OpenID = "" }), http.StatusBadRequest, "openid"},
		{"zero count", http.MethodPost, p, g(func(gr *mockapi.Grant) { gr.Count = 0 }), http.StatusBadRequest, "count"},
		{"negative count", http.MethodPost, p, g(func(gr *mockapi.Grant) { gr.Count = -1 }), http.StatusBadRequest, "count"},
		{"count not a number", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","openid":"o","template_id":"` + tmplID + `","count":"2"}`, http.StatusBadRequest, "count"},
		{"count too large", http.MethodPost, p, `{"platform":"wechat","app_id":"` + appID + `","openid":"o","template_id":"` + tmplID + `","count":1e30}`, http.StatusBadRequest, "count"},
	}, func(t *testing.T) *mocktest.Mock { return startSeeded(t, 0) })
}

func TestGrantsRegisterUsersAccumulateAndRevoke(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 0)
	c := m.Control
	const newUser = "o_granted_only"
	st, err := c.Grant(ctx(t), mockapi.Grant{Platform: wechat, AppID: appID, OpenID: newUser, TemplateID: tmplID, Count: 1})
	if err != nil || st.Remaining != 1 {
		t.Fatalf("grant = %+v, %v", st, err)
	}
	st, err = c.Grant(ctx(t), mockapi.Grant{Platform: wechat, AppID: appID, OpenID: newUser, TemplateID: tmplID, Count: 2})
	if err != nil || st.Remaining != 3 || st.OpenID != newUser || st.TemplateID != tmplID {
		t.Fatalf("second grant = %+v, %v; want 3 remaining", st, err)
	}
	tok := token(t, m, appID, secret)
	if r := send(t, m, tok, newUser, tmplID, "hi"); r.ErrCode != 0 {
		t.Fatalf("send to a user registered by a grant: %+v", r)
	}
	gs, err := c.Grants(ctx(t), wechat, appID, newUser)
	if err != nil || len(gs) != 1 || gs[0].Remaining != 2 {
		t.Fatalf("grants after one send = %+v, %v", gs, err)
	}
	if err := c.Revoke(ctx(t), wechat, appID, newUser, tmplID); err != nil {
		t.Fatal(err)
	}
	if r := send(t, m, tok, newUser, tmplID, "hi"); r.ErrCode != 43101 {
		t.Fatalf("send after revoke: %+v, want 43101", r)
	}
	call(t, m, http.MethodDelete, "/_mock/grants?platform=wechat&app_id="+appID+"&openid="+newUser+"&template_id="+tmplID, nil).
		expect(t, http.StatusNotFound, "template_id")
	call(t, m, http.MethodDelete, "/_mock/grants?platform=wechat&app_id="+appID+"&template_id="+tmplID, nil).
		expect(t, http.StatusBadRequest, "openid")
	call(t, m, http.MethodDelete, "/_mock/grants?platform=wechat&app_id="+appID+"&openid=o", nil).
		expect(t, http.StatusBadRequest, "template_id")
	call(t, m, http.MethodGet, "/_mock/grants?platform=wechat&app_id=wxnope", nil).expect(t, http.StatusNotFound, "app_id")
	var all struct {
		Grants []mockapi.GrantState `json:"grants"`
	}
	a := call(t, m, http.MethodGet, "/_mock/grants?platform=wechat&app_id="+appID, nil)
	a.expect(t, http.StatusOK, "")
	a.decodeInto(t, &all)
	if all.Grants == nil || len(all.Grants) != 0 {
		t.Fatalf("grants after revoke: %s, want an empty array", a.body)
	}
}

func TestLongTermGrantIsNotConsumed(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 0)
	if _, err := m.Control.Grant(ctx(t), mockapi.Grant{Platform: wechat, AppID: appID, OpenID: openID, TemplateID: tmplID, LongTerm: true}); err != nil {
		t.Fatal(err)
	}
	tok := token(t, m, appID, secret)
	for i := range 3 {
		if r := send(t, m, tok, openID, tmplID, "hi"); r.ErrCode != 0 {
			t.Fatalf("send %d on a long-term grant: %+v", i+1, r)
		}
	}
}

func TestGetUsers(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 1)
	call(t, m, http.MethodPost, "/_mock/users", `{"platform":"wechat","app_id":"`+appID+`","openid":"a_first"}`).
		expect(t, http.StatusCreated, "")
	var out struct {
		Users []string `json:"users"`
	}
	a := call(t, m, http.MethodGet, "/_mock/users?platform=wechat&app_id="+appID, nil)
	a.expect(t, http.StatusOK, "")
	a.decodeInto(t, &out)
	if len(out.Users) != 2 || out.Users[0] != "a_first" || out.Users[1] != openID {
		t.Fatalf("users %s: want [a_first %s], sorted", a.body, openID)
	}
	runSteps(t, []step{
		{"no app", http.MethodGet, "/_mock/users?platform=wechat", nil, http.StatusBadRequest, "app_id"},
		{"unknown app", http.MethodGet, "/_mock/users?platform=wechat&app_id=wxnope", nil, http.StatusNotFound, "app_id"},
		{"unknown platform", http.MethodGet, "/_mock/users?platform=line&app_id=x", nil, http.StatusBadRequest, "platform"},
	}, func(t *testing.T) *mocktest.Mock { return startSeeded(t, 0) })
}

// A template the user switched off is listed as rejected until the user
// accepts it again; sends in between answer 43101.
func TestRejectionsAreListedUntilTheNextAccept(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 2)
	type grants struct {
		Grants   []mockapi.GrantState `json:"grants"`
		Rejected []mockapi.Rejection  `json:"rejected"`
	}
	read := func() grants {
		var g grants
		a := call(t, m, http.MethodGet, "/_mock/grants?platform=wechat&app_id="+appID+"&openid="+openID, nil)
		a.expect(t, http.StatusOK, "")
		a.decodeInto(t, &g)
		return g
	}
	if g := read(); len(g.Grants) != 1 || g.Rejected == nil || len(g.Rejected) != 0 {
		t.Fatalf("before: %+v, want one grant and an empty rejected array", g)
	}
	if err := m.Control.Revoke(ctx(t), wechat, appID, openID, tmplID); err != nil {
		t.Fatal(err)
	}
	g := read()
	if len(g.Grants) != 0 || len(g.Rejected) != 1 || g.Rejected[0].TemplateID != tmplID || g.Rejected[0].OpenID != openID {
		t.Fatalf("after revoke: %+v, want no grant and the template rejected", g)
	}
	tok := token(t, m, appID, secret)
	if r := send(t, m, tok, openID, tmplID, "hi"); r.ErrCode != 43101 {
		t.Fatalf("send to a rejected template: %+v, want 43101", r)
	}
	if _, err := m.Control.Grant(ctx(t), mockapi.Grant{Platform: wechat, AppID: appID, OpenID: openID, TemplateID: tmplID, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if g := read(); len(g.Grants) != 1 || len(g.Rejected) != 0 {
		t.Fatalf("after a new accept: %+v, want the grant back and no rejection", g)
	}
	// Reset forgets rejections with everything else.
	if err := m.Control.Revoke(ctx(t), wechat, appID, openID, tmplID); err != nil {
		t.Fatal(err)
	}
	call(t, m, http.MethodPost, "/_mock/reset", nil).expect(t, http.StatusNoContent, "")
	if g := read(); len(g.Rejected) != 0 {
		t.Fatalf("after reset: %+v", g)
	}
}
