package wechat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/platform/wechat"
	"github.com/minipush/minipush/sender/internal/tokens"
)

const (
	appID       = "wx0123456789abcdef"
	secret      = "0123456789abcdef0123456789abcdef"
	wrongSecret = "fedcba9876543210fedcba9876543210"
	templateID  = "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc"
	userOnce    = "o7esq5OI1Uej6Xixw1lA2H7XDVbc" // 5 one-time grants
	userLong    = "o7esq5OI1Uej6Xixw1lA2H7XDlng" // a long-term grant
	userNone    = "o7esq5OI1Uej6Xixw1lA2H7XDnon" // registered, no grant
	page        = "pages/order/detail"
)

func seed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformWeChat, AppID: appID, Secret: secret,
		Pages: []string{"pages/index/index", page},
		Users: []string{userOnce, userLong, userNone},
		Templates: []mockapi.Template{{TemplateID: templateID, Title: "订单发货通知",
			Keywords: []string{"thing1", "time2"}}},
		Grants: []mockapi.Grant{
			{OpenID: userOnce, TemplateID: templateID, Count: 5},
			{OpenID: userLong, TemplateID: templateID, LongTerm: true},
		},
	}}}
}

func okSend(to string) platform.Send {
	return platform.Send{To: to, TemplateID: templateID, Page: page + "?id=42&from=push",
		Data: map[string]string{"thing1": "订单已发货", "time2": "2025年3月1日 15:01"}}
}

// harness is the shared harness with this package's client.
type harness struct{ *platformtest.Harness }

func start(t *testing.T) *harness {
	t.Helper()
	return &harness{platformtest.Start(t, platformtest.Setup{Platform: mockapi.PlatformWeChat, Seed: seed(),
		Secrets: []string{secret, wrongSecret}})}
}

func (h *harness) config() wechat.Config {
	return wechat.Config{AppID: appID, Secret: secret, BaseURL: h.Mock.URL, HTTPClient: h.HTTP}
}

func (h *harness) client(cfg wechat.Config, opts ...platform.Option) *wechat.Client {
	h.T.Helper()
	c, err := wechat.New(cfg, h.Store, opts...)
	return platformtest.Must(h.T, c, err)
}

// otherInstance fetches a token the way a second service holding the same
// secret would, and returns it.
func (h *harness) otherInstance(legacy, force bool) string {
	h.T.Helper()
	var resp *http.Response
	var err error
	if legacy {
		q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}
		resp, err = h.HTTP.Get(h.Mock.URL + "/cgi-bin/token?" + q.Encode())
	} else {
		body := fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q,"force_refresh":%t}`, appID, secret, force)
		resp, err = h.HTTP.Post(h.Mock.URL+"/cgi-bin/stable_token", "application/json", strings.NewReader(body))
	}
	if err != nil {
		h.T.Fatalf("other instance token call: %v", err)
	}
	defer resp.Body.Close()
	var a struct {
		AccessToken string `json:"access_token"`
		ErrCode     int    `json:"errcode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.AccessToken == "" {
		h.T.Fatalf("other instance token call: errcode %d, %v", a.ErrCode, err)
	}
	h.Store.Saw(a.AccessToken)
	return a.AccessToken
}

func TestSendDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		state, lang         string
		wantState, wantLang string
	}{
		{name: "platform defaults", wantState: "formal", wantLang: "zh_CN"},
		{name: "trial in English", state: "trial", lang: "en_US", wantState: "trial", wantLang: "en_US"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config()
			cfg.MiniprogramState, cfg.Lang = tt.state, tt.lang
			c := h.client(cfg)
			s := okSend(userOnce)
			res, err := h.Send(c, s)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			inbox, err := h.Mock.Control.Messages(context.Background(), mockclient.MessageFilter{AppID: appID})
			if err != nil || len(inbox.Messages) != 1 {
				t.Fatalf("inbox: %d messages, %v; want 1", len(inbox.Messages), err)
			}
			m := inbox.Messages[0]
			if res.MsgID == "" || res.MsgID != m.MsgID {
				t.Errorf("MsgID = %q, inbox msgid = %q", res.MsgID, m.MsgID)
			}
			// The mock's ids exceed 2^53: a float64 decode would lose digits.
			if n, err := strconv.ParseInt(res.MsgID, 10, 64); err != nil || n <= 1<<53 {
				t.Errorf("MsgID %q is not an int64 above 2^53", res.MsgID)
			}
			if m.OpenID != s.To || m.TemplateID != templateID || m.Page != s.Page ||
				m.Data["thing1"] != s.Data["thing1"] || m.Data["time2"] != s.Data["time2"] {
				t.Errorf("inbox message %+v does not match the send %+v", m, s)
			}
			if m.State != tt.wantState || m.Lang != tt.wantLang {
				t.Errorf("state/lang = %s/%s, want %s/%s", m.State, m.Lang, tt.wantState, tt.wantLang)
			}
		})
	}
}

