package wechat

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "0123456789abcdef0123456789abcdef"
)

func testClient(tb testing.TB, baseURL string) *Client {
	tb.Helper()
	c, err := New(Config{AppID: testAppID, Secret: testSecret, BaseURL: baseURL}, nil)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// checkError holds every error the client makes to its contract: a
// classified *platform.Error that names wechat and carries no secret.
func checkError(t *testing.T, perr *platform.Error) {
	t.Helper()
	platformtest.CheckError(t, perr, Platform, testSecret)
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
		{name: "msgid above 2^53", body: `{"errcode":0,"errmsg":"ok","msgid":1700827132819554304}`, wantMsgID: "1700827132819554304"},
		{name: "msgid as text", body: `{"errcode":0,"errmsg":"ok","msgid":"294402298110051942"}`, wantMsgID: "294402298110051942"},
		{name: "no msgid (the doc's example)", body: `{"errcode":0,"errmsg":"ok"}`},
		{name: "float msgid is not guessed", body: `{"errcode":0,"msgid":1.7e18}`},
		{name: "no errcode", body: `{"errmsg":"ok"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "not JSON", body: `<html>bad gateway</html>`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "errcode as text", body: `{"errcode":"0"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "user refused", body: `{"errcode":43101,"errmsg":"user refuse to accept the msg rid: 64229bc2-48d0e8b1-2008ed9b"}`,
			wantClass: message.OutcomePermanent, wantCode: "43101"},
		{name: "token expired", body: `{"errcode":42001,"errmsg":"access_token expired"}`, wantClass: message.OutcomeToken, wantCode: "42001"},
		{name: "malformed token", body: `{"errcode":40014,"errmsg":"invalid access_token"}`, wantClass: message.OutcomeToken, wantCode: "40014"},
		{name: "secret echoed in errmsg", body: `{"errcode":47003,"errmsg":"argument invalid! ` + testSecret + ` secret=abc"}`,
			wantClass: message.OutcomePermanent, wantCode: "47003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, perr := c.parseSend([]byte(tt.body))
			if tt.wantClass == "" {
				if perr != nil || res.MsgID != tt.wantMsgID {
					t.Fatalf("parseSend = %+v, %v; want msgid %q", res, perr, tt.wantMsgID)
				}
				return
			}
			platformtest.WantError(t, "parseSend", perr, tt.wantClass, tt.wantCode, checkError)
			if strings.Contains(perr.Message, "secret=abc") {
				t.Errorf("error %q keeps a secret parameter", perr)
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	c := testClient(t, "")
	tests := []struct {
		name      string
		body      string
		wantLife  time.Duration
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "ok", body: `{"access_token":"86_abc","expires_in":7200}`, wantLife: 2 * time.Hour},
		{name: "ok with errcode 0", body: `{"errcode":0,"access_token":"86_abc","expires_in":345}`, wantLife: 345 * time.Second},
		{name: "no token", body: `{"expires_in":7200}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "no lifetime", body: `{"access_token":"86_abc"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "wrong secret", body: `{"errcode":40125,"errmsg":"invalid appsecret rid: 63cf14c3-1"}`, wantClass: message.OutcomeCredentials, wantCode: "40125"},
		{name: "40001 on the token endpoint", body: `{"errcode":40001,"errmsg":"invalid credential"}`, wantClass: message.OutcomeCredentials, wantCode: "40001"},
		{name: "IP refused for a day", body: `{"errcode":89506,"errmsg":"..."}`, wantClass: message.OutcomeThrottled, wantCode: "89506"},
		{name: "busy", body: `{"errcode":-1,"errmsg":"system error"}`, wantClass: message.OutcomeRetryable, wantCode: "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, life, err := c.parseToken(pathStableToken, []byte(tt.body))
			if tt.wantClass == "" {
				if err != nil || tok != "86_abc" || life != tt.wantLife {
					t.Fatalf("parseToken = %q, %s, %v; want 86_abc, %s", tok, life, err, tt.wantLife)
				}
				return
			}
			perr := platformtest.AsError(t, err)
			platformtest.WantError(t, "parseToken", perr, tt.wantClass, tt.wantCode, checkError)
		})
	}
}

func TestParseSecCheck(t *testing.T) {
	t.Parallel()
	c := testClient(t, "")
	tests := []struct {
		name      string
		body      string
		want      platform.Verdict
		wantClass message.Outcome
	}{
		{name: "doc example", body: `{"errcode":0,"errmsg":"ok","result":{"suggest":"risky","label":20001},"detail":[{"strategy":"content_model","errcode":0,"suggest":"risky","label":20006,"prob":90}],"trace_id":"60ae120f-371d5872-7941a05b"}`,
			want: platform.Verdict{Risky: true, Label: "20001"}},
		{name: "review", body: `{"errcode":0,"result":{"suggest":"review","label":20012}}`, want: platform.Verdict{Label: "20012"}},
		{name: "text label", body: `{"errcode":0,"result":{"suggest":"risky","label":"porn"}}`, want: platform.Verdict{Risky: true, Label: "porn"}},
		{name: "v1 risky", body: `{"errcode":87014,"errmsg":"risky content"}`, want: platform.Verdict{Risky: true, Label: "87014"}},
		{name: "no result", body: `{"errcode":0}`, wantClass: message.OutcomeRetryable},
		{name: "unknown suggest", body: `{"errcode":0,"result":{"suggest":"maybe"}}`, wantClass: message.OutcomeRetryable},
		{name: "user not seen", body: `{"errcode":61010,"errmsg":"code is expired"}`, wantClass: message.OutcomePermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, perr := c.parseSecCheck([]byte(tt.body))
			if tt.wantClass == "" {
				if perr != nil || v != tt.want {
					t.Fatalf("parseSecCheck = %+v, %v; want %+v", v, perr, tt.want)
				}
				return
			}
			if perr == nil || perr.Class != tt.wantClass {
				t.Fatalf("parseSecCheck = %+v, %v; want a %s error", v, perr, tt.wantClass)
			}
			checkError(t, perr)
		})
	}
}

// fakeWeChat serves a working stable_token and answers subscribe sends
// with status and body.
func fakeWeChat(t testing.TB, status int, header http.Header, body []byte) *platformtest.Fake {
	return platformtest.NewFake(t, pathStableToken, `{"access_token":"86_faketoken","expires_in":7200}`,
		platformtest.Answer{Status: status, Header: header, Body: body})
}

func TestHTTPAnswers(t *testing.T) {
	t.Parallel()
	cases := []platformtest.HTTPCase{
		{Name: "429 with Retry-After", Answer: platformtest.Answer{Status: 429, Header: http.Header{"Retry-After": {"7"}}},
			WantClass: message.OutcomeThrottled, WantCode: "http 429", WantRetryAfter: 7 * time.Second},
		{Name: "500", Answer: platformtest.Answer{Status: 500},
			WantClass: message.OutcomeRetryable, WantCode: "http 500"},
		{Name: "answer too large", Answer: platformtest.Answer{Status: 200, Body: []byte(`{"errcode":0,"x":"` + strings.Repeat("a", call.MaxAnswer) + `"}`)},
			WantClass: message.OutcomeRetryable, WantCode: call.CodeMalformed},
	}
	platformtest.HTTPAnswers(t, cases, func(t *testing.T, a platformtest.Answer) error {
		f := fakeWeChat(t, a.Status, a.Header, a.Body)
		_, err := testClient(t, f.URL).Send(context.Background(), platform.Send{To: "o1", TemplateID: "t"})
		return err
	}, checkError)
}

func TestRetryAfterUntilBeijingMidnight(t *testing.T) {
	t.Parallel()
	// 23:30 in Beijing is 15:30 UTC.
	now := time.Date(2025, 3, 1, 15, 30, 0, 0, time.UTC)
	c, err := New(Config{AppID: testAppID, Secret: testSecret}, nil, platform.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	perr := c.classify(businessRules, CodeDailyQuota, "reach max api daily quota limit")
	if perr.RetryAfter != 30*time.Minute {
		t.Fatalf("45009 at 23:30 Beijing: RetryAfter = %s, want 30m", perr.RetryAfter)
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2499, 2500, 2501, 5001} {
		s := strings.Repeat("好", n)
		pieces := split(s, maxCheckRunes)
		if strings.Join(pieces, "") != s {
			t.Fatalf("split(%d runes) loses text", n)
		}
		for _, p := range pieces {
			if len([]rune(p)) > maxCheckRunes {
				t.Fatalf("split(%d runes): a piece has %d runes", n, len([]rune(p)))
			}
		}
		if want := max(1, (n+maxCheckRunes-1)/maxCheckRunes); len(pieces) != want {
			t.Fatalf("split(%d runes) = %d pieces, want %d", n, len(pieces), want)
		}
	}
}

func FuzzParseSend(f *testing.F) {
	for _, s := range []string{
		`{"errcode":0,"errmsg":"ok","msgid":1700827132819554304}`, `{"errcode":43101,"errmsg":"x"}`,
		`{"errcode":0,"msgid":"12"}`, `{"errcode":-1}`, `{"errcode":47003,"errmsg":"` + testSecret + `"}`, `null`, `[]`, ``,
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
	for _, s := range []string{
		`{"access_token":"86_abc","expires_in":7200}`, `{"errcode":40125,"errmsg":"invalid appsecret"}`,
		`{"access_token":"","expires_in":-5}`, `{"errcode":89506}`, `{"expires_in":1e30}`,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, life, err := c.parseToken(pathStableToken, body)
		if err != nil {
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			return
		}
		if tok == "" || life <= 0 {
			t.Fatalf("success without a usable token: %q, %s", tok, life)
		}
	})
}

func FuzzParseSecCheck(f *testing.F) {
	for _, s := range []string{
		`{"errcode":0,"result":{"suggest":"risky","label":20001}}`, `{"errcode":0,"result":{"suggest":"pass","label":100}}`,
		`{"errcode":87014}`, `{"errcode":0,"result":null}`, `{"errcode":0,"result":{"suggest":"risky","label":{}}}`,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		v, perr := c.parseSecCheck(body)
		if perr != nil {
			checkError(t, perr)
			if v != (platform.Verdict{}) {
				t.Fatalf("error %q with a verdict %+v", perr, v)
			}
		}
	})
}

// FuzzSendAnswer drives Send against any status and body the platform (or
// a proxy in front of it) might answer. One client on an in-memory
// transport serves every input: no socket per input.
func FuzzSendAnswer(f *testing.F) {
	f.Add(uint16(200), []byte(`{"errcode":0,"errmsg":"ok","msgid":1700827132819554304}`))
	f.Add(uint16(502), []byte(`<html>502</html>`))
	f.Add(uint16(200), []byte(`{"errcode":40001}`))
	f.Add(uint16(429), []byte{})
	canned := platformtest.NewCanned(pathStableToken, `{"access_token":"86_faketoken","expires_in":7200}`)
	c, err := New(Config{AppID: testAppID, Secret: testSecret, BaseURL: "http://wechat.test", HTTPClient: canned.Client()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := 200 + int(status)%400 // 200..599
		canned.Set(platformtest.Answer{Status: code, Body: body})
		res, err := c.Send(context.Background(), platform.Send{To: "o1", TemplateID: "t", Data: map[string]string{"thing1": "x"}})
		if err != nil {
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			if strings.Contains(perr.Error(), "86_faketoken") {
				t.Fatalf("error %q contains the token", perr)
			}
			return
		}
		if code < 200 || code > 299 {
			t.Fatalf("status %d answered success %+v", code, res)
		}
	})
}
