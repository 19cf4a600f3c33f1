package baidu

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
)

const (
	testAppKey = "4fecoAqgCIUtzIyA4FAPgoyrc4oUc25c"
	testSecret = "BD-TEST-SECRET-0123456789abcdef"
	fakeToken  = "24.173e34227090dbe664c4991ef5c24779.2592000.1573901211.282335-16099124"
)

func testClient(tb testing.TB, baseURL string, mutate ...func(*Config)) *Client {
	tb.Helper()
	cfg := Config{AppID: testAppKey, Secret: testSecret, BaseURL: baseURL}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg, nil)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// checkError holds every error the client makes to its contract: a
// classified *platform.Error that names baidu, has a short code and
// carries no secret.
func checkError(t *testing.T, perr *platform.Error) {
	t.Helper()
	platformtest.CheckError(t, perr, Platform, testSecret, fakeToken)
	if len(perr.Code) > 64 || !utf8.ValidString(perr.Code) {
		t.Fatalf("error code %q is not a short text", perr.Code)
	}
}

func TestParseSend(t *testing.T) {
	t.Parallel()
	c := testClient(t, "")
	tests := []struct {
		name      string
		body      string
		wantMsgID string
		wantClass message.Outcome // "" for success
		wantCode  string
	}{
		{name: "doc example", body: `{"errno":0,"msg":"success","data":{"msg_key":158}}`, wantMsgID: "158"},
		{name: "msg_key as text (the official SDK's type)", body: `{"errno":0,"msg":"success","data":{"msg_key":"4330862"}}`, wantMsgID: "4330862"},
		{name: "no msg_key", body: `{"errno":0,"msg":"success","data":{}}`},
		{name: "data not an object", body: `{"errno":0,"data":[]}`},
		{name: "error_code 0 is none", body: `{"errno":0,"error_code":0,"data":{"msg_key":1}}`, wantMsgID: "1"},
		{name: "no errno", body: `{"msg":"success"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "not JSON", body: `<html>bad gateway</html>`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "not subscribed", body: `{"errno":4007,"msg":"用户未订阅该消息","data":{}}`, wantClass: message.OutcomePermanent, wantCode: "4007"},
		{name: "bad open id", body: `{"errno":4010,"msg":"不合法的 touser_openId"}`, wantClass: message.OutcomePermanent, wantCode: "4010"},
		{name: "bad template", body: `{"errno":4001}`, wantClass: message.OutcomePermanent, wantCode: "4001"},
		{name: "parameter error", body: `{"errno":"2002","msg":"参数错误"}`, wantClass: message.OutcomePermanent, wantCode: "2002"},
		{name: "unknown errno", body: `{"errno":4002,"msg":"消息推送接口调用失败"}`, wantClass: message.OutcomeRetryable, wantCode: "4002"},
		{name: "token invalid", body: `{"error_code":110,"error_msg":"Access token invalid or no longer valid"}`,
			wantClass: message.OutcomeToken, wantCode: "110"},
		{name: "token expired", body: `{"error_code":111,"error_msg":"Access token expired"}`, wantClass: message.OutcomeToken, wantCode: "111"},
		{name: "gateway beats errno", body: `{"errno":0,"error_code":18,"error_msg":"Open api qps request limit reached"}`,
			wantClass: message.OutcomeThrottled, wantCode: "18"},
		{name: "daily limit", body: `{"error_code":17}`, wantClass: message.OutcomeThrottled, wantCode: "17"},
		{name: "unknown gateway code", body: `{"error_code":31}`, wantClass: message.OutcomeRetryable, wantCode: "31"},
		{name: "token echoed in msg", body: `{"errno":2002,"msg":"bad access_token=` + fakeToken + `&x=1 ` + testSecret + `"}`,
			wantClass: message.OutcomePermanent, wantCode: "2002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, perr := c.parseSend([]byte(tt.body))
			if tt.wantClass == "" {
				if perr != nil || res.MsgID != tt.wantMsgID {
					t.Fatalf("parseSend = %+v, %v; want msg_key %q", res, perr, tt.wantMsgID)
				}
				return
			}
			platformtest.WantError(t, "parseSend", perr, tt.wantClass, tt.wantCode, checkError)
		})
	}
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	c := testClient(t, "")
	tests := []struct {
		name      string
		status    int
		body      string
		wantLife  time.Duration
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "doc example", status: 200, body: `{"access_token":"tok","expires_in":2592000,"refresh_token":"2.x","scope":"smartapp_snsapi_base","session_key":"","session_secret":""}`,
			wantLife: 30 * 24 * time.Hour},
		{name: "old example", status: 200, body: `{"access_token":"tok","expires_in":86400}`, wantLife: 24 * time.Hour},
		{name: "no expires_in", status: 200, body: `{"access_token":"tok"}`, wantLife: 30 * 24 * time.Hour},
		{name: "absurd expires_in", status: 200, body: `{"access_token":"tok","expires_in":99999999999}`, wantLife: 30 * 24 * time.Hour},
		{name: "no token", status: 200, body: `{"expires_in":2592000}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "wrong secret", status: 400, body: `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			wantClass: message.OutcomeCredentials, wantCode: "invalid_client"},
		{name: "bad grant type", status: 400, body: `{"error":"unsupported_grant_type","error_description":"The authorization grant type is not supported"}`,
			wantClass: message.OutcomeCredentials, wantCode: "unsupported_grant_type"},
		{name: "bad scope", status: 400, body: `{"error":"invalid_scope"}`, wantClass: message.OutcomeCredentials, wantCode: "invalid_scope"},
		{name: "unknown OAuth error", status: 400, body: `{"error":"temporarily_unavailable"}`, wantClass: message.OutcomeRetryable, wantCode: "temporarily_unavailable"},
		{name: "OAuth error with HTTP 200", status: 200, body: `{"error":"invalid_client"}`, wantClass: message.OutcomeCredentials, wantCode: "invalid_client"},
		{name: "gateway limit", status: 200, body: `{"error_code":18,"error_msg":"Open api qps request limit reached"}`,
			wantClass: message.OutcomeThrottled, wantCode: "18"},
		{name: "400 page", status: 400, body: `<html>400</html>`, wantClass: message.OutcomeRetryable, wantCode: "http 400"},
		{name: "400 without error", status: 400, body: `{"access_token":"tok"}`, wantClass: message.OutcomeRetryable, wantCode: "http 400"},
		{name: "secret echoed", status: 400, body: `{"error":"invalid_client","error_description":"client_secret=` + testSecret + `"}`,
			wantClass: message.OutcomeCredentials, wantCode: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, life, err := c.parseToken(tt.status, []byte(tt.body))
			if tt.wantClass == "" {
				if err != nil || tok != "tok" || life != tt.wantLife {
					t.Fatalf("parseToken = %q, %s, %v; want tok, %s", tok, life, err, tt.wantLife)
				}
				return
			}
			perr := platformtest.AsError(t, err)
			platformtest.WantError(t, "parseToken", perr, tt.wantClass, tt.wantCode, checkError)
		})
	}
}

func TestParseCheck(t *testing.T) {
	t.Parallel()
	c := testClient(t, "")
	tests := []struct {
		name       string
		body       string
		wantFailed []string
		wantClass  message.Outcome
		wantCode   string
	}{
		{name: "pass", body: `{"errno":0,"msg":"success","data":{"retrieveId":"1","res":[{"type":"risk","errno":0,"msg":"pass"}]}}`},
		{name: "SDK sample", body: `{"errno":82512,"msg":"potential risk","data":{"retrieveId":"1635390693997","res":[{"type":"risk","errno":82512,"msg":"potential risk"},{"type":"lead","errno":0,"msg":"pass"}]}}`,
			wantFailed: []string{"risk"}},
		{name: "lead", body: `{"errno":82512,"data":{"res":[{"type":"risk","errno":0},{"type":"lead","errno":82512}]}}`, wantFailed: []string{"lead"}},
		{name: "82512 without res", body: `{"errno":82512,"msg":"potential risk","data":{}}`, wantFailed: []string{"82512"}},
		{name: "another risk errno in res", body: `{"errno":82513,"data":{"res":[{"type":"risk","errno":"82513"}]}}`, wantFailed: []string{"risk"}},
		{name: "no res", body: `{"errno":0,"data":{}}`},
		{name: "parameter error", body: `{"errno":2002,"msg":"参数错误","data":{}}`, wantClass: message.OutcomePermanent, wantCode: "2002"},
		{name: "token", body: `{"error_code":110}`, wantClass: message.OutcomeToken, wantCode: "110"},
		{name: "no errno", body: `{"data":{}}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, perr := c.parseCheck([]byte(tt.body))
			if tt.wantClass == "" {
				if perr != nil || strings.Join(v.failed, ",") != strings.Join(tt.wantFailed, ",") {
					t.Fatalf("parseCheck = %+v, %v; want failed %v", v, perr, tt.wantFailed)
				}
				return
			}
			if perr == nil || perr.Class != tt.wantClass || perr.Code != tt.wantCode {
				t.Fatalf("parseCheck = %+v, %v; want a %s %s error", v, perr, tt.wantClass, tt.wantCode)
			}
			checkError(t, perr)
		})
	}
}

