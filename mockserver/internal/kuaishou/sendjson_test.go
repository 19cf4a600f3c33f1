package kuaishou_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// sendJSON posts a JSON body; query, when set, carries credentials.
func (m *mock) sendJSON(body any, query url.Values) reply {
	m.t.Helper()
	var raw string
	switch b := body.(type) {
	case string:
		raw = b
	default:
		bs, err := json.Marshal(b)
		if err != nil {
			m.t.Fatalf("marshal: %v", err)
		}
		raw = string(bs)
	}
	path := sendPath
	if query != nil {
		path += "?" + query.Encode()
	}
	return m.raw(http.MethodPost, path, "application/json; charset=utf-8", strings.NewReader(raw))
}

func jsonSend(tok, user string, data any) map[string]any {
	return map[string]any{"app_id": appA, "access_token": tok, "template_id": tmplA, "to_user": user,
		"page": "pages/card/detail?id=1", "data": data}
}

// A JSON body is accepted (UNCONFIRMED: the doc documents a form), with
// data as an object or as the JSON string a form carries, and credentials
// in the body or the query.
func TestSendJSONBody(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	cases := []struct {
		name  string
		body  any
		query url.Values
	}{
		{"data as an object", jsonSend(tok, userLong, goodData()), nil},
		{"data as a JSON string", jsonSend(tok, userLong, dataString(t, goodData())), nil},
		{"credentials in the query", func() map[string]any {
			b := jsonSend(tok, userLong, goodData())
			delete(b, "app_id")
			delete(b, "access_token")
			return b
		}(), url.Values{"app_id": {appA}, "access_token": {tok}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantResult(t, m.sendJSON(tc.body, tc.query), kuaishou.ResultOK)
		})
	}
	ms := m.messages()
	if len(ms) != len(cases) {
		t.Fatalf("%d messages, want %d", len(ms), len(cases))
	}
	for _, msg := range ms {
		if msg.OpenID != userLong || msg.Data["number01"] != "3" || msg.Data["date01"] != "2020年02月25号" || msg.Page != "pages/card/detail?id=1" {
			t.Fatalf("message %+v", msg)
		}
	}
	// One-time credits are spent the same way as by a form.
	wantResult(t, m.sendJSON(jsonSend(tok, userA, goodData()), nil), kuaishou.ResultOK)
	if n := m.remaining(appA, userA, tmplA); n != grantsOfA-1 {
		t.Fatalf("%d credits left, want %d", n, grantsOfA-1)
	}
}

func TestSendJSONErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	if err := m.Control.SetContentRules(m.ctx, mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "违禁品"}}}); err != nil {
		t.Fatal(err)
	}
	tok := m.token(appA, secretA)
	tokB := m.token(appB, secretB)
	edit := func(f func(map[string]any)) map[string]any {
		b := jsonSend(tok, userLong, goodData())
		f(b)
		return b
	}
	cases := []struct {
		name string
		body any
		want kuaishou.Result
	}{
		{"not JSON", `{"app_id":`, kuaishou.ResultBadParam},
		{"an array", `[1]`, kuaishou.ResultBadParam},
		{"null", `null`, kuaishou.ResultBadParam},
		{"no app_id", edit(func(b map[string]any) { delete(b, "app_id") }), kuaishou.ResultBadParam},
		{"no access_token", edit(func(b map[string]any) { delete(b, "access_token") }), kuaishou.ResultBadParam},
		{"unknown token", edit(func(b map[string]any) { b["access_token"] = "nope" }), kuaishou.ResultAuth},
		{"another app's token", edit(func(b map[string]any) { b["access_token"] = tokB }), kuaishou.ResultAuth},
		{"data null", edit(func(b map[string]any) { b["data"] = nil }), kuaishou.ResultBadParam},
		{"data an array", edit(func(b map[string]any) { b["data"] = []int{1} }), kuaishou.ResultBadParam},
		{"keyword missing", edit(func(b map[string]any) { delete(b["data"].(map[string]any), "thing02") }), kuaishou.ResultBadParam},
		{"bad date", edit(func(b map[string]any) { b["data"].(map[string]any)["date01"] = map[string]any{"value": "2020-02-25"} }), kuaishou.ResultBadParam},
		{"unknown user", edit(func(b map[string]any) { b["to_user"] = "nobody" }), kuaishou.ResultBadParam},
		{"no subscription", edit(func(b map[string]any) { b["to_user"] = userA2 }), kuaishou.ResultNotSubscribed},
		{"risky", edit(func(b map[string]any) {
			b["data"].(map[string]any)["thing01"] = map[string]any{"value": "内含违禁品"}
		}), kuaishou.ResultContentRisky},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantResult(t, m.sendJSON(tc.body, nil), tc.want)
		})
	}
	if n := len(m.messages()); n != 0 {
		t.Fatalf("%d messages from refused sends", n)
	}
	t.Run("quota and fault apply to JSON sends", func(t *testing.T) {
		m := start(t)
		tok := m.token(appA, secretA)
		if err := m.Control.SetQuota(m.ctx, mockapi.Quota{Platform: mockapi.PlatformKuaishou, AppID: appA, Endpoint: "template_send", Limit: 0, Per: "minute"}); err != nil {
			t.Fatal(err)
		}
		wantResult(t, m.sendJSON(jsonSend(tok, userLong, goodData()), nil), kuaishou.ResultRateLimited)
		m.addFault(mockapi.Fault{Endpoint: "template_send", ErrCode: new(100200500), Times: 1})
		wantResult(t, m.sendJSON(jsonSend(tok, userLong, goodData()), nil), kuaishou.ResultSystemError)
	})
}

// FuzzSendJSON feeds the JSON body decoder of template/send.
func FuzzSendJSON(f *testing.F) {
	m := start(f)
	tok := m.token(appA, secretA)
	for _, seed := range []any{
		jsonSend(tok, userLong, goodData()),
		jsonSend(tok, userLong, dataString(f, goodData())),
		`{"app_id":1,"access_token":true,"data":{"thing01":{"value":1e999}}}`,
		`{"data":"[[[","to_user":null}`, `[]`, `null`, ``, `{"app_id":"\ud800"}`,
	} {
		b, ok := seed.(string)
		if !ok {
			raw, _ := json.Marshal(seed)
			b = string(raw)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		q := url.Values{"access_token": {tok}}
		req, err := http.NewRequest(http.MethodPost, m.URL+sendPath+"?"+q.Encode(), strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		checkShape(t, resp)
	})
}
