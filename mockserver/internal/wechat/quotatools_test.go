package wechat_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

const (
	quotaGet    = "/cgi-bin/openapi/quota/get"
	clearQuota  = "/cgi-bin/clear_quota"
	clearQuota2 = "/cgi-bin/clear_quota/v2"
	ridGet      = "/cgi-bin/openapi/rid/get"
)

// obj reads a nested object of an answer.
func (r reply) obj(t testing.TB, key string) map[string]any {
	t.Helper()
	o, ok := r.Fields[key].(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %s", key, r.Body)
	}
	return o
}

func num(t testing.TB, o map[string]any, key string) int64 {
	t.Helper()
	n, ok := o[key].(json.Number)
	if !ok {
		t.Fatalf("%s is not a number in %v", key, o)
	}
	i, _ := n.Int64()
	return i
}

func TestQuotaGet(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm.Add(-12*time.Hour)))
	tok := m.token(appA, secretA)
	m.setQuota(appA, "subscribe_send", 7, "day")
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, LongTerm: true})
	for range 3 {
		wantCode(t, m.send(tok, goodMsg()), 0)
	}
	tests := []struct {
		path             string
		limit, used      int64
		rate, refreshSec int64 // 0: no rate_limit
	}{
		{"/cgi-bin/message/subscribe/send", 7, 3, 0, 0},
		{"/cgi-bin/token", 2000, 1, 0, 0},
		{"/cgi-bin/stable_token", 500000, 0, 10000, 60},
		{"/wxa/msg_sec_check", 2000000, 0, 4000, 60},
		{"/cgi-bin/message/custom/send", 500000, 0, 0, 0},
		{"/cgi-bin/message/custom/business/send", 500000, 0, 0, 0},
		{"/wxa/img_sec_check", 200000, 0, 2000, 60},
		// This call itself is counted before it answers.
		{"/cgi-bin/openapi/quota/get", 100000, 8, 0, 0},
	}
	for _, tt := range tests {
		r := m.do(http.MethodPost, api(quotaGet, tok), map[string]string{"cgi_path": tt.path})
		wantMsg(t, r, 0, "ok")
		q := r.obj(t, "quota")
		if num(t, q, "daily_limit") != tt.limit || num(t, q, "used") != tt.used || num(t, q, "remain") != tt.limit-tt.used {
			t.Errorf("%s: quota %v, want %d/%d", tt.path, q, tt.used, tt.limit)
		}
		rl, has := r.Fields["rate_limit"].(map[string]any)
		if (tt.rate != 0) != has || (has && (num(t, rl, "call_count") != tt.rate || num(t, rl, "refresh_second") != tt.refreshSec)) {
			t.Errorf("%s: rate_limit %v, want %d per %d s", tt.path, r.Fields["rate_limit"], tt.rate, tt.refreshSec)
		}
	}
	errs := []struct {
		body any
		code int64
		msg  string
	}{
		{map[string]string{"cgi_path": "/cgi-bin/nothing"}, 76021, "cgi_path not found"},
		{map[string]string{"cgi_path": "https://api.weixin.qq.com/cgi-bin/token"}, 76021, "cgi_path not found"},
		{map[string]string{"cgi_path": "cgi-bin/token"}, 76021, ""},
		{map[string]string{"cgi_path": "/sns/jscode2session"}, 76022, ""},
		{map[string]string{}, 47001, "data format error"},
		{"", 44002, ""},
	}
	for _, tt := range errs {
		r := m.do(http.MethodPost, api(quotaGet, tok), tt.body)
		wantAnswer(t, r, tt.code, tt.msg)
	}
}