func TestSplitBytes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "a", strings.Repeat("好", 3413), strings.Repeat("好", 3414), strings.Repeat("a好", 5000), strings.Repeat("😀", 2561)} {
		pieces := splitBytes(s, maxCheckBytes)
		if strings.Join(pieces, "") != s {
			t.Fatalf("splitBytes(%d bytes) loses text", len(s))
		}
		for _, p := range pieces {
			if len(p) > maxCheckBytes || !utf8.ValidString(p) {
				t.Fatalf("splitBytes(%d bytes): a piece of %d bytes, valid UTF-8 %t", len(s), len(p), utf8.ValidString(p))
			}
		}
		if want := max(1, (len(s)+maxCheckBytes-1)/maxCheckBytes); len(pieces) < want || len(pieces) > want+1 {
			t.Fatalf("splitBytes(%d bytes) = %d pieces, want about %d", len(s), len(pieces), want)
		}
	}
}

// newFake serves a working token and answers other calls with status
// and body; it records the requests.
func newFake(t testing.TB, status int, header http.Header, body []byte) *platformtest.Fake {
	return platformtest.NewFake(t, pathToken, `{"access_token":"`+fakeToken+`","expires_in":2592000}`,
		platformtest.Answer{Status: status, Header: header, Body: body})
}

