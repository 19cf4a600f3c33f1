package controlapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestClock(t *testing.T) {
	t.Parallel()
	m := start(t)
	c := m.Control
	now, err := c.Advance(ctx(t), 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(now); d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
		t.Fatalf("advance 2h: now %v is %v ahead", now, d)
	}
	a := call(t, m, http.MethodPost, "/_mock/clock", `{"advance":"30m"}`)
	a.expect(t, http.StatusOK, "")
	var clk mockapi.Clock
	a.decodeInto(t, &clk)
	if off := time.Duration(clk.Offset); off < 150*time.Minute-time.Second || off > 150*time.Minute {
		t.Fatalf("offset after 2h30m: %v (%s)", off, a.body)
	}
	target := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	if now, err := c.SetClock(ctx(t), target); err != nil || now.Sub(target).Abs() > time.Minute {
		t.Fatalf("set: %v, %v", now, err)
	}
	if now, _ := c.Now(ctx(t)); now.Sub(target).Abs() > time.Minute {
		t.Fatalf("GET clock after set: %v", now)
	}
	runSteps(t, []step{
		{"advance as ms", http.MethodPost, "/_mock/clock", `{"advance":1000}`, http.StatusOK, ""},
		{"backwards", http.MethodPost, "/_mock/clock", `{"advance":"-1h"}`, http.StatusOK, ""},
		{"empty object", http.MethodPost, "/_mock/clock", `{}`, http.StatusBadRequest, "advance"},
		{"zero", http.MethodPost, "/_mock/clock", `{"advance":"0s"}`, http.StatusBadRequest, "advance"},
		{"bad duration", http.MethodPost, "/_mock/clock", `{"advance":"2 hours"}`, http.StatusBadRequest, "advance"},
		{"wrong type", http.MethodPost, "/_mock/clock", `{"advance":[1]}`, http.StatusBadRequest, "advance"},
		{"both", http.MethodPost, "/_mock/clock", `{"advance":"1h","set":"2030-01-01T00:00:00Z"}`, http.StatusBadRequest, "advance"},
		{"bad set", http.MethodPost, "/_mock/clock", `{"set":"tomorrow"}`, http.StatusBadRequest, "set"},
		{"set not a string", http.MethodPost, "/_mock/clock", `{"set":5}`, http.StatusBadRequest, "set"},
		{"set too far", http.MethodPost, "/_mock/clock", `{"set":"9999-01-01T00:00:00Z"}`, http.StatusBadRequest, "set"},
		{"advance too far", http.MethodPost, "/_mock/clock", `{"advance":"1000000h"}`, http.StatusBadRequest, "advance"},
		{"unknown field", http.MethodPost, "/_mock/clock", `{"advnace":"1h"}`, http.StatusBadRequest, "advnace"},
	}, func(t *testing.T) *mocktest.Mock { return start(t) })
}

func TestClockMovesTokenExpiry(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 5)
	tok := token(t, m, appID, secret)
	if _, err := m.Control.Advance(ctx(t), 2*time.Hour+time.Minute); err != nil {
		t.Fatal(err)
	}
	if r := send(t, m, tok, openID, tmplID, "late"); r.ErrCode != 42001 {
		t.Fatalf("send with a token 2h01m old: %+v, want 42001", r)
	}
}

