package kuaishou

import (
	"context"
	"encoding/json"
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
	testAppID  = "ks707065143182458884"
	testSecret = "KS-TEST-SECRET-0123456789abcdef"
	fakeToken  = "ChFvYXV0aC5hY2Nlc3NUb2tlbhJQfake"
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
// classified *platform.Error that names kuaishou and carries no secret.
func checkError(t *testing.T, perr *platform.Error) {
	t.Helper()
	platformtest.CheckError(t, perr, Platform, testSecret, fakeToken)
}

func TestParseSend(t *testing.T) {
	t.Parallel()
	c := testClient(t, "")
	tests := []struct {
		name      string
		body      string
		wantClass message.Outcome // "" for success
		wantCode  string
	}{
		{name: "ok", body: `{"result":1}`},
		{name: "ok with text result", body: `{"result":"1","error_msg":""}`},
		{name: "no result", body: `{"error_msg":"x"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "not JSON", body: `<html>bad gateway</html>`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "result 0", body: `{"result":0}`, wantClass: message.OutcomeRetryable, wantCode: "0"},
		{name: "bad param", body: `{"result":100200100,"error":"invalid_request","error_msg":"参数有误: page is empty"}`,
			wantClass: message.OutcomePermanent, wantCode: "100200100"},
		{name: "token", body: `{"result":100200101,"error":"invalid_client","error_msg":"验证出错: access_token has expired"}`,
			wantClass: message.OutcomeToken, wantCode: "100200101"},
		{name: "only the short error name", body: `{"result":100200110,"error":"not_subscribed"}`,
			wantClass: message.OutcomePermanent, wantCode: "100200110"},
		{name: "rate limited", body: `{"result":100200112}`, wantClass: message.OutcomeThrottled, wantCode: "100200112"},
		{name: "secret echoed in error_msg", body: `{"result":100200100,"error_msg":"bad ` + testSecret + ` app_secret=abc"}`,
			wantClass: message.OutcomePermanent, wantCode: "100200100"},
		{name: "error_msg not a string", body: `{"result":100200500,"error_msg":{"a":1}}`,
			wantClass: message.OutcomeRetryable, wantCode: "100200500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			perr := c.parseSend([]byte(tt.body))
			if tt.wantClass == "" {
				if perr != nil {
					t.Fatalf("parseSend = %v, want success", perr)
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
		{name: "48 h", body: `{"result":1,"access_token":"tok","expires_in":172800,"token_type":"bearer"}`, wantLife: 48 * time.Hour},
		{name: "doc sample 23435", body: `{"result":1,"access_token":"tok","expires_in":23435}`, wantLife: 23435 * time.Second},
		{name: "doc sample 3600000 is cut to 48 h", body: `{"result":1,"access_token":"tok","expires_in":3600000}`, wantLife: 48 * time.Hour},
		{name: "no expires_in", body: `{"result":1,"access_token":"tok"}`, wantLife: 48 * time.Hour},
		{name: "expires_in as text", body: `{"result":1,"access_token":"tok","expires_in":"7200"}`, wantLife: 2 * time.Hour},
		{name: "expires_in huge", body: `{"result":1,"access_token":"tok","expires_in":9223372036854775807}`, wantLife: 48 * time.Hour},
		{name: "no token", body: `{"result":1,"expires_in":7200}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "no result", body: `{"access_token":"tok"}`, wantClass: message.OutcomeRetryable, wantCode: call.CodeMalformed},
		{name: "wrong secret", body: `{"result":100200101,"error":"invalid_client","error_msg":"验证出错"}`,
			wantClass: message.OutcomeCredentials, wantCode: "100200101"},
		{name: "bad param", body: `{"result":100200100,"error_msg":"参数有误"}`, wantClass: message.OutcomeCredentials, wantCode: "100200100"},
		{name: "unknown code", body: `{"result":-1}`, wantClass: message.OutcomeRetryable, wantCode: "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, life, err := c.parseToken([]byte(tt.body))
			if tt.wantClass == "" {
				if err != nil || tok != "tok" || life != tt.wantLife {
					t.Fatalf("parseToken = %q, %s, %v; want tok, %s", tok, life, err, tt.wantLife)
				}
				return
			}
			perr := platformtest.AsError(t, err)
			platformtest.WantError(t, "parseToken", perr, tt.wantClass, tt.wantCode, checkError)
			if tt.wantClass == message.OutcomeThrottled && perr.RetryAfter <= 0 {
				t.Errorf("throttled error %q without RetryAfter", perr)
			}
		})
	}
}

// newFake serves a working token and answers sends with status and body.
func newFake(t testing.TB, status int, header http.Header, body []byte) *platformtest.Fake {
	return platformtest.NewFake(t, pathToken, `{"result":1,"access_token":"`+fakeToken+`","expires_in":172800,"token_type":"bearer"}`,
		platformtest.Answer{Status: status, Header: header, Body: body})
}