func TestClearQuotaResetsCounters(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(time.Date(2025, 3, 31, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))))
	m.setQuota(appA, "token", 2, "day")
	m.setQuota(appA, "clear_quota", 3, "month")
	tok := m.token(appA, secretA)
	m.token(appA, secretA)
	wantCode(t, m.do(http.MethodGet, tokenPath("client_credential", appA, secretA), nil), 45009)
	wantMsg(t, m.do(http.MethodPost, api(clearQuota, tok), map[string]string{"appid": appA}), 0, "ok")
	// Cleared: the day's token calls count from zero.
	tok = m.token(appA, secretA)
	r := m.do(http.MethodPost, api(quotaGet, tok), map[string]string{"cgi_path": "/cgi-bin/token"})
	if used := num(t, r.obj(t, "quota"), "used"); used != 1 {
		t.Fatalf("token used after a clear and one call = %d, want 1", used)
	}
	// Both variants share the monthly allowance (3 here, 10 by default).
	v2 := clearQuota2 + "?" + url.Values{"appid": {appA}, "appsecret": {secretA}}.Encode()
	wantCode(t, m.do(http.MethodPost, v2, nil), 0)
	wantCode(t, m.do(http.MethodPost, api(clearQuota, tok), map[string]string{"appid": appA}), 0)
	wantMsg(t, m.do(http.MethodPost, api(clearQuota, tok), map[string]string{"appid": appA}), 48006,
		"forbid to clear quota because of reaching the limit")
	wantCode(t, m.do(http.MethodPost, v2, nil), 48006)
	// Another app's allowance is its own.
	tokB := m.token(appB, secretB)
	wantCode(t, m.do(http.MethodPost, api(clearQuota, tokB), map[string]string{"appid": appB}), 0)
	// The Beijing month ends at midnight: the allowance is back.
	m.advance(12 * time.Hour)
	tok = m.token(appA, secretA)
	wantCode(t, m.do(http.MethodPost, api(clearQuota, tok), map[string]string{"appid": appA}), 0)
}

func TestClearQuotaDefaultMonthlyLimit(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(time.Date(2025, 3, 10, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))))
	tok := m.token(appA, secretA)
	for i := range 10 {
		if r := m.do(http.MethodPost, api(clearQuota, tok), map[string]string{"appid": appA}); r.errCode(t) != 0 {
			t.Fatalf("clear %d: %s", i+1, r.Body)
		}
	}
	wantCode(t, m.do(http.MethodPost, api(clearQuota, tok), map[string]string{"appid": appA}), 48006)
}

func TestClearQuotaErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	v2 := func(kv ...string) string {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return clearQuota2 + "?" + q.Encode()
	}
	tests := []struct {
		name string
		path string
		body any
		code int64
		msg  string
	}{
		{"appid missing", api(clearQuota, tok), map[string]string{}, 41002, "appid missing"},
		{"another appid", api(clearQuota, tok), map[string]string{"appid": appB}, 40013, "invalid appid"},
		{"no token", clearQuota, map[string]string{"appid": appA}, 41001, ""},
		{"empty body", api(clearQuota, tok), "", 44002, ""},
		{"v2 appid missing", v2("appsecret", secretA), nil, 41002, "appid missing"},
		{"v2 secret missing", v2("appid", appA), nil, 41004, "appsecret missing"},
		{"v2 unknown appid", v2("appid", "wx0000000000000000", "appsecret", secretA), nil, 40013, "invalid appid"},
		{"v2 wrong secret", v2("appid", appA, "appsecret", secretB), nil, 40125, "invalid appsecret"},
		{"v2 nothing at all", clearQuota2, nil, 41002, ""},
		{"v2 body not JSON", clearQuota2, "{", 47001, ""},
		// The current parameter table puts them in the body.
		{"v2 in the body", clearQuota2, map[string]string{"appid": appA, "appsecret": secretA}, 0, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.do(http.MethodPost, tt.path, tt.body)
			wantAnswer(t, r, tt.code, tt.msg)
		})
	}
	wantCode(t, m.do(http.MethodGet, v2("appid", appA, "appsecret", secretA), nil), 43002)
}