func TestTokenCachedAndPersisted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		legacy   bool
		endpoint string
	}{
		{name: "stable token", endpoint: "stable_token"},
		{name: "legacy token", legacy: true, endpoint: "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config()
			cfg.LegacyToken = tt.legacy
			var fetches int
			var mu sync.Mutex
			c := h.client(cfg, platform.WithTokenOptions(tokens.WithOnFetch(func(error) {
				mu.Lock()
				fetches++
				mu.Unlock()
			})))
			for i := range 10 {
				if _, err := h.Send(c, okSend(userLong)); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			if n := h.Calls(tt.endpoint); n != 1 {
				t.Fatalf("token calls for 10 sends = %d, want 1", n)
			}
			mu.Lock()
			if fetches != 1 {
				t.Errorf("OnFetch saw %d fetches, want 1", fetches)
			}
			mu.Unlock()

			// A restart: a new client over the same store reuses the token.
			restarted := h.client(cfg)
			if _, err := h.Send(restarted, okSend(userLong)); err != nil {
				t.Fatalf("send after restart: %v", err)
			}
			if n := h.Calls(tt.endpoint); n != 1 {
				t.Fatalf("token calls after a restart = %d, want still 1", n)
			}
			if n := h.Calls("subscribe_send", 0); n != 11 {
				t.Fatalf("delivered sends = %d, want 11", n)
			}
		})
	}
}

// TestTokenRejectedRecovers: the platform rejects the cached token; the
// client drops it, fetches once and the send succeeds on the retry.
func TestTokenRejectedRecovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		legacy   bool
		endpoint string
		reject   func(h *harness)
		wantCode int
		// token calls in the journal at the end, ours and the other
		// instance's
		wantTokenCalls int
	}{
		{
			name: "expired after 7200 s", endpoint: "stable_token", wantCode: 42001, wantTokenCalls: 2,
			reject: func(h *harness) { h.Advance(7201 * time.Second) },
		},
		{
			name: "stable token force-refreshed twice by another instance", endpoint: "stable_token",
			wantCode: 40001, wantTokenCalls: 4,
			// The doc's leak procedure: two forced refreshes 30 s apart
			// kill the previous token at once.
			reject: func(h *harness) {
				h.otherInstance(false, true)
				h.Advance(30 * time.Second)
				h.otherInstance(false, true)
			},
		},
		{
			name: "legacy token replaced by another instance's fetch", legacy: true, endpoint: "token",
			wantCode: 40001, wantTokenCalls: 3,
			// Each /cgi-bin/token call kills the previous token 5 minutes
			// later: why the stable token is the default.
			reject: func(h *harness) {
				h.otherInstance(true, false)
				h.Advance(5*time.Minute + time.Second)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config()
			cfg.LegacyToken = tt.legacy
			c := h.client(cfg)
			if _, err := h.Send(c, okSend(userLong)); err != nil {
				t.Fatalf("first send: %v", err)
			}
			tt.reject(h)
			res, err := h.Send(c, okSend(userLong))
			if err != nil {
				t.Fatalf("send after the token was rejected: %v", err)
			}
			if res.MsgID == "" {
				t.Error("no msgid after recovery")
			}
			if n := h.Calls("subscribe_send", tt.wantCode); n != 1 {
				t.Errorf("sends answered %d = %d, want 1", tt.wantCode, n)
			}
			if n := h.Calls("subscribe_send", 0); n != 2 {
				t.Errorf("delivered sends = %d, want 2", n)
			}
			if n := h.Calls(tt.endpoint); n != tt.wantTokenCalls {
				t.Errorf("token calls = %d, want %d", n, tt.wantTokenCalls)
			}
		})
	}
}