// TestSendWireFormat: every parameter in the form body, none in the URL,
// data a JSON string of {key:{value}}.
func TestSendWireFormat(t *testing.T) {
	t.Parallel()
	f := newFake(t, 200, nil, []byte(`{"result":1}`))
	c := testClient(t, f.URL)
	s := platform.Send{To: "open-1", TemplateID: "tmpl-1", Page: "pages/a?x=1&y=<2>",
		Data: map[string]string{"thing01": "会员卡 & <礼品>", "number01": "3.5"}}
	if _, err := c.Send(context.Background(), s); err != nil {
		t.Fatalf("Send: %v", err)
	}
	last := f.Last()
	if last.URL != pathSend {
		t.Errorf("send URL = %q, want %q with no query", last.URL, pathSend)
	}
	want := map[string]string{"app_id": testAppID, "access_token": fakeToken, "template_id": "tmpl-1", "to_user": "open-1", "page": s.Page}
	for k, v := range want {
		if got := last.Form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	raw := last.Form.Get("data")
	if strings.Contains(raw, `\u0026`) || strings.Contains(raw, `\u003c`) {
		t.Errorf("data %s escapes HTML characters", raw)
	}
	var data map[string]struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal([]byte(raw), &data); err != nil {
		t.Fatalf("data %q is not JSON: %v", raw, err)
	}
	if len(data) != 2 || data["thing01"].Value != s.Data["thing01"] || data["number01"].Value != "3.5" {
		t.Errorf("data = %+v, want %v as {value}", data, s.Data)
	}
}

func TestHTTPAnswers(t *testing.T) {
	t.Parallel()
	cases := []platformtest.HTTPCase{
		{Name: "429 with Retry-After", Answer: platformtest.Answer{Status: 429, Header: http.Header{"Retry-After": {"7"}}},
			WantClass: message.OutcomeThrottled, WantCode: "http 429", WantRetryAfter: 7 * time.Second},
		{Name: "500", Answer: platformtest.Answer{Status: 500},
			WantClass: message.OutcomeRetryable, WantCode: "http 500"},
		{Name: "404 page", Answer: platformtest.Answer{Status: 404, Body: []byte(`<html>not found</html>`)},
			WantClass: message.OutcomeRetryable, WantCode: "http 404"},
		{Name: "answer too large", Answer: platformtest.Answer{Status: 200, Body: []byte(`{"result":1,"x":"` + strings.Repeat("a", call.MaxAnswer) + `"}`)},
			WantClass: message.OutcomeRetryable, WantCode: call.CodeMalformed},
	}
	platformtest.HTTPAnswers(t, cases, func(t *testing.T, a platformtest.Answer) error {
		f := newFake(t, a.Status, a.Header, a.Body)
		_, err := testClient(t, f.URL).Send(context.Background(), platform.Send{To: "o1", TemplateID: "t", Page: "p"})
		return err
	}, checkError)
}

func FuzzParseSend(f *testing.F) {
	for _, s := range []string{
		`{"result":1}`, `{"result":100200101,"error":"invalid_client","error_msg":"x"}`, `{"result":"1"}`,
		`{"result":100200100,"error_msg":"` + testSecret + `"}`, `{"result":1.5}`, `null`, `[]`, ``, `{"result":"x"}`,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		perr := c.parseSend(body)
		if perr != nil {
			checkError(t, perr)
			return
		}
		// Success needs result 1, nothing else.
		var a answer
		if json.Unmarshal(body, &a) != nil {
			t.Fatalf("%q is not JSON, yet parsed as success", body)
		}
		if n, ok := call.Number(a.Result); !ok || n != 1 {
			t.Fatalf("%q parsed as success without result 1", body)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		`{"result":1,"access_token":"tok","expires_in":172800}`, `{"result":100200101,"error_msg":"验证出错"}`,
		`{"result":1,"access_token":"","expires_in":-5}`, `{"result":1,"access_token":"t","expires_in":1e30}`,
		`{"result":1,"access_token":"t","expires_in":"-1"}`,
	} {
		f.Add([]byte(s))
	}
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, life, err := c.parseToken(body)
		if err != nil {
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			return
		}
		if tok == "" || life <= 0 || life > maxTokenLife {
			t.Fatalf("success without a usable token: %q, %s", tok, life)
		}
	})
}

// FuzzSendAnswer drives Send against any status and body the platform (or
// a proxy in front of it) might answer, through one client on an
// in-memory transport (no socket per input).
func FuzzSendAnswer(f *testing.F) {
	f.Add(uint16(200), []byte(`{"result":1}`))
	f.Add(uint16(302), []byte(`<html>302</html>`))
	f.Add(uint16(0), []byte(`{"result":100200101}`))
	f.Add(uint16(229), []byte{})
	canned := platformtest.NewCanned(pathToken, `{"result":1,"access_token":"`+fakeToken+`","expires_in":172800,"token_type":"bearer"}`)
	c, err := New(Config{AppID: testAppID, Secret: testSecret, BaseURL: "http://kuaishou.test", HTTPClient: canned.Client()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := 200 + int(status)%400 // 200..599
		canned.Set(platformtest.Answer{Status: code, Body: body})
		_, err := c.Send(context.Background(), platform.Send{To: "o1", TemplateID: "t", Page: "p", Data: map[string]string{"thing01": "x"}})
		if err != nil {
			perr := platformtest.AsError(t, err)
			checkError(t, perr)
			return
		}
		if code < 200 || code > 299 {
			t.Fatalf("status %d answered success", code)
		}
	})
}
