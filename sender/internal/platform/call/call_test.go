package call_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

const (
	secret = "app-secret-0123456789"
	token  = "access-token-9876543210"
)

// answering is a server answering every request with status, header and
// body.
func answering(t *testing.T, status int, header http.Header, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newClient(hc *http.Client) *call.Client {
	return call.New("test", hc, call.NewScrubber(secret))
}

func TestDoAnswers(t *testing.T) {
	t.Parallel()
	oauth := func(status int) bool { return status == 200 || status == 400 }
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		answers    func(int) bool
		anyStatus  bool
		wantStatus int // 0: an error
		wantCode   string
		wantClass  message.Outcome
		wantRetry  time.Duration
	}{
		{name: "200", status: 200, body: `{}`, wantStatus: 200},
		{name: "204", status: 204, wantStatus: 204},
		{name: "500", status: 500, body: `{}`, wantCode: "http 500", wantClass: message.OutcomeRetryable},
		{name: "429 with Retry-After", status: 429, header: http.Header{"Retry-After": {" 7 "}},
			wantCode: "http 429", wantClass: message.OutcomeThrottled, wantRetry: 7 * time.Second},
		{name: "Retry-After as a date is ignored", status: 503, header: http.Header{"Retry-After": {"Wed, 21 Oct 2015 07:28:00 GMT"}},
			wantCode: "http 503", wantClass: message.OutcomeRetryable},
		{name: "400 read as an answer", status: 400, body: `{"error":"x"}`, answers: oauth, wantStatus: 400},
		{name: "401 not in Answers", status: 401, answers: oauth, wantCode: "http 401", wantClass: message.OutcomeRetryable},
		{name: "any status", status: 401, body: `{"code":401}`, anyStatus: true, wantStatus: 401},
		{name: "too large", status: 200, body: strings.Repeat("a", call.MaxAnswer+1),
			wantCode: call.CodeMalformed, wantClass: message.OutcomeRetryable},
		{name: "too large under an error status", status: 502, body: strings.Repeat("a", call.MaxAnswer+1), anyStatus: true,
			wantCode: "http 502", wantClass: message.OutcomeRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := answering(t, tt.status, tt.header, tt.body)
			a, perr := newClient(nil).Do(context.Background(), call.Request{URL: srv.URL + "/x", Name: "/x",
				Answers: tt.answers, AnyStatus: tt.anyStatus})
			if tt.wantStatus != 0 {
				if perr != nil || a.Status != tt.wantStatus || string(a.Body) != tt.body {
					t.Fatalf("Do = %+v, %v; want status %d", a, perr, tt.wantStatus)
				}
				return
			}
			if perr == nil || perr.Code != tt.wantCode || perr.Class != tt.wantClass || perr.RetryAfter != tt.wantRetry ||
				perr.Platform != "test" || perr.Message == "" {
				t.Fatalf("Do error = %#v; want %s %s RetryAfter %s", perr, tt.wantCode, tt.wantClass, tt.wantRetry)
			}
		})
	}
}

// TestDoRequest: what goes on the wire.
func TestDoRequest(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		body = make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
	}))
	t.Cleanup(srv.Close)
	c := newClient(nil)
	if _, perr := c.PostJSON(context.Background(), call.Request{URL: srv.URL + "/j?a=1", Name: "/j",
		Header: http.Header{"X-Token": {token}}}, map[string]string{"page": "a?x=1&y=<2>", "text": "好"}); perr != nil {
		t.Fatal(perr)
	}
	if got.Method != http.MethodPost || got.URL.RawQuery != "a=1" || got.Header.Get("Content-Type") != "application/json" ||
		got.Header.Get("Accept") != "application/json" || got.Header.Get("X-Token") != token {
		t.Errorf("request %s %s, header %v", got.Method, got.URL, got.Header)
	}
	if string(body) != `{"page":"a?x=1&y=<2>","text":"好"}`+"\n" {
		t.Errorf("body %q: want unescaped JSON ending in a newline", body)
	}
	if _, perr := c.PostForm(context.Background(), call.Request{URL: srv.URL, Name: "/f", Accept: "text/plain"},
		url.Values{"b": {"2"}, "a": {"1 &"}}); perr != nil {
		t.Fatal(perr)
	}
	if got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || got.Header.Get("Accept") != "text/plain" ||
		string(body) != "a=1+%26&b=2" {
		t.Errorf("form request: header %v, body %q", got.Header, body)
	}
	if _, perr := c.Do(context.Background(), call.Request{Method: http.MethodGet, URL: srv.URL, Name: "/g"}); perr != nil {
		t.Fatal(perr)
	}
	if got.Method != http.MethodGet || got.ContentLength != 0 || got.Header.Get("Content-Type") != "" {
		t.Errorf("GET: %s, length %d, header %v", got.Method, got.ContentLength, got.Header)
	}
}

