package baidu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/mockapi"
)

const templateSendPath = "/rest/2.0/smartapp/template/send"

// loggedInScene and guestScene follow the doc's Q&A: the last digit of a
// scene id is 1 for a logged-in user, 0 for a guest.
const (
	loggedInScene = "11.d9ea3ac49f00320f4269b8fb72b53194.290079.1571309167.1"
	guestScene    = "11.d9ea3ac49f00320f4269b8fb72b53194.290079.1571309167.0"
	swanID        = "SL9aK4AETi6bpnzaBVSMgfcTPfkUuNKuvKbyLZmNLKfxanvypng1UCzjgn5VG82QbFeiRdhdsa1q1JnV279RWu8pA"
)

func templateSendForm(sceneID, sceneType string) url.Values {
	return url.Values{"template_id": {tmplA}, "touser_openId": {userA2}, "scene_id": {sceneID}, "scene_type": {sceneType},
		"data": {`{"thing1":{"value":"取票"},"number2":{"value":3}}`}, "page": {"pages/home/home"}}
}

func (m *mock) templateSend(tok string, f url.Values) reply {
	m.t.Helper()
	return m.form(http.MethodPost, withToken(templateSendPath, tok), f)
}

func TestTemplateSendDelivers(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	// userA2 holds no subscription: a scene needs none.
	r := m.templateSend(tok, templateSendForm(loggedInScene, "1"))
	wantErrno(t, r, baidu.ErrnoOK)
	key, ok := data(t, r)["msg_key"].(json.Number)
	if !ok {
		t.Fatalf("msg_key is not a number: %s", r.Body)
	}
	// A guest, addressed by swan_id.
	guest := templateSendForm(guestScene, "2")
	guest.Del("touser_openId")
	guest.Set("touser", swanID)
	guest.Set("ext", `{"xzh_id":111,"category_id":15}`)
	wantErrno(t, m.templateSend(tok, guest), baidu.ErrnoOK)
	ms := m.messages()
	if len(ms) != 2 || ms[0].OpenID != userA2 || ms[0].MsgID != key.String() || ms[0].Data["number2"] != "3" || ms[0].Page != "pages/home/home" ||
		ms[1].OpenID != swanID {
		t.Fatalf("inbox %+v", ms)
	}
	if n := m.remaining(userA, tmplA); n != creditsOfA {
		t.Fatalf("a template message spent subscription credits: %d left", n)
	}
}

// A form submission carries one message, a payment three, within 7 days.
func TestTemplateSendSceneBudget(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sceneType string
		budget    int
		over      baidu.Errno
	}{{"1", 1, baidu.ErrnoFormInvalid}, {"2", 3, baidu.ErrnoSceneInvalid}, {"3", 3, baidu.ErrnoSceneInvalid}}
	for _, tc := range cases {
		t.Run("scene_type "+tc.sceneType, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			for range tc.budget {
				wantErrno(t, m.templateSend(tok, templateSendForm(loggedInScene, tc.sceneType)), baidu.ErrnoOK)
			}
			wantErrno(t, m.templateSend(tok, templateSendForm(loggedInScene, tc.sceneType)), tc.over)
			// Another scene id has its own budget, until 7 days have passed.
			other := loggedInScene[:len(loggedInScene)-3] + "9.1"
			wantErrno(t, m.templateSend(tok, templateSendForm(other, tc.sceneType)), baidu.ErrnoOK)
			if tc.budget > 1 {
				m.advance(7 * 24 * time.Hour)
				wantErrno(t, m.templateSend(tok, templateSendForm(other, tc.sceneType)), tc.over)
			}
			if n := len(m.messages()); n != tc.budget+1 {
				t.Fatalf("%d messages, want %d", n, tc.budget+1)
			}
		})
	}
}

func TestTemplateSendErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(url.Values)
		want baidu.Errno
	}{
		{"no template_id", func(f url.Values) { f.Del("template_id") }, baidu.ErrnoParam},
		{"no data", func(f url.Values) { f.Del("data") }, baidu.ErrnoParam},
		{"no scene_id", func(f url.Values) { f.Del("scene_id") }, baidu.ErrnoParam},
		{"no scene_type", func(f url.Values) { f.Del("scene_type") }, baidu.ErrnoParam},
		{"scene_type 4", func(f url.Values) { f.Set("scene_type", "4") }, baidu.ErrnoParam},
		{"no recipient", func(f url.Values) { f.Del("touser_openId") }, baidu.ErrnoParam},
		{"data not JSON", func(f url.Values) { f.Set("data", "keyword1=x") }, baidu.ErrnoParam},
		{"ext not an object", func(f url.Values) { f.Set("ext", "[1]") }, baidu.ErrnoParam},
		{"guest scene for a logged-in user", func(f url.Values) { f.Set("scene_id", guestScene) }, baidu.ErrnoFormInvalid},
		{"order scene for the wrong recipient", func(f url.Values) { f.Set("scene_id", guestScene); f.Set("scene_type", "2") }, baidu.ErrnoSceneInvalid},
		{"scene id without a login digit", func(f url.Values) { f.Set("scene_id", "formid-x") }, baidu.ErrnoFormInvalid},
		{"unknown user", func(f url.Values) { f.Set("touser_openId", "nobody") }, baidu.ErrnoParam},
		{"user of another app", func(f url.Values) { f.Set("touser_openId", userB) }, baidu.ErrnoParam},
		{"template of another app", func(f url.Values) { f.Set("template_id", tmplB) }, baidu.ErrnoTemplate},
		{"keyword missing", func(f url.Values) { f.Set("data", `{"thing1":{"value":"x"}}`) }, baidu.ErrnoParam},
		{"bad page", func(f url.Values) { f.Set("page", "https://example.com") }, baidu.ErrnoParam},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			f := templateSendForm(loggedInScene, "1")
			tc.edit(f)
			wantErrno(t, m.templateSend(tok, f), tc.want)
			if n := len(m.messages()); n != 0 {
				t.Fatalf("%d messages after a refused send", n)
			}
			// The refusal spent nothing of the scene.
			wantErrno(t, m.templateSend(tok, templateSendForm(loggedInScene, "1")), baidu.ErrnoOK)
		})
	}
	t.Run("gateway, method, quota, faults", func(t *testing.T) {
		t.Parallel()
		m := start(t)
		tok := m.token(appA, secretA)
		wantGateway(t, m.form(http.MethodPost, templateSendPath, templateSendForm(loggedInScene, "1")), baidu.GatewayInvalidParameter)
		wantErrno(t, m.form(http.MethodGet, withToken(templateSendPath, tok), nil), baidu.ErrnoParam)
		m.setQuota("template_send", 0, "second")
		wantGateway(t, m.templateSend(tok, templateSendForm(loggedInScene, "1")), baidu.GatewayQPSLimit)
		m.setQuota("template_send", 100, "second")
		for _, code := range []baidu.Errno{baidu.ErrnoPushFailed, baidu.ErrnoNoPush} {
			m.addFault(mockapi.Fault{Endpoint: "template_send", ErrCode: new(int(code)), Times: 1})
			wantErrno(t, m.templateSend(tok, templateSendForm(loggedInScene, "1")), code)
		}
		wantErrno(t, m.templateSend(tok, templateSendForm(loggedInScene, "1")), baidu.ErrnoOK)
	})
}
