package douyin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
)

const (
	testAppID  = "tt0123456789abcdef"
	testSecret = "0123456789abcdef0123456789abcdef01234567"
	testToken  = "clt.faketoken0123456789"
)

func testClient(tb testing.TB, baseURL, api string) *Client {
	tb.Helper()
	c, err := New(Config{AppID: testAppID, Secret: testSecret, BaseURL: baseURL, API: api}, nil)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// checkError holds every error the client makes to its contract: a
// classified *platform.Error that names douyin and carries neither the
// secret nor the token.
func checkError(t *testing.T, perr *platform.Error) {
	t.Helper()
	platformtest.CheckError(t, perr, Platform, testSecret, testToken)
}

func TestParseSend(t *testing.T) {
	t.Parallel()
	c := testClient(t, "", APIv2)
	tests := []struct {
		name      string
		body      string
		wantMsgID string
		wantClass message.Outcome // "" for success
		wantCode  string
	}{
		{name: "v2 doc example", body: `{"err_no":0,"err_msg":"","log_id":"202008121419360101980821035705926A"}`, wantMsgID: "202008121419360101980821035705926A"},
		{name: "v1 success", body: `{"err_no":0,"err_tips":""}`},
		{name: "success with an odd log_id", body: `{"err_no":0,"log_id":{"x":1}}`},
		{name: "success with a numeric err_msg", body: `{"err_no":0,"err_msg":7}`},
		{name: "no err_no", body: `{"err_msg":""}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "err_no as text", body: `{"err_no":"0"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "err_no as float", body: `{"err_no":0.5}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "not JSON", body: `<html>bad gateway</html>`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "array", body: `[]`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "not subscribed", body: `{"err_no":28014043,"err_msg":"用户未订阅该模板","log_id":"x"}`, wantClass: message.OutcomePermanent, wantCode: "28014043"},
		{name: "v1 app_id/open_id", body: `{"err_no":1001,"err_tips":"app_id / open_id不合法"}`, wantClass: message.OutcomePermanent, wantCode: "1001"},
		{name: "v1 per-user limit", body: `{"err_no":1010,"err_tips":"发送消息过于频繁"}`, wantClass: message.OutcomeRetryable, wantCode: "1010"},
		{name: "v1 QPS", body: `{"err_no":28006003,"err_tips":"限流"}`, wantClass: message.OutcomeThrottled, wantCode: "28006003"},
		{name: "token invalid", body: `{"err_no":28001003,"err_msg":"access_token无效"}`, wantClass: message.OutcomeToken, wantCode: "28001003"},
		{name: "legacy token bad", body: `{"err_no":11016,"err_tips":"access_token 不正确或者已过期"}`, wantClass: message.OutcomeToken, wantCode: "11016"},
		{name: "secrets echoed", body: `{"err_no":28001007,"err_msg":"bad ` + testSecret + ` ` + testToken + ` access-token: abc client_secret=def"}`,
			wantClass: message.OutcomePermanent, wantCode: "28001007"},
		{name: "unknown code", body: `{"err_no":123456789}`, wantClass: message.OutcomeRetryable, wantCode: "123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, perr := c.parseSend(pathNotifyUser, []byte(tt.body), testToken)
			if tt.wantClass == "" {
				if perr != nil || res.MsgID != tt.wantMsgID {
					t.Fatalf("parseSend = %+v, %v; want msgid %q", res, perr, tt.wantMsgID)
				}
				return
			}
			platformtest.WantError(t, "parseSend", perr, tt.wantClass, tt.wantCode, checkError)
			if strings.Contains(perr.Message, "abc") || strings.Contains(perr.Message, "def") {
				t.Errorf("error %q keeps a credential field", perr)
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	c := testClient(t, "", APIv2)
	tests := []struct {
		name      string
		parse     func([]byte) (string, time.Duration, error)
		body      string
		wantLife  time.Duration
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "client token", parse: c.parseClientToken,
			body: `{"data":{"access_token":"tok","description":"","error_code":0,"expires_in":7200},"message":"success"}`, wantLife: 2 * time.Hour},
		{name: "client token: absurd lifetime is capped", parse: c.parseClientToken,
			body: `{"data":{"access_token":"tok","error_code":0,"expires_in":9223372036854775807},"message":"success"}`, wantLife: maxLifetime},
		{name: "client token: unknown client_key", parse: c.parseClientToken,
			body:      `{"data":{"captcha":"","desc_url":"","description":"client_key 不存在","error_code":10003},"message":"error"}`,
			wantClass: message.OutcomeCredentials, wantCode: "10003"},
		{name: "client token: too frequent", parse: c.parseClientToken,
			body: `{"data":{"description":"","error_code":10020},"message":"error"}`, wantClass: message.OutcomeThrottled, wantCode: "10020"},
		{name: "client token: gateway err_no", parse: c.parseClientToken,
			body: `{"err_no":28001005,"err_msg":"busy"}`, wantClass: message.OutcomeRetryable, wantCode: "28001005"},
		{name: "client token: no token", parse: c.parseClientToken,
			body: `{"data":{"error_code":0,"expires_in":7200},"message":"success"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "client token: sandbox answer", parse: c.parseClientToken,
			body: `{"data":"app is not sandboxApp","error":2}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "access token", parse: c.parseAccessToken,
			body: `{"err_no":0,"err_tips":"success","data":{"access_token":"tok","expires_in":7200}}`, wantLife: 2 * time.Hour},
		{name: "access token: bad secret", parse: c.parseAccessToken,
			body: `{"err_no":40017,"err_tips":"bad secret","data":{"access_token":"","expires_in":0}}`, wantClass: message.OutcomeCredentials, wantCode: "40017"},
		{name: "access token: system error", parse: c.parseAccessToken,
			body: `{"err_no":-1,"err_tips":"system error"}`, wantClass: message.OutcomeRetryable, wantCode: "-1"},
		{name: "access token: no err_no", parse: c.parseAccessToken,
			body: `{"data":{"access_token":"tok","expires_in":7200}}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "access token: no lifetime", parse: c.parseAccessToken,
			body: `{"err_no":0,"data":{"access_token":"tok","expires_in":0}}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, life, err := tt.parse([]byte(tt.body))
			if tt.wantClass == "" {
				if err != nil || tok != "tok" || life != tt.wantLife {
					t.Fatalf("parse = %q, %s, %v; want tok, %s", tok, life, err, tt.wantLife)
				}
				return
			}
			perr := platformtest.AsError(t, err)
			platformtest.WantError(t, "parse", perr, tt.wantClass, tt.wantCode, checkError)
		})
	}
}

func TestParseModeration(t *testing.T) {
	t.Parallel()
	c := testClient(t, "", APIv1)
	ok := func(body string) *call.Answer {
		return &call.Answer{Status: 200, Header: http.Header{}, Body: []byte(body)}
	}
	tests := []struct {
		name      string
		censor    bool
		resp      *call.Answer
		n         int
		want      platform.Verdict
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "antidirt doc example, pass", n: 1,
			resp: ok(`{"log_id":"2020","data":[{"msg":"","code":0,"task_id":"MICROAPP_686","predicts":[{"prob":0,"hit":false,"target":null,"model_name":"short_content_antidirt"}],"data_id":null}]}`)},
		{name: "antidirt hit", n: 1,
			resp: ok(`{"log_id":"2020","data":[{"code":0,"predicts":[{"prob":1,"hit":true,"target":null,"model_name":"short_content_antidirt"}]}]}`),
			want: platform.Verdict{Risky: true, Label: "short_content_antidirt"}},
		{name: "old antidirt: prob 1 without hit", n: 1,
			resp: ok(`{"data":[{"code":0,"predicts":[{"prob":1,"model_name":"short_content_antidirt"}]}]}`),
			want: platform.Verdict{Risky: true, Label: "short_content_antidirt"}},
		{name: "target names the label", n: 2,
			resp: ok(`{"data":[{"predicts":[]},{"predicts":[{"hit":true,"target":"porn","model_name":"m"}]}]}`),
			want: platform.Verdict{Risky: true, Label: "porn"}},
		{name: "fewer items than texts", n: 2, resp: ok(`{"data":[{"predicts":[]}]}`),
			wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "no data", n: 1, resp: ok(`{"log_id":"x"}`), wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "item error", n: 1, resp: ok(`{"data":[{"code":28001005,"msg":"busy"}]}`), wantClass: message.OutcomeRetryable, wantCode: "28001005"},
		{name: "antidirt bad token", n: 1,
			resp:      &call.Answer{Status: 401, Body: []byte(`{"error_id":"7bf3","code":401,"message":"[app token sign fail] bad token","exception":"[app token sign fail] bad token"}`)},
			wantClass: message.OutcomeToken, wantCode: "401"},
		{name: "antidirt bad token with HTTP 200", n: 1,
			resp:      ok(`{"error_id":"7bf3","code":401,"message":"Authentication credentials were not provided."}`),
			wantClass: message.OutcomeToken, wantCode: "401"},
		{name: "antidirt 429 with Retry-After", n: 1,
			resp:      &call.Answer{Status: 429, Header: http.Header{"Retry-After": {"30"}}, Body: []byte(`{"error_id":"e","code":429,"message":"slow down"}`)},
			wantClass: message.OutcomeThrottled, wantCode: "429"},
		{name: "antidirt 502 html", n: 1, resp: &call.Answer{Status: 502, Body: []byte(`<html>`)},
			wantClass: message.OutcomeRetryable, wantCode: "http 502"},
		{name: "antidirt 403 empty object", n: 1, resp: &call.Answer{Status: 403, Body: []byte(`{}`)},
			wantClass: message.OutcomeRetryable, wantCode: "http 403"},
		{name: "censor pass", censor: true, n: 1,
			resp: ok(`{"err_no":0,"err_msg":"","log_id":"l","data":[{"msg":"","code":0,"task_id":"t","data_id":"","predicts":[{"model_name":"text_censor","prob":0,"hit":false,"target":""}]}]}`)},
		{name: "censor hit", censor: true, n: 1,
			resp: ok(`{"err_no":0,"data":[{"predicts":[{"model_name":"text_censor","prob":0.98,"hit":true,"target":""}]}]}`),
			want: platform.Verdict{Risky: true, Label: "text_censor"}},
		{name: "censor token expired", censor: true, n: 1, resp: ok(`{"err_no":28001008,"err_msg":"access_token过期"}`),
			wantClass: message.OutcomeToken, wantCode: "28001008"},
		{name: "censor without err_no", censor: true, n: 1, resp: ok(`{"data":[]}`),
			wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.resp.Header == nil {
				tt.resp.Header = http.Header{}
			}
			var (
				v    platform.Verdict
				perr *platform.Error
			)
			if tt.censor {
				v, perr = c.parseCensor(tt.resp.Body, tt.n, testToken)
			} else {
				v, perr = c.parseAntidirt(tt.resp, tt.n, testToken)
			}
			if tt.wantClass == "" {
				if perr != nil || v != tt.want {
					t.Fatalf("parse = %+v, %v; want %+v", v, perr, tt.want)
				}
				return
			}
			platformtest.WantError(t, "parse", perr, tt.wantClass, tt.wantCode, checkError)
			if tt.name == "antidirt 429 with Retry-After" && perr.RetryAfter != 30*time.Second {
				t.Errorf("RetryAfter = %s, want the gateway's 30s", perr.RetryAfter)
			}
		})
	}
}

func TestRetryAfterUntilBeijingMidnight(t *testing.T) {
	t.Parallel()
	// 23:30 in Beijing is 15:30 UTC.
	now := time.Date(2025, 3, 1, 15, 30, 0, 0, time.UTC)
	c, err := New(Config{AppID: testAppID, Secret: testSecret}, nil, platform.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	perr := c.classify(businessRules, CodeQuotaExhausted, "quota 已用完")
	if perr.Class != message.OutcomeThrottled || perr.RetryAfter != 30*time.Minute {
		t.Fatalf("28003017 at 23:30 Beijing: %s, RetryAfter = %s; want throttled, 30m", perr.Class, perr.RetryAfter)
	}
}

func TestCredentialsFailAtOnce(t *testing.T) {
	t.Parallel()
	c, err := New(Config{AppID: testAppID, Secret: testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	perr := c.classify(tokenRules, CodeClientBadSecret, "")
	if perr.Class != message.OutcomeCredentials || perr.RetryAfter != 0 || perr.Message == "" {
		t.Fatalf("10013 = %#v, want credentials with a message and no backoff", perr)
	}
}

func FuzzParseSend(f *testing.F) {
	for _, s := range []string{
		`{"err_no":0,"err_msg":"","log_id":"202008121419360101980821035705926A"}`, `{"err_no":0,"err_tips":""}`,
		`{"err_no":28014043,"err_msg":"x"}`, `{"err_no":1010}`, `{"err_no":28001003,"err_msg":"` + testToken + `"}`,
		`{"err_no":1e3}`, `null`, `[]`, ``, `{"err_no":9223372036854775808}`,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f, "", APIv2)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, perr := c.parseSend(pathNotifyUser, body, testToken)
		if perr != nil {
			checkError(t, perr)
			if res != (platform.Result{}) {
				t.Fatalf("error %q with a result %+v", perr, res)
			}
		}
	})
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		`{"data":{"access_token":"clt.x","description":"","error_code":0,"expires_in":7200},"message":"success"}`,
		`{"data":{"captcha":"","desc_url":"","description":"配置无效","error_code":10003},"message":"error"}`,
		`{"err_no":0,"err_tips":"success","data":{"access_token":"0801","expires_in":7200}}`,
		`{"err_no":40017,"err_tips":"bad secret","data":{"access_token":"","expires_in":0}}`,
		`{"data":"app is not sandboxApp","error":2}`, `{"err_no":0,"data":{"access_token":"a","expires_in":1e30}}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	c := testClient(f, "", APIv2)
	f.Fuzz(func(t *testing.T, body []byte, legacy bool) {
		parse := c.parseClientToken
		if legacy {
			parse = c.parseAccessToken
		}
		tok, life, err := parse(body)
		if err != nil {
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			return
		}
		if tok == "" || life <= 0 || life > maxLifetime {
			t.Fatalf("success without a usable token: %q, %s", tok, life)
		}
	})
}

func FuzzParseModeration(f *testing.F) {
	for _, s := range []string{
		`{"log_id":"2020","data":[{"msg":"","code":0,"task_id":"MICROAPP_686","predicts":[{"prob":0,"hit":false,"target":null,"model_name":"short_content_antidirt"}],"data_id":null}]}`,
		`{"error_id":"7bf3","code":401,"message":"[app token sign fail] bad token","exception":"x"}`,
		`{"err_no":0,"err_msg":"","log_id":"l","data":[{"predicts":[{"model_name":"text_censor","prob":0.9,"hit":true,"target":""}]}]}`,
		`{"err_no":28001008}`, `{"data":[{"code":"x"}]}`, `{"error_id":"e"}`,
	} {
		f.Add(uint16(200), []byte(s), uint8(1), false)
		f.Add(uint16(401), []byte(s), uint8(1), false)
		f.Add(uint16(200), []byte(s), uint8(1), true)
	}
	c := testClient(f, "", APIv1)
	f.Fuzz(func(t *testing.T, status uint16, body []byte, n uint8, censor bool) {
		var (
			v    platform.Verdict
			perr *platform.Error
		)
		if censor {
			v, perr = c.parseCensor(body, int(n%12), testToken)
		} else {
			r := &call.Answer{Status: 200 + int(status)%400, Header: http.Header{}, Body: body}
			v, perr = c.parseAntidirt(r, int(n%12), testToken)
		}
		if perr != nil {
			checkError(t, perr)
			if v != (platform.Verdict{}) {
				t.Fatalf("error %q with a verdict %+v", perr, v)
			}
			return
		}
		if !v.Risky && v.Label != "" {
			t.Fatalf("a pass with a label: %+v", v)
		}
	})
}

// fakeDouyin serves a working client_token and answers everything else with
// status and body.
func fakeDouyin(t testing.TB, status int, body []byte) *platformtest.Fake {
	return platformtest.NewFake(t, pathClientToken, `{"data":{"access_token":"`+testToken+`","error_code":0,"expires_in":7200},"message":"success"}`,
		platformtest.Answer{Status: status, Body: body})
}

func TestHTTPAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		body      []byte
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "500", status: 500, wantClass: message.OutcomeRetryable, wantCode: "http 500"},
		{name: "404 with a Douyin body", status: 404, body: []byte(`{"err_no":404,"err_msg":"api not found"}`),
			wantClass: message.OutcomeRetryable, wantCode: "http 404"},
		{name: "answer too large", status: 200, body: []byte(`{"err_no":0,"x":"` + strings.Repeat("a", call.MaxAnswer) + `"}`),
			wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeDouyin(t, tt.status, tt.body)
			_, err := testClient(t, srv.URL, APIv2).Send(context.Background(), platform.Send{To: "o1", TemplateID: "t"})
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			if perr.Class != tt.wantClass || perr.Code != tt.wantCode {
				t.Fatalf("Send error %q; want %s %s", perr, tt.wantClass, tt.wantCode)
			}
		})
	}
}

// FuzzSendAnswer drives Send against any status and body the platform (or
// a proxy in front of it) might answer, through one client on an
// in-memory transport (no socket per input).
func FuzzSendAnswer(f *testing.F) {
	f.Add(uint16(200), []byte(`{"err_no":0,"err_msg":"","log_id":"202008121419360101980821035705926A"}`))
	f.Add(uint16(502), []byte(`<html>502</html>`))
	f.Add(uint16(200), []byte(`{"err_no":28001003}`))
	f.Add(uint16(429), []byte{})
	canned := platformtest.NewCanned(pathClientToken, `{"data":{"access_token":"`+testToken+`","error_code":0,"expires_in":7200},"message":"success"}`)
	c, err := New(Config{AppID: testAppID, Secret: testSecret, BaseURL: "http://douyin.test", API: APIv2, HTTPClient: canned.Client()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := 200 + int(status)%400 // 200..599
		canned.Set(platformtest.Answer{Status: code, Body: body})
		res, err := c.Send(context.Background(), platform.Send{To: "o1", TemplateID: "t", Data: map[string]string{"名称": "x"}})
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