// TestWireFormat: the token is a form POST with the secret in the body; the
// send carries the token in the query and the fields in a form; the check
// is JSON.
func TestWireFormat(t *testing.T) {
	t.Parallel()
	f := newFake(t, 200, nil, []byte(`{"errno":0,"msg":"success","data":{"msg_key":7}}`))
	c := testClient(t, f.URL, func(c *Config) { c.SubscribeIDs = map[string]string{"tmpl-1": "booking"} })
	s := platform.Send{To: "open-1", TemplateID: "tmpl-1", Page: "index?foo=bar&x=<1>",
		Data: map[string]string{"keyword1": "体检 & <复查>", "keyword2": "2018-09-06"}}
	res, err := c.Send(context.Background(), s)
	if err != nil || res.MsgID != "7" {
		t.Fatalf("Send = %+v, %v; want msg_key 7", res, err)
	}
	tok, last := f.Token(), f.Last()
	tokenForm := tok.Form
	tokenForm.Set("method", tok.Method)
	tokenForm.Set("query", tok.RawQuery)
	wantToken := map[string]string{"method": "POST", "query": "", "grant_type": "client_credentials",
		"client_id": testAppKey, "client_secret": testSecret, "scope": "smartapp_snsapi_base"}
	for k, v := range wantToken {
		if got := tokenForm.Get(k); got != v {
			t.Errorf("token request %s = %q, want %q", k, got, v)
		}
	}
	if q := last.Query; len(q) != 1 || q.Get("access_token") != fakeToken {
		t.Errorf("send query = %v, want access_token only", q)
	}
	if ct := last.Header.Get("Content-Type"); ct != contentForm {
		t.Errorf("send Content-Type = %q", ct)
	}
	want := map[string]string{"template_id": "tmpl-1", "touser_openId": "open-1", "subscribe_id": "booking", "page": s.Page}
	for k, v := range want {
		if got := last.Form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	if last.Form.Has("access_token") {
		t.Error("the token is in the form body; the FAQ says query")
	}
	raw := last.Form.Get("data")
	if strings.Contains(raw, `\u0026`) || strings.Contains(raw, `\u003c`) {
		t.Errorf("data %s escapes HTML characters", raw)
	}
	var data map[string]struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal([]byte(raw), &data); err != nil || len(data) != 2 || data["keyword1"].Value != s.Data["keyword1"] {
		t.Errorf("data = %s (%v), want %v as {value}", raw, err, s.Data)
	}
}

func TestCheckWireFormat(t *testing.T) {
	t.Parallel()
	f := newFake(t, 200, nil, []byte(`{"errno":0,"msg":"success","data":{"retrieveId":"1","res":[{"type":"risk","errno":0,"msg":"pass"},{"type":"lead","errno":0,"msg":"pass"}]}}`))
	c := testClient(t, f.URL, func(c *Config) { c.CheckLead = true })
	v, err := c.CheckContent(context.Background(), "ignored", []string{"a & <b>", "", "c"})
	if err != nil || v.Risky || v.Label != labelPass {
		t.Fatalf("CheckContent = %+v, %v; want a pass", v, err)
	}
	last := f.Last()
	if ct := last.Header.Get("Content-Type"); ct != contentJSON || last.Query.Get("access_token") != fakeToken {
		t.Errorf("Content-Type %q, query %v", ct, last.Query)
	}
	var req checkTextRequest
	if err := json.Unmarshal(last.Body, &req); err != nil {
		t.Fatalf("body %s: %v", last.Body, err)
	}
	if req.Content != "a & <b>\nc" || strings.Join(req.Type, ",") != "risk,lead" {
		t.Errorf("request = %+v, want the non-empty texts joined and both strategies", req)
	}
}

func TestSubscribeIDOrder(t *testing.T) {
	t.Parallel()
	full := func(c *Config) { c.SubscribeIDs = map[string]string{"t1": "per-template"}; c.SubscribeID = "default" }
	tests := []struct {
		name        string
		mutate      func(*Config)
		send        platform.Send
		want        string
		fromMessage bool
	}{
		{name: "message", mutate: full, send: platform.Send{TemplateID: "t1", Data: map[string]string{SubscribeIDKey: " order-9 "}},
			want: "order-9", fromMessage: true},
		{name: "blank in message", mutate: full, send: platform.Send{TemplateID: "t1", Data: map[string]string{SubscribeIDKey: " "}}, want: "per-template"},
		{name: "per template", mutate: full, send: platform.Send{TemplateID: "t1"}, want: "per-template"},
		{name: "default", mutate: full, send: platform.Send{TemplateID: "t2"}, want: "default"},
		{name: "template id", send: platform.Send{TemplateID: "t2"}, want: "t2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c *Client
			if tt.mutate != nil {
				c = testClient(t, "", tt.mutate)
			} else {
				c = testClient(t, "")
			}
			if id, from := c.SubscribeID(tt.send); id != tt.want || from != tt.fromMessage {
				t.Fatalf("SubscribeID = %q, %t; want %q, %t", id, from, tt.want, tt.fromMessage)
			}
		})
	}
}

