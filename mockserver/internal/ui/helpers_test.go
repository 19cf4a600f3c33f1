package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
)

// The demo's WeChat world (README: "The demo seed").
const (
	appID = seed.DemoWeChatAppID
	alice = seed.DemoUserAlice
	bob   = seed.DemoUserBob
	carol = seed.DemoUserCarol
	order = seed.DemoTemplateOrder
	xss   = "<script>alert(1)</script>"
)

func start(t *testing.T) *mocktest.Mock {
	t.Helper()
	return mocktest.Start(t, mockserver.WithSeed(seed.Demo()), mockserver.WithUI(true))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// sendResult is a WeChat send's answer.
type sendResult struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// send makes the platform call a backend makes: fetch a token, then
// subscribe/send the demo order template to user with the given keyword
// values (thing1, character_string2) and a jump page.
func send(t *testing.T, m *mocktest.Mock, user, thing, code string) sendResult {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {seed.DemoWeChatSecret}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	getJSON(t, m.URL+"/cgi-bin/token?"+q.Encode(), &tok)
	body, _ := json.Marshal(map[string]any{
		"touser": user, "template_id": order, "page": "pages/order/detail?id=42",
		"data": map[string]any{
			"thing1": map[string]string{"value": thing}, "character_string2": map[string]string{"value": code},
			"date3": map[string]string{"value": "2026-11-25"}, "phrase4": map[string]string{"value": "已发货"},
		},
	})
	resp, err := http.Post(m.URL+"/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(tok.AccessToken),
		"application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r sendResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// wechatToken fetches the demo app's access token.
func wechatToken(t *testing.T, m *mocktest.Mock) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {seed.DemoWeChatSecret}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	getJSON(t, m.URL+"/cgi-bin/token?"+q.Encode(), &tok)
	return tok.AccessToken
}

// wechatCall posts a JSON body to a WeChat path with the access token and
// decodes the answer.
func wechatCall(t *testing.T, m *mocktest.Mock, path string, body any, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(m.URL+path+"?access_token="+url.QueryEscape(wechatToken(t, m)), "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("POST %s: %v: %s", path, err, raw)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, b)
	}
}