func TestConcurrentSendsShareOneTokenFetch(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	const n = 100
	h.SendConcurrently(c, n, func(int) platform.Send { return okSend(userLong) })
	if got := h.Calls("stable_token"); got != 1 {
		t.Fatalf("token calls for %d concurrent sends with an empty cache = %d, want 1", n, got)
	}
	if got := h.Calls("subscribe_send", 0); got != n {
		t.Fatalf("delivered = %d, want %d", got, n)
	}
}

// TestConcurrentRejectionsRefetchOnce: many sends fail with the same stale
// token at once; the token is fetched again once, not once per send.
func TestConcurrentRejectionsRefetchOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	if _, err := h.Send(c, okSend(userLong)); err != nil {
		t.Fatalf("first send: %v", err)
	}
	h.Advance(7201 * time.Second)
	const n = 50
	h.SendConcurrently(c, n, func(int) platform.Send { return okSend(userLong) })
	if got := h.Calls("stable_token"); got != 2 {
		t.Fatalf("token calls = %d, want 2 (the first and one refetch for %d rejections)", got, n)
	}
}

func intp(n int) *int { return &n }

func TestClassification(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		cfg       func(*wechat.Config)
		setup     func(h *harness)
		send      platform.Send
		wantClass message.Outcome
		wantCode  string
		// wantRetryAfter bounds RetryAfter: [min, max].
		wantRetryAfter [2]time.Duration
	}{
		// Send answers, injected.
		{name: "system busy", setup: sendFault(mockapi.Fault{ErrCode: intp(-1), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "-1"},
		{name: "daily quota", setup: sendFault(mockapi.Fault{ErrCode: intp(45009), Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "45009", wantRetryAfter: [2]time.Duration{time.Minute, day}},
		{name: "minute quota", setup: sendFault(mockapi.Fault{ErrCode: intp(45011), Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "45011", wantRetryAfter: [2]time.Duration{time.Minute, time.Minute}},
		{name: "concurrent send to one user", setup: sendFault(mockapi.Fault{ErrCode: intp(43108), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "43108"},
		{name: "capability banned", setup: sendFault(mockapi.Fault{ErrCode: intp(43107), Times: 1}),
			wantClass: message.OutcomePermanent, wantCode: "43107"},
		{name: "sensitive word", setup: sendFault(mockapi.Fault{ErrCode: intp(45168), Times: 1}),
			wantClass: message.OutcomePermanent, wantCode: "45168"},
		{name: "unknown errcode", setup: sendFault(mockapi.Fault{ErrCode: intp(99999), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "99999"},
		{name: "http 502", setup: sendFault(mockapi.Fault{HTTPStatus: 502, Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "http 502"},
		{name: "http 429", setup: sendFault(mockapi.Fault{HTTPStatus: 429, Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "http 429"},
		{name: "dropped connection", setup: sendFault(mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "timeout",
			cfg:       func(c *wechat.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} },
			setup:     sendFault(mockapi.Fault{Latency: mockapi.Duration(3 * time.Second), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "timeout"},
		{name: "token rejected twice", setup: sendFault(mockapi.Fault{ErrCode: intp(40001), Times: 2}),
			wantClass: message.OutcomeToken, wantCode: "40001"},

		// Send answers, real.
		{name: "no subscription", send: okSend(userNone), wantClass: message.OutcomePermanent, wantCode: "43101"},
		{name: "unknown openid", send: okSend("o7esq5OI1Uej6Xixw1lA2H7XDxxx"), wantClass: message.OutcomePermanent, wantCode: "40003"},
		{name: "unknown template", send: platform.Send{To: userLong, TemplateID: "nope", Data: okSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "40037"},
		{name: "empty keyword", send: platform.Send{To: userLong, TemplateID: templateID, Data: map[string]string{"thing1": "", "time2": "15:01"}},
			wantClass: message.OutcomePermanent, wantCode: "47003"},
		{name: "page not published", send: platform.Send{To: userLong, TemplateID: templateID, Page: "pages/gone", Data: okSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "41030"},

		// Token endpoint answers.
		{name: "token: wrong secret", cfg: func(c *wechat.Config) { c.Secret = wrongSecret },
			wantClass: message.OutcomeCredentials, wantCode: "40125"},
		{name: "legacy token: wrong secret", cfg: func(c *wechat.Config) { c.Secret, c.LegacyToken = wrongSecret, true },
			wantClass: message.OutcomeCredentials, wantCode: "40125"},
		{name: "token: unknown appid", cfg: func(c *wechat.Config) { c.AppID = "wxffffffffffffffff" },
			wantClass: message.OutcomeCredentials, wantCode: "40013"},
		{name: "token: IP not whitelisted", setup: func(h *harness) {
			h.T.Helper()
			if _, err := h.Mock.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformWeChat, AppID: appID,
				Secret: secret, IPWhitelist: []string{"203.0.113.7"}}); err != nil {
				h.T.Fatalf("add app: %v", err)
			}
		}, wantClass: message.OutcomeCredentials, wantCode: "40164"},
		{name: "token: system busy", setup: tokenFault("stable_token", mockapi.Fault{ErrCode: intp(-1)}),
			wantClass: message.OutcomeRetryable, wantCode: "-1"},
		{name: "token: daily quota", setup: tokenFault("stable_token", mockapi.Fault{ErrCode: intp(45009)}),
			wantClass: message.OutcomeThrottled, wantCode: "45009", wantRetryAfter: [2]time.Duration{time.Minute, day}},
		{name: "token: http 503", setup: tokenFault("stable_token", mockapi.Fault{HTTPStatus: 503}),
			wantClass: message.OutcomeRetryable, wantCode: "http 503"},
		{name: "token: dropped", setup: tokenFault("stable_token", mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		// GET /cgi-bin/token carries the secret in its URL, which Go's
		// transport errors print: the harness checks it is stripped.
		{name: "legacy token: dropped", cfg: func(c *wechat.Config) { c.LegacyToken = true },
			setup:     tokenFault("token", mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "legacy token: timeout",
			cfg: func(c *wechat.Config) {
				c.LegacyToken, c.HTTPClient = true, &http.Client{Timeout: 300 * time.Millisecond}
			},
			setup:     tokenFault("token", mockapi.Fault{Latency: mockapi.Duration(3 * time.Second)}),
			wantClass: message.OutcomeRetryable, wantCode: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			if tt.setup != nil {
				tt.setup(h)
			}
			s := tt.send
			if s.To == "" {
				s = okSend(userLong)
			}
			_, err := h.Send(h.client(cfg), s)
			platformtest.SendError(t, err, platformtest.Want{Platform: wechat.Platform,
				Class: tt.wantClass, Code: tt.wantCode, RetryAfter: tt.wantRetryAfter})
			if strings.Contains(err.Error(), "access_token=") && !strings.Contains(err.Error(), "access_token=REDACTED") {
				t.Errorf("error %q carries a token parameter", err)
			}
		})
	}
}

func sendFault(f mockapi.Fault) func(h *harness) {
	return func(h *harness) {
		f.Endpoint = "subscribe_send"
		h.Fault(f)
	}
}

func tokenFault(endpoint string, f mockapi.Fault) func(h *harness) {
	return func(h *harness) {
		f.Endpoint = endpoint
		h.Fault(f)
	}
}

// TestTokenRejectedTwice: the retry after a refetch also fails: the class
// is token, and exactly one refetch happened.
func TestTokenRejectedTwiceRefetchesOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	sendFault(mockapi.Fault{ErrCode: intp(42001), Times: 2})(h)
	_, err := h.Send(c, okSend(userLong))
	if platform.Classify(err) != message.OutcomeToken {
		t.Fatalf("Send: %v, want class token", err)
	}
	if n := h.Calls("subscribe_send"); n != 2 {
		t.Errorf("send calls = %d, want 2 (one retry)", n)
	}
	if n := h.Calls("stable_token"); n != 2 {
		t.Errorf("token calls = %d, want 2 (one refetch)", n)
	}
	// The fault is spent; the stable token the platform handed back works.
	if _, err := h.Send(c, okSend(userLong)); err != nil {
		t.Fatalf("next send: %v", err)
	}
}

func TestCheckContent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("好", 2600) + "炸弹"
	tests := []struct {
		name      string
		texts     []string
		wantRisky bool
		wantLabel string
		wantCalls int
	}{
		{name: "pass", texts: []string{"订单已发货", "明天送达"}, wantLabel: "100", wantCalls: 1},
		{name: "risky with label", texts: []string{"订单已发货", "买炸弹"}, wantRisky: true, wantLabel: "20006", wantCalls: 1},
		{name: "review is not risky", texts: []string{"彩票中奖"}, wantLabel: "10001", wantCalls: 1},
		{name: "official test string", texts: []string{"特3456书yuuo莞6543李zxcz蒜7782法fgnv级"}, wantRisky: true, wantLabel: "20006", wantCalls: 1},
		{name: "long text in pieces", texts: []string{long}, wantRisky: true, wantLabel: "20006", wantCalls: 2},
		{name: "nothing to check", texts: []string{"", "  "}, wantLabel: "100", wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			h.ContentRules(mockapi.ContentRules{
				Risky: []mockapi.ContentWord{
					{Word: "炸弹", Label: 20006},
					{Word: "特3456书yuuo莞6543李zxcz蒜7782法fgnv级", Label: 20006},
				},
				Review: []mockapi.ContentWord{{Word: "彩票", Label: 10001}},
			})
			c := h.client(h.config())
			v, err := h.Check(c, userOnce, tt.texts...)
			if err != nil {
				t.Fatalf("CheckContent: %v", err)
			}
			if v.Risky != tt.wantRisky || v.Label != tt.wantLabel {
				t.Errorf("verdict = %+v, want risky %t label %q", v, tt.wantRisky, tt.wantLabel)
			}
			if n := h.Calls("msg_sec_check"); n != tt.wantCalls {
				t.Errorf("msg_sec_check calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestCheckContentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		to        string
		setup     func(h *harness)
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "unknown openid", to: "o7esq5OI1Uej6Xixw1lA2H7XDxxx", wantClass: message.OutcomePermanent, wantCode: "40003"},
		{name: "minute frequency", to: userOnce, setup: tokenFault("msg_sec_check", mockapi.Fault{ErrCode: intp(44991)}),
			wantClass: message.OutcomeThrottled, wantCode: "44991"},
		{name: "token expired twice", to: userOnce, setup: tokenFault("msg_sec_check", mockapi.Fault{ErrCode: intp(42001)}),
			wantClass: message.OutcomeToken, wantCode: "42001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			_, err := h.Check(h.client(h.config()), tt.to, []string{"订单已发货"}...)
			var pe *platform.Error
			if !errors.As(err, &pe) || pe.Class != tt.wantClass || pe.Code != tt.wantCode {
				t.Fatalf("CheckContent error = %v, want %s %s", err, tt.wantClass, tt.wantCode)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	good := wechat.Config{AppID: appID, Secret: secret}
	tests := []struct {
		name    string
		mutate  func(*wechat.Config)
		wantErr string // a word the error must name; "" for success
	}{
		{name: "valid", mutate: func(*wechat.Config) {}},
		{name: "no app id", mutate: func(c *wechat.Config) { c.AppID = "" }, wantErr: "app id"},
		{name: "bad app id", mutate: func(c *wechat.Config) { c.AppID = "wx 1" }, wantErr: "app id"},
		{name: "no secret", mutate: func(c *wechat.Config) { c.Secret = "" }, wantErr: "secret"},
		{name: "bad base URL", mutate: func(c *wechat.Config) { c.BaseURL = "ftp://x" }, wantErr: "base URL"},
		{name: "base URL with query", mutate: func(c *wechat.Config) { c.BaseURL = "http://x/?a=b" }, wantErr: "base URL"},
		{name: "bad state", mutate: func(c *wechat.Config) { c.MiniprogramState = "beta" }, wantErr: "miniprogram state"},
		{name: "bad lang", mutate: func(c *wechat.Config) { c.Lang = "fr" }, wantErr: "lang"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.mutate(&cfg)
			c, err := wechat.New(cfg, nil)
			platformtest.CheckNewError(t, err, tt.wantErr, secret)
			if tt.wantErr == "" && c.AppID() != appID {
				t.Fatalf("AppID = %q", c.AppID())
			}
		})
	}
}

func TestConfigRedactsSecret(t *testing.T) {
	t.Parallel()
	cfg := wechat.Config{AppID: appID, Secret: secret}
	platformtest.CheckRedacted(t, cfg, appID, secret)
}