func TestHTTPAnswers(t *testing.T) {
	t.Parallel()
	cases := []platformtest.HTTPCase{
		{Name: "429 with Retry-After", Answer: platformtest.Answer{Status: 429, Header: http.Header{"Retry-After": {"7"}}},
			WantClass: message.OutcomeThrottled, WantCode: "http 429", WantRetryAfter: 7 * time.Second},
		{Name: "500", Answer: platformtest.Answer{Status: 500},
			WantClass: message.OutcomeRetryable, WantCode: "http 500"},
		// Only the token endpoint's 400 is read as an answer.
		{Name: "400 on send", Answer: platformtest.Answer{Status: 400, Body: []byte(`{"errno":0}`)},
			WantClass: message.OutcomeRetryable, WantCode: "http 400"},
		{Name: "answer too large", Answer: platformtest.Answer{Status: 200, Body: []byte(`{"errno":0,"x":"` + strings.Repeat("a", call.MaxAnswer) + `"}`)},
			WantClass: message.OutcomeRetryable, WantCode: call.CodeMalformed},
	}
	platformtest.HTTPAnswers(t, cases, func(t *testing.T, a platformtest.Answer) error {
		f := newFake(t, a.Status, a.Header, a.Body)
		_, err := testClient(t, f.URL).Send(context.Background(), platform.Send{To: "o1", TemplateID: "t"})
		return err
	}, checkError)
}

