package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender"
)

// apiOps are the calls FuzzAPI makes: method, path ({} is the fuzzed path
// segment) and whether it carries the fuzzed body.
var apiOps = []struct {
	method, path string
	body         bool
}{
	{http.MethodPost, "/v1/messages", true},
	{http.MethodPost, "/v1/broadcasts", true},
	{http.MethodPut, "/v1/groups/{}?app=" + shopApp, true},
	{http.MethodPut, "/v1/groups/{}", true},
	{http.MethodGet, "/v1/messages/{}", false},
	{http.MethodGet, "/v1/messages?{}", false},
	{http.MethodPost, "/v1/messages/{}/retry", false},
	{http.MethodGet, "/v1/broadcasts/{}", false},
	{http.MethodGet, "/v1/groups/{}?app=" + shopApp, false},
	{http.MethodDelete, "/v1/groups/{}?app=" + shopApp, false},
}

// FuzzAPI drives the real API handler over a real SQLite store (in a
// temporary directory) with any call, body, path segment and
// Idempotency-Key. Whatever the input: no panic, no 5xx but 503 (storage
// busy), an error answer is JSON, and what the API accepted is in the
// store — a 202/200 message reads back with its recipient and template, a
// broadcast and a group read back.
func FuzzAPI(f *testing.F) {
	for _, s := range []struct {
		op        uint8
		body, seg string
		idem      string
	}{
		{0, `{"app":"shop","to":"o_user_1","template_id":"tmpl-order-shipped","data":{"thing1":"x","time2":"2024-05-01 12:30","character_string3":"A1"}}`, "", ""},
		{0, `{"app":"shop","to":" o_user_2 ","template_id":"t","data":{"thing1":"x"},"idempotency_key":"k1","send_at":"2027-06-01T00:00:00Z"}`, "", "k1"},
		{0, `{"app":"club","to":"u","template_id":"t","data":{"thing1":5}}`, "", ""},
		{1, `{"app":"shop","to":["u1","u2","u1"],"template_id":"t","data":{"thing1":"x"}}`, "", "b1"},
		{1, `{"app":"shop","group":"g1","template_id":"t","data":{"thing1":"x"}}`, "", ""},
		{2, `{"members":["u1","u2"]}`, "g1", ""},
		{3, `{"app":"shop","members":["u3"]}`, "g2", ""},
		{4, ``, "msg_0123456789abcdef0123456789ab", ""},
		{5, ``, "status=failed&limit=2", ""},
		{6, ``, "msg_x", ""},
		{7, ``, "bc_x", ""},
		{8, ``, "g1", ""},
		{9, ``, "g2", ""},
		{0, `{"app":"shop","to":"u","template_id":"t","data":{"thing1":"x"},"send_at":"9999-01-01T00:00:00Z"}`, "", ""},
		{0, `[]`, "", ""},
	} {
		f.Add(s.op, []byte(s.body), s.seg, s.idem)
	}
	cfg := testConfig(f, "http://127.0.0.1:1")
	cfg.APIRate.PerSecond = 0
	svc, err := sender.New(context.Background(), cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = svc.Close() })
	h := svc.Handler()
	do := func(method, target string, body []byte, hdr ...string) (int, []byte) {
		req := httptest.NewRequest(method, "http://api.test/", bytes.NewReader(body))
		u, err := url.Parse(target)
		if err != nil {
			return 0, nil
		}
		req.URL, req.RequestURI = u, target
		req.Header.Set("Authorization", "Bearer "+testAPIKey)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte, seg, idem string) {
		o := apiOps[int(op)%len(apiOps)]
		var target string
		if strings.HasPrefix(o.path, "/v1/messages?") {
			target = "/v1/messages?" + seg // seg is the raw query
		} else {
			target = strings.Replace(o.path, "{}", url.PathEscape(seg), 1)
		}
		if _, err := url.Parse(target); err != nil {
			t.Skip("not a request target")
		}
		var hdr []string
		if idem != "" && !strings.ContainsAny(idem, "\r\n\x00") {
			hdr = []string{"Idempotency-Key", idem}
		}
		var b []byte
		if o.body {
			b = body
		}
		code, answer := do(o.method, target, b, hdr...)
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s: %d %s", o.method, target, code, answer)
		}
		if code >= 400 && !json.Valid(answer) {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", o.method, target, code, answer)
		}
		var id struct {
			ID string `json:"id"`
		}
		switch {
		case o.path == "/v1/messages" && (code == http.StatusAccepted || code == http.StatusOK):
			var req struct {
				To         string `json:"to"`
				TemplateID string `json:"template_id"`
			}
			mustJSON(t, answer, &id)
			_ = json.Unmarshal(body, &req)
			c, got := do(http.MethodGet, "/v1/messages/"+id.ID, nil)
			var m struct {
				To         string `json:"to"`
				TemplateID string `json:"template_id"`
			}
			mustJSON(t, got, &m)
			// A replay (200) answers the first message, which may differ.
			if c != http.StatusOK || (code == http.StatusAccepted && (m.To != strings.TrimSpace(req.To) || m.TemplateID != req.TemplateID)) {
				t.Fatalf("accepted %s (%d) but reads back %d %s; body %s", id.ID, code, c, got, body)
			}
		case o.path == "/v1/broadcasts" && (code == http.StatusAccepted || code == http.StatusOK):
			mustJSON(t, answer, &id)
			if c, got := do(http.MethodGet, "/v1/broadcasts/"+id.ID, nil); c != http.StatusOK {
				t.Fatalf("broadcast %s accepted but reads back %d %s", id.ID, c, got)
			}
		case o.method == http.MethodPut && code == http.StatusOK:
			var g struct {
				App string `json:"app"`
			}
			mustJSON(t, answer, &g)
			if c, got := do(http.MethodGet, "/v1/groups/"+url.PathEscape(seg)+"?app="+url.QueryEscape(g.App), nil); c != http.StatusOK {
				t.Fatalf("group %q written but reads back %d %s", seg, c, got)
			}
		}
	})
}