func TestContentRules(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 5)
	a := call(t, m, http.MethodPut, "/_mock/content-rules", `{"risky":["Forbidden",{"word":"banned","label":20002}],"review":[{"word":"maybe"}]}`)
	a.expect(t, http.StatusOK, "")
	got, err := m.Control.ContentRules(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Risky) != 2 || got.Risky[0].Word != "Forbidden" || got.Risky[1].Label != 20002 || len(got.Review) != 1 {
		t.Fatalf("rules %+v", got)
	}
	tok := token(t, m, appID, secret)
	if r := send(t, m, tok, openID, tmplID, "a FORBIDDEN word"); r.ErrCode != 45168 {
		t.Fatalf("risky send: %+v, want 45168", r)
	}
	if r := send(t, m, tok, openID, tmplID, "maybe"); r.ErrCode != 0 {
		t.Fatalf("review-only send: %+v, want accepted", r)
	}
	// The client's typed call replaces the rules.
	if err := m.Control.SetContentRules(ctx(t), mockapi.ContentRules{}); err != nil {
		t.Fatal(err)
	}
	if r := send(t, m, tok, openID, tmplID, "forbidden"); r.ErrCode != 0 {
		t.Fatalf("after clearing rules: %+v", r)
	}
	runSteps(t, []step{
		{"post works too", http.MethodPost, "/_mock/content-rules", `{"risky":["x"]}`, http.StatusOK, ""},
		{"empty lists", http.MethodPut, "/_mock/content-rules", `{}`, http.StatusOK, ""},
		{"blank word", http.MethodPut, "/_mock/content-rules", `{"risky":["ok"," "]}`, http.StatusBadRequest, "risky[1].word"},
		{"blank object word", http.MethodPut, "/_mock/content-rules", `{"review":[{"label":1}]}`, http.StatusBadRequest, "review[0].word"},
		{"negative label", http.MethodPut, "/_mock/content-rules", `{"review":[{"word":"w","label":-1}]}`, http.StatusBadRequest, "review[0].label"},
		{"number item", http.MethodPut, "/_mock/content-rules", `{"risky":[5]}`, http.StatusBadRequest, "risky"},
		{"misspelt key", http.MethodPut, "/_mock/content-rules", `{"risky":[{"word":"w","lable":1}]}`, http.StatusBadRequest, "lable"},
		{"label not a number", http.MethodPut, "/_mock/content-rules", `{"risky":[{"word":"w","label":"x"}]}`, http.StatusBadRequest, "risky.label"},
		{"list not an array", http.MethodPut, "/_mock/content-rules", `{"risky":"w"}`, http.StatusBadRequest, "risky"},
		{"unknown list", http.MethodPut, "/_mock/content-rules", `{"blocked":["w"]}`, http.StatusBadRequest, "blocked"},
		{"risky image digest", http.MethodPut, "/_mock/content-rules", `{"risky_images":["` + strings.Repeat("0a", 32) + `"]}`, http.StatusOK, ""},
		{"risky image url", http.MethodPut, "/_mock/content-rules", `{"risky_images":["https://img.example/a.png"]}`, http.StatusOK, ""},
		{"risky image neither", http.MethodPut, "/_mock/content-rules", `{"risky_images":["https://img.example/a.png","a.png"]}`, http.StatusBadRequest, "risky_images[1]"},
		{"risky image ftp", http.MethodPut, "/_mock/content-rules", `{"risky_images":["ftp://img.example/a.png"]}`, http.StatusBadRequest, "risky_images[0]"},
		{"risky images not strings", http.MethodPut, "/_mock/content-rules", `{"risky_images":[1]}`, http.StatusBadRequest, "risky_images"},
	}, func(t *testing.T) *mocktest.Mock { return start(t) })
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 0)
	if err := m.Control.SetQuota(ctx(t), mockapi.Quota{Platform: wechat, AppID: appID, Endpoint: "token", Limit: 1, Per: "day"}); err != nil {
		t.Fatal(err)
	}
	token(t, m, appID, secret)
	if got := tokenErrCode(t, m); got != 45009 {
		t.Fatalf("second token call over a limit of 1/day: errcode %d, want 45009", got)
	}
	var q struct {
		Quotas []struct {
			Endpoint string `json:"endpoint"`
			Limit    int    `json:"limit"`
			Per      string `json:"per"`
			Used     int    `json:"used"`
		} `json:"quotas"`
	}
	call(t, m, http.MethodGet, "/_mock/quotas?platform=wechat&app_id="+appID, nil).decodeInto(t, &q)
	found := false
	for _, l := range q.Quotas {
		if l.Endpoint == "token" && l.Per == "day" {
			found = l.Limit == 1 && l.Used == 1
		}
	}
	if !found {
		t.Fatalf("quotas %+v: want token 1/day used 1", q.Quotas)
	}
	call(t, m, http.MethodDelete, "/_mock/quotas/usage?platform=wechat&app_id="+appID, nil).expect(t, http.StatusNoContent, "")
	if got := tokenErrCode(t, m); got != 0 {
		t.Fatalf("after clearing usage: errcode %d", got)
	}
	// The Beijing day ends: the limit resets.
	if _, err := m.Control.Advance(ctx(t), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := tokenErrCode(t, m); got != 0 {
		t.Fatalf("next day: errcode %d", got)
	}
	runSteps(t, []step{
		{"unknown app", http.MethodPut, "/_mock/quotas", `{"platform":"wechat","app_id":"wxnope","endpoint":"token","limit":1,"per":"day"}`, http.StatusNotFound, "app_id"},
		{"bad endpoint", http.MethodPut, "/_mock/quotas", `{"platform":"wechat","app_id":"` + appID + `","endpoint":"x","limit":1,"per":"day"}`, http.StatusBadRequest, "endpoint"},
		{"bad per", http.MethodPut, "/_mock/quotas", `{"platform":"wechat","app_id":"` + appID + `","endpoint":"token","limit":1,"per":"fortnight"}`, http.StatusBadRequest, "per"},
		{"negative", http.MethodPut, "/_mock/quotas", `{"platform":"wechat","app_id":"` + appID + `","endpoint":"token","limit":-2,"per":"day"}`, http.StatusBadRequest, "limit"},
		{"get unknown app", http.MethodGet, "/_mock/quotas?platform=wechat&app_id=wxnope", nil, http.StatusNotFound, "app_id"},
		{"clear all usage", http.MethodDelete, "/_mock/quotas/usage", nil, http.StatusNoContent, ""},
	}, func(t *testing.T) *mocktest.Mock { return startSeeded(t, 0) })
}