// TestFailuresCarryNoCredential: Go's *url.Error prints the URL, whose
// query may hold the token or the secret; every failure is classified and
// scrubbed.
func TestFailuresCarryNoCredential(t *testing.T) {
	t.Parallel()
	query := "?access_token=" + token + "&secret=" + secret
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	tests := []struct {
		name     string
		hc       *http.Client
		req      call.Request
		body     any
		wantCode string
	}{
		{name: "refused", req: call.Request{URL: closed + "/t" + query, Name: "/t", Token: token}, wantCode: call.CodeNetwork},
		{name: "timeout", hc: &http.Client{Timeout: 100 * time.Millisecond},
			req: call.Request{URL: slow.URL + "/t" + query, Name: "/t", Token: token}, wantCode: call.CodeTimeout},
		{name: "unbuildable", req: call.Request{URL: "http://x/\x7f" + query, Name: "/t", Token: token}, wantCode: call.CodeNetwork},
		{name: "unencodable", req: call.Request{URL: closed, Name: "/t", Token: token}, body: map[string]any{token: func() {}},
			wantCode: call.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(tt.hc)
			var perr *platform.Error
			if tt.body != nil {
				_, perr = c.PostJSON(context.Background(), tt.req, tt.body)
			} else {
				_, perr = c.Do(context.Background(), tt.req)
			}
			if perr == nil || perr.Code != tt.wantCode || perr.Platform != "test" || perr.Message == "" {
				t.Fatalf("error %#v, want code %s", perr, tt.wantCode)
			}
			for _, text := range []string{perr.Error(), fmt.Sprintf("%#v", perr)} {
				if strings.Contains(text, token) || strings.Contains(text, secret) || strings.Contains(text, "access_token=") {
					t.Errorf("error %q carries a credential or the URL", text)
				}
			}
		})
	}
}

func TestScrubber(t *testing.T) {
	t.Parallel()
	text := "bad " + secret + " " + token + " access_token=abc&app_secret=def client_secret=ghi"
	got := call.NewScrubber(secret).Scrub(text, token, "")
	if want := "bad REDACTED REDACTED access_token=REDACTED&app_secret=REDACTED client_secret=REDACTED"; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
	fields := regexp.MustCompile(`(?i)(x-token)(:\s*)\S*`)
	if got := call.NewScrubber("").WithFields(fields, "${1}${2}REDACTED").Scrub("X-Token: abc access_token=x"); got != "X-Token: REDACTED access_token=x" {
		t.Errorf("custom fields: %q", got)
	}
	if got := (call.Scrubber{}).Scrub(text, ""); got != text {
		t.Errorf("the zero Scrubber changed %q to %q", text, got)
	}
}

func TestJSONText(t *testing.T) {
	t.Parallel()
	got, err := call.JSONText(map[string]map[string]string{"thing1": {"value": "会员卡 & <礼品>"}})
	if err != nil || got != `{"thing1":{"value":"会员卡 & <礼品>"}}` {
		t.Fatalf("JSONText = %q, %v", got, err)
	}
	if _, err := call.JSONText(func() {}); err == nil {
		t.Fatal("JSONText of a func succeeded")
	}
}

func FuzzNumber(f *testing.F) {
	for _, s := range []string{`1`, `"12"`, `" 7 "`, `-5`, `1.5`, `1e3`, `"x"`, `null`, `9223372036854775808`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		n, ok := call.Number(raw)
		if !ok {
			return
		}
		// What was read reads back the same as a JSON number and as text.
		for _, again := range []string{strconv.FormatInt(n, 10), strconv.Quote(strconv.FormatInt(n, 10))} {
			if m, ok := call.Number(json.RawMessage(again)); !ok || m != n {
				t.Fatalf("Number(%q) = %d, but Number(%s) = %d, %t", raw, n, again, m, ok)
			}
		}
		_ = call.Text(json.RawMessage(raw))
	})
}

func ExampleScrubber_Scrub() {
	s := call.NewScrubber("app-secret")
	fmt.Println(s.Scrub(`invalid app-secret for access_token=86_abc (token 86_def)`, "86_def"))
	// Output: invalid REDACTED for access_token=REDACTED (token REDACTED)
}

func ExampleClient_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()

	c := call.New("wechat", nil, call.NewScrubber("app-secret"))
	_, perr := c.Do(context.Background(), call.Request{URL: srv.URL + "/cgi-bin/token?secret=app-secret", Name: "/cgi-bin/token"})
	fmt.Println(perr.Code, perr.Class, perr.RetryAfter)
	// Output: http 429 throttled 30s
}