func TestRIDGet(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm))
	tok := m.token(appA, secretA)
	tokB := m.token(appB, secretB)
	// A failing call of app A, and its rid.
	failed := m.do(http.MethodPost, api(kefuSend, tok, "extra", "1"), text(userA, "hello"))
	wantCode(t, failed, 45015)
	rid := ridOf(t, failed)
	r := m.do(http.MethodPost, api(ridGet, tok), map[string]string{"rid": rid})
	wantMsg(t, r, 0, "ok")
	req := r.obj(t, "request")
	invoke := num(t, req, "invoke_time")
	if invoke < beijing11pm.Unix() || invoke > beijing11pm.Unix()+60 || num(t, req, "cost_in_ms") < 0 ||
		req["client_ip"] != "127.0.0.1" || req["response_body"] != strings.TrimSpace(string(failed.Body)) ||
		!strings.Contains(req["request_body"].(string), `"content":"hello"`) ||
		!strings.Contains(req["request_url"].(string), "access_token=%2A%2A%2A") ||
		!strings.Contains(req["request_url"].(string), "extra=1") || strings.Contains(req["request_url"].(string), tok) {
		t.Fatalf("rid info %v", req)
	}
	// A secret sent in a failing call's body or query is never shown.
	bad := m.do(http.MethodPost, "/cgi-bin/stable_token", map[string]any{"grant_type": "x", "appid": appA, "secret": secretA})
	wantCode(t, bad, 40002)
	r = m.do(http.MethodPost, api(ridGet, tok), map[string]string{"rid": ridOf(t, bad)})
	if req := r.obj(t, "request"); req["request_body"] != "" {
		t.Fatalf("stable_token body kept in the rid record: %v", req)
	}
	wrong := m.do(http.MethodGet, tokenPath("client_credential", appA, "wrong-secret-value"), nil)
	r = m.do(http.MethodPost, api(ridGet, tok), map[string]string{"rid": ridOf(t, wrong)})
	if u := r.obj(t, "request")["request_url"].(string); strings.Contains(u, "wrong-secret-value") || !strings.Contains(u, "secret=%2A%2A%2A") {
		t.Fatalf("token call's secret in request_url %q", u)
	}

	tests := []struct {
		name string
		tok  string
		rid  string
		code int64
	}{
		{"another app's rid", tokB, rid, 76003},
		{"unknown rid", tok, "67d4f8a0-00000000-00000000", 76001},
		{"malformed", tok, "not-a-rid", 76002},
		{"empty", tok, "", 76002},
		{"older than 7 days", tok, "5f3ded7d-22929d02-4ba1f5f6", 76004},
	}
	for _, tt := range tests {
		wantCode(t, m.do(http.MethodPost, api(ridGet, tt.tok), map[string]string{"rid": tt.rid}), tt.code)
	}
	// 7 days on, the rid has expired.
	m.advance(7*24*time.Hour + time.Minute)
	wantCode(t, m.do(http.MethodPost, api(ridGet, m.token(appA, secretA)), map[string]string{"rid": rid}), 76004)
}

// ridOf is the rid at the end of an error answer's errmsg.
func ridOf(t testing.TB, r reply) string {
	t.Helper()
	msg := r.errMsg()
	i := strings.LastIndex(msg, " rid: ")
	if i < 0 {
		t.Fatalf("no rid in %q", msg)
	}
	return msg[i+len(" rid: "):]
}

func TestUniformSendIsWithdrawn(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	const path = "/cgi-bin/message/wxopen/template/uniform_send"
	body := map[string]any{"touser": userA, "mp_template_msg": map[string]any{"appid": "wxoa", "template_id": "t",
		"url": "https://x.example", "miniprogram": map[string]any{"appid": appA, "pagepath": "index"}, "data": map[string]any{}}}
	for _, b := range []any{body, "", "{"} {
		wantMsg(t, m.do(http.MethodPost, api(path, tok), b), 45109,
			"This API has been unsupported. For more details, please view https://developers.weixin.qq.com/community/develop/doc/000ae8d6348af08e7030bc2546bc01?blockType=1")
	}
	wantCode(t, m.do(http.MethodPost, path, body), 41001)
	wantCode(t, m.do(http.MethodGet, api(path, tok), nil), 43002)
}