func TestStats(t *testing.T) {
	t.Parallel()
	m := startSeeded(t, 1)
	tok := token(t, m, appID, secret)
	send(t, m, tok, openID, tmplID, "one")
	send(t, m, tok, openID, tmplID, "no grant left")
	busy := -1
	if _, err := m.Control.AddFault(ctx(t), mockapi.Fault{Platform: wechat, Endpoint: "msg_sec_check", ErrCode: &busy}); err != nil {
		t.Fatal(err)
	}
	a := call(t, m, http.MethodGet, "/_mock/stats", nil)
	a.expect(t, http.StatusOK, "")
	var st mockapi.Stats
	a.decodeInto(t, &st)
	if st.Apps != 1 || st.Users != 1 || st.Templates != 1 || st.Messages != 1 || st.Delivered != 1 ||
		st.Requests != 3 || st.Faults != 1 || st.Now.IsZero() {
		t.Fatalf("stats %s", a.body)
	}
	if st.ByEndpoint["wechat/subscribe_send"] != 2 || st.ByEndpoint["wechat/token"] != 1 ||
		st.ByErrCode["wechat/0"] != 2 || st.ByErrCode["wechat/43101"] != 1 {
		t.Fatalf("stats breakdown %s", a.body)
	}
}

func TestHealthAndUnknownPaths(t *testing.T) {
	t.Parallel()
	m := start(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		a := call(t, m, http.MethodGet, p, nil)
		a.expect(t, http.StatusOK, "")
		if a := call(t, m, http.MethodHead, p, nil); a.status != http.StatusOK {
			t.Fatalf("HEAD %s: %d", p, a.status)
		}
		call(t, m, http.MethodPost, p, nil).expect(t, http.StatusMethodNotAllowed, "")
	}
	if err := m.Control.Ready(ctx(t)); err != nil {
		t.Fatal(err)
	}
	call(t, m, http.MethodGet, "/_mock/nothing", nil).expect(t, http.StatusNotFound, "")
	call(t, m, http.MethodGet, "/_mock/reset", nil).expect(t, http.StatusMethodNotAllowed, "")
	a := call(t, m, http.MethodPut, "/_mock/stats", nil)
	a.expect(t, http.StatusMethodNotAllowed, "")
	if a.header.Get("Allow") != "GET" {
		t.Fatalf("Allow: %q", a.header.Get("Allow"))
	}
	call(t, m, http.MethodGet, "/nowhere", nil).expect(t, http.StatusNotFound, "")
}

// Risky images are stored normalised (digests lower-case) and read back.
func TestContentRulesRiskyImages(t *testing.T) {
	t.Parallel()
	m := start(t)
	upper := strings.Repeat("AB", 32)
	call(t, m, http.MethodPut, "/_mock/content-rules",
		`{"risky_images":["`+upper+`"," https://img.example/a.png "]}`).expect(t, http.StatusOK, "")
	got, err := m.Control.ContentRules(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{strings.ToLower(upper), "https://img.example/a.png"}
	if len(got.RiskyImages) != 2 || got.RiskyImages[0] != want[0] || got.RiskyImages[1] != want[1] {
		t.Fatalf("risky_images %q, want %q", got.RiskyImages, want)
	}
}