func TestRetryAfterUntilBeijingMidnight(t *testing.T) {
	t.Parallel()
	// 23:30 in Beijing is 15:30 UTC.
	now := time.Date(2025, 3, 1, 15, 30, 0, 0, time.UTC)
	c, err := New(Config{AppID: testAppKey, Secret: testSecret}, nil, platform.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if perr := c.gatewayError(gatewayRules, GatewayDailyLimit, ""); perr.RetryAfter != 30*time.Minute {
		t.Fatalf("17 at 23:30 Beijing: RetryAfter = %s, want 30m", perr.RetryAfter)
	}
}

func FuzzParseSend(f *testing.F) {
	for _, s := range []string{
		`{"errno":0,"msg":"success","data":{"msg_key":158}}`, `{"errno":4007,"msg":"x"}`, `{"error_code":110}`,
		`{"errno":0,"data":{"msg_key":"12"}}`, `{"errno":"x"}`, `{"errno":2002,"msg":"` + testSecret + `"}`, `null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, perr := c.parseSend(body)
		if perr != nil {
			checkError(t, perr)
			if res != (platform.Result{}) {
				t.Fatalf("error %q with a result %+v", perr, res)
			}
			return
		}
		if res.MsgID != "" {
			if _, err := strconv.ParseInt(res.MsgID, 10, 64); err != nil {
				t.Fatalf("MsgID %q is not an int64", res.MsgID)
			}
		}
	})
}

func FuzzParseToken(f *testing.F) {
	// The statuses call passes on for the token endpoint.
	statuses := []int{200, 201, 400, 401}
	f.Add(uint8(0), []byte(`{"access_token":"tok","expires_in":2592000}`))
	f.Add(uint8(2), []byte(`{"error":"invalid_client","error_description":"unknown client id"}`))
	f.Add(uint8(0), []byte(`{"error_code":18,"error_msg":"x"}`))
	f.Add(uint8(3), []byte(`{"error":"`+strings.Repeat("好", 40)+`"}`))
	f.Add(uint8(1), []byte(`{"access_token":"","expires_in":-5}`))
	f.Add(uint8(2), []byte(`{"access_token":"x","expires_in":1e30}`))
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		status := statuses[int(sel)%len(statuses)]
		tok, life, err := c.parseToken(status, body)
		if err != nil {
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			return
		}
		if tok == "" || life <= 0 || status >= 300 {
			t.Fatalf("status %d: success without a usable token: %q, %s", status, tok, life)
		}
	})
}

func FuzzParseCheck(f *testing.F) {
	for _, s := range []string{
		`{"errno":82512,"data":{"res":[{"type":"risk","errno":82512}]}}`, `{"errno":0,"data":{"res":[]}}`,
		`{"errno":2002}`, `{"error_code":111}`, `{"errno":0,"data":{"res":[{"type":"` + strings.Repeat("x", 100) + `","errno":1}]}}`,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		v, perr := c.parseCheck(body)
		if perr != nil {
			checkError(t, perr)
			if len(v.failed) != 0 {
				t.Fatalf("error %q with a verdict %+v", perr, v)
			}
			return
		}
		for _, l := range v.failed {
			if l == "" || len(l) > 32 {
				t.Fatalf("verdict label %q", l)
			}
		}
	})
}

// FuzzSendAnswer drives Send against any status and body the platform (or
// a proxy in front of it) might answer, through one client on an
// in-memory transport (no socket per input).
func FuzzSendAnswer(f *testing.F) {
	f.Add(uint16(200), []byte(`{"errno":0,"msg":"success","data":{"msg_key":158}}`))
	f.Add(uint16(302), []byte(`<html>502</html>`))
	f.Add(uint16(0), []byte(`{"error_code":110}`))
	f.Add(uint16(229), []byte{})
	canned := platformtest.NewCanned(pathToken, `{"access_token":"`+fakeToken+`","expires_in":2592000}`)
	c, err := New(Config{AppID: testAppKey, Secret: testSecret, BaseURL: "http://baidu.test", HTTPClient: canned.Client()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := 200 + int(status)%400 // 200..599
		canned.Set(platformtest.Answer{Status: code, Body: body})
		res, err := c.Send(context.Background(), platform.Send{To: "o1", TemplateID: "t", Data: map[string]string{"keyword1": "x"}})
		if err != nil {
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			return
		}
		if code < 200 || code > 299 {
			t.Fatalf("status %d answered success %+v", code, res)
		}
	})
}
