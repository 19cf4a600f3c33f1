package kuaishou_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/kuaishou"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// The mock's endpoint names (docs/mock-kuaishou.md).
const (
	epToken = "token"
	epSend  = "template_send"
)

// The mock's result codes, as the journal records them (0 for success).
const (
	resultBadParam      = 100200100
	resultAuth          = 100200101
	resultNotSubscribed = 100200110
)

const (
	appID       = "ks707065143182458884"
	secret      = "KS-SECRET-9VfzaT7Jf1bBHvveFZfg0123456789"
	wrongSecret = "KS-WRONG-SECRET-aaaabbbbccccddddeeee999"
	templateID  = "tmpl-order-shipped"
	userOnce    = "f18d3d7f1b8c4e0c9e8c1a2b3c4d5e6f" // 5 one-time grants
	userLong    = "f18d3d7f1b8c4e0c9e8c1a2b3c4d5e71" // a long-term grant
	userNone    = "f18d3d7f1b8c4e0c9e8c1a2b3c4d5e70" // registered, no grant
	page        = "pages/order/detail"
)

func seed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformKuaishou, AppID: appID, Secret: secret,
		Pages: []string{"pages/index/index", page},
		Users: []string{userOnce, userLong, userNone},
		Templates: []mockapi.Template{{TemplateID: templateID, Title: "订单发货通知",
			Keywords: []string{"thing01", "thing02", "date01", "amount01"}}},
		Grants: []mockapi.Grant{
			{OpenID: userOnce, TemplateID: templateID, Count: 5},
			{OpenID: userLong, TemplateID: templateID, LongTerm: true},
		},
	}}}
}

func okSend(to string) platform.Send {
	return platform.Send{To: to, TemplateID: templateID, Page: page + "?id=42&from=push",
		Data: map[string]string{"thing01": "会员卡", "thing02": "顺丰速运", "date01": "2020年02月25号", "amount01": "199"}}
}

// harness is the shared harness with this package's client.
type harness struct{ *platformtest.Harness }

func start(t *testing.T) *harness {
	t.Helper()
	return &harness{platformtest.Start(t, platformtest.Setup{Platform: mockapi.PlatformKuaishou, Seed: seed(),
		Secrets: []string{secret, wrongSecret}})}
}

func (h *harness) config() kuaishou.Config {
	return kuaishou.Config{AppID: appID, Secret: secret, BaseURL: h.Mock.URL, HTTPClient: h.HTTP}
}

func (h *harness) client(cfg kuaishou.Config, opts ...platform.Option) *kuaishou.Client {
	h.T.Helper()
	c, err := kuaishou.New(cfg, h.Store, opts...)
	return platformtest.Must(h.T, c, err)
}

func TestSendDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		page        string // Send.Page
		defaultPage string // Config.DefaultPage
		wantPage    string
	}{
		{name: "page with query", page: page + "?id=42&from=push", wantPage: page + "?id=42&from=push"},
		{name: "default page", defaultPage: "pages/index/index", wantPage: "pages/index/index"},
		{name: "send page wins over default", page: page, defaultPage: "pages/index/index", wantPage: page},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config()
			cfg.DefaultPage = tt.defaultPage
			s := okSend(userOnce)
			s.Page = tt.page
			if _, err := h.Send(h.client(cfg), s); err != nil {
				t.Fatalf("Send: %v", err)
			}
			inbox, err := h.Mock.Control.Messages(context.Background(), mockclient.MessageFilter{Platform: mockapi.PlatformKuaishou})
			if err != nil || len(inbox.Messages) != 1 {
				t.Fatalf("inbox: %d messages, %v; want 1", len(inbox.Messages), err)
			}
			m := inbox.Messages[0]
			if m.AppID != appID || m.OpenID != s.To || m.TemplateID != templateID || m.Page != tt.wantPage {
				t.Errorf("inbox message %+v, want app %s user %s template %s page %q", m, appID, s.To, templateID, tt.wantPage)
			}
			for k, v := range s.Data {
				if m.Data[k] != v {
					t.Errorf("data[%s] = %q, want %q", k, m.Data[k], v)
				}
			}
			grants, err := h.Mock.Control.Grants(context.Background(), mockapi.PlatformKuaishou, appID, userOnce)
			if err != nil || len(grants) != 1 || grants[0].Remaining != 4 {
				t.Errorf("grants after one send = %+v, %v; want 4 remaining", grants, err)
			}
		})
	}
}

// TestTokenCachedAndPersisted: many sends cost one token call, and a
// second client sharing the store (a restart, another instance) reuses the
// persisted token instead of fetching.
func TestTokenCachedAndPersisted(t *testing.T) {
	t.Parallel()
	h := start(t)
	var mu sync.Mutex
	fetches := 0
	onFetch := platform.WithTokenOptions(tokens.WithOnFetch(func(error) {
		mu.Lock()
		fetches++
		mu.Unlock()
	}))
	first := h.client(h.config(), onFetch)
	for i := range 5 {
		if _, err := h.Send(first, okSend(userLong)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	second := h.client(h.config(), onFetch)
	for i := range 3 {
		if _, err := h.Send(second, okSend(userLong)); err != nil {
			t.Fatalf("second client, send %d: %v", i, err)
		}
	}
	if n := h.Calls(epToken); n != 1 {
		t.Errorf("token calls = %d, want 1 for 8 sends over two clients sharing a store", n)
	}
	if n := h.Calls(epSend, 0); n != 8 {
		t.Errorf("delivered sends = %d, want 8", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if fetches != 1 {
		t.Errorf("fetch hook ran %d times, want 1", fetches)
	}
	key := first.Tokens().Key()
	tok, exp, err := h.Store.Token(context.Background(), key)
	if err != nil || tok == "" {
		t.Fatalf("stored token under %q: %q, %v", key, tok, err)
	}
	// The mock issues 48 h tokens.
	if life := time.Until(exp); life < 47*time.Hour || life > 48*time.Hour {
		t.Errorf("stored token expires in %s, want about 48h", life)
	}
}

// TestTokenExpiredRecovers: the mock's clock passes the token's 48 h; the
// platform answers 100200101, and the client drops the token, fetches once
// and the retry is delivered.
func TestTokenExpiredRecovers(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	if _, err := h.Send(c, okSend(userLong)); err != nil {
		t.Fatalf("first send: %v", err)
	}
	h.Advance(48*time.Hour + time.Second)
	if _, err := h.Send(c, okSend(userLong)); err != nil {
		t.Fatalf("send after expiry: %v", err)
	}
	if n := h.Calls(epSend, resultAuth); n != 1 {
		t.Errorf("sends answered %d = %d, want 1", resultAuth, n)
	}
	if n := h.Calls(epSend, 0); n != 2 {
		t.Errorf("delivered sends = %d, want 2", n)
	}
	if n := h.Calls(epToken); n != 2 {
		t.Errorf("token calls = %d, want 2 (the first and one refetch)", n)
	}
}

// TestTokenRejectedTwiceRefetchesOnce: the retry after a refetch also
// fails; the class is token, and exactly one refetch happened.
func TestTokenRejectedTwiceRefetchesOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	h.Fault(mockapi.Fault{Endpoint: epSend, ErrCode: intp(resultAuth), Times: 2})
	_, err := h.Send(c, okSend(userLong))
	var pe *platform.Error
	if !errors.As(err, &pe) || pe.Class != message.OutcomeToken || pe.Code != "100200101" {
		t.Fatalf("Send: %v, want class token, code 100200101", err)
	}
	if n := h.Calls(epSend); n != 2 {
		t.Errorf("send calls = %d, want 2 (one retry)", n)
	}
	if n := h.Calls(epToken); n != 2 {
		t.Errorf("token calls = %d, want 2 (one refetch)", n)
	}
	if _, err := h.Send(c, okSend(userLong)); err != nil {
		t.Fatalf("next send: %v", err)
	}
}

func TestConcurrentSendsShareOneTokenFetch(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	const n = 50
	h.SendConcurrently(c, n, func(int) platform.Send { return okSend(userLong) })
	if got := h.Calls(epToken); got != 1 {
		t.Fatalf("token calls for %d concurrent sends with an empty cache = %d, want 1", n, got)
	}
	if got := h.Calls(epSend, 0); got != n {
		t.Fatalf("delivered = %d, want %d", got, n)
	}
}

// TestConcurrentRejectionsRefetchOnce: many sends fail with the same
// expired token at once; the token is fetched again once.
func TestConcurrentRejectionsRefetchOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	if _, err := h.Send(c, okSend(userLong)); err != nil {
		t.Fatalf("first send: %v", err)
	}
	h.Advance(49 * time.Hour)
	const n = 30
	h.SendConcurrently(c, n, func(int) platform.Send { return okSend(userLong) })
	if got := h.Calls(epToken); got != 2 {
		t.Fatalf("token calls = %d, want 2 (the first and one refetch for %d rejections)", got, n)
	}
}

func intp(n int) *int { return &n }

func TestClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       func(*kuaishou.Config)
		setup     func(h *harness)
		send      platform.Send
		wantClass message.Outcome
		wantCode  string
		// wantRetryAfter bounds RetryAfter: [min, max].
		wantRetryAfter [2]time.Duration
	}{
		// Send answers, real.
		{name: "not subscribed", send: okSend(userNone), wantClass: message.OutcomePermanent, wantCode: "100200110"},
		{name: "unknown user", send: okSend("f18d3d7f1b8c4e0c9e8c1a2b3c4d0000"), wantClass: message.OutcomePermanent, wantCode: "100200100"},
		{name: "unknown template", send: platform.Send{To: userLong, TemplateID: "nope", Page: page, Data: okSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "100200100"},
		{name: "keyword too long", send: platform.Send{To: userLong, TemplateID: templateID, Page: page,
			Data: map[string]string{"thing01": strings.Repeat("长", 21), "thing02": "x", "date01": "2020年02月25号", "amount01": "1"}},
			wantClass: message.OutcomePermanent, wantCode: "100200100"},
		{name: "no page", send: platform.Send{To: userLong, TemplateID: templateID, Data: okSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "100200100"},
		{name: "risky content", setup: func(h *harness) {
			h.ContentRules(mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "顺丰", Label: 20006}}})
		}, wantClass: message.OutcomePermanent, wantCode: "100200111"},
		{name: "rate limited", setup: func(h *harness) {
			h.T.Helper()
			h.Quota(epSend, 1, "minute")
			c := h.client(h.config())
			if _, err := h.Send(c, okSend(userLong)); err != nil {
				h.T.Fatalf("first send: %v", err)
			}
		}, wantClass: message.OutcomeThrottled, wantCode: "100200112", wantRetryAfter: [2]time.Duration{time.Second, time.Second}},

		// Send answers, injected.
		{name: "system error", setup: sendFault(mockapi.Fault{ErrCode: intp(100200500), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "100200500"},
		{name: "no such API", setup: sendFault(mockapi.Fault{ErrCode: intp(100200404), Times: 1}),
			wantClass: message.OutcomeCredentials, wantCode: "100200404"},
		{name: "unknown result", setup: sendFault(mockapi.Fault{ErrCode: intp(99999), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "99999"},
		{name: "http 502", setup: sendFault(mockapi.Fault{HTTPStatus: 502, Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "http 502"},
		{name: "http 429", setup: sendFault(mockapi.Fault{HTTPStatus: 429, Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "http 429"},
		{name: "dropped connection", setup: sendFault(mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "timeout",
			cfg:       func(c *kuaishou.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} },
			setup:     sendFault(mockapi.Fault{Latency: mockapi.Duration(2 * time.Second), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "timeout"},

		// Token endpoint answers.
		{name: "token: wrong secret", cfg: func(c *kuaishou.Config) { c.Secret = wrongSecret },
			wantClass: message.OutcomeCredentials, wantCode: "100200101"},
		{name: "token: unknown app", cfg: func(c *kuaishou.Config) { c.AppID = "ks700000000000009999" },
			wantClass: message.OutcomeCredentials, wantCode: "100200101"},
		{name: "token: bad param", setup: tokenFault(mockapi.Fault{ErrCode: intp(resultBadParam)}),
			wantClass: message.OutcomeCredentials, wantCode: "100200100"},
		{name: "token: rate limited", setup: tokenFault(mockapi.Fault{ErrCode: intp(100200112)}),
			wantClass: message.OutcomeThrottled, wantCode: "100200112", wantRetryAfter: [2]time.Duration{time.Second, time.Second}},
		{name: "token: system error", setup: tokenFault(mockapi.Fault{ErrCode: intp(100200500)}),
			wantClass: message.OutcomeRetryable, wantCode: "100200500"},
		{name: "token: http 503", setup: tokenFault(mockapi.Fault{HTTPStatus: 503}),
			wantClass: message.OutcomeRetryable, wantCode: "http 503"},
		// The token call carries the secret in its body: a dropped or
		// timed-out call must not print it.
		{name: "token: dropped", setup: tokenFault(mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "token: timeout",
			cfg:       func(c *kuaishou.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} },
			setup:     tokenFault(mockapi.Fault{Latency: mockapi.Duration(2 * time.Second)}),
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
			pe := platformtest.SendError(t, err, platformtest.Want{Platform: kuaishou.Platform,
				Class: tt.wantClass, Code: tt.wantCode, RetryAfter: tt.wantRetryAfter})
			if pe.Message == "" {
				t.Errorf("error %q has no message", err)
			}
		})
	}
}

func sendFault(f mockapi.Fault) func(h *harness) {
	return func(h *harness) {
		f.Endpoint = epSend
		h.Fault(f)
	}
}

func tokenFault(f mockapi.Fault) func(h *harness) {
	return func(h *harness) {
		f.Endpoint = epToken
		h.Fault(f)
	}
}

// TestFailedSendConsumesNothing: a rejected send leaves the user's
// subscription as it was, so the message can be sent again later.
func TestFailedSendConsumesNothing(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	h.Fault(mockapi.Fault{Endpoint: epSend, ErrCode: intp(100200500), Times: 1})
	if _, err := h.Send(c, okSend(userOnce)); platform.Classify(err) != message.OutcomeRetryable {
		t.Fatalf("faulted send: %v, want retryable", err)
	}
	if _, err := h.Send(c, okSend(userOnce)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	grants, err := h.Mock.Control.Grants(context.Background(), mockapi.PlatformKuaishou, appID, userOnce)
	if err != nil || len(grants) != 1 || grants[0].Remaining != 4 {
		t.Fatalf("grants = %+v, %v; want 4 remaining", grants, err)
	}
	if n := h.Calls(epSend, resultNotSubscribed); n != 0 {
		t.Errorf("%d sends refused as not subscribed", n)
	}
}

func TestCheckContentUnsupported(t *testing.T) {
	t.Parallel()
	h := start(t)
	_, err := h.client(h.config()).CheckContent(context.Background(), userOnce, []string{"订单已发货"})
	if !errors.Is(err, platform.ErrUnsupported) {
		t.Fatalf("CheckContent error = %v, want ErrUnsupported", err)
	}
	if n := h.Calls(epToken); n != 0 {
		t.Errorf("CheckContent fetched a token (%d calls)", n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	good := kuaishou.Config{AppID: appID, Secret: secret}
	tests := []struct {
		name    string
		mutate  func(*kuaishou.Config)
		wantErr string // a word the error must name; "" for success
	}{
		{name: "valid", mutate: func(*kuaishou.Config) {}},
		{name: "valid with default page", mutate: func(c *kuaishou.Config) { c.DefaultPage = "pages/index/index?a=b" }},
		{name: "no app id", mutate: func(c *kuaishou.Config) { c.AppID = " " }, wantErr: "app id"},
		{name: "bad app id", mutate: func(c *kuaishou.Config) { c.AppID = "ks1&x=2" }, wantErr: "app id"},
		{name: "no secret", mutate: func(c *kuaishou.Config) { c.Secret = "" }, wantErr: "secret"},
		{name: "bad base URL", mutate: func(c *kuaishou.Config) { c.BaseURL = "ftp://x" }, wantErr: "base URL"},
		{name: "base URL with query", mutate: func(c *kuaishou.Config) { c.BaseURL = "http://x/?a=b" }, wantErr: "base URL"},
		{name: "default page is a URL", mutate: func(c *kuaishou.Config) { c.DefaultPage = "https://x/y" }, wantErr: "default page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.mutate(&cfg)
			c, err := kuaishou.New(cfg, nil)
			platformtest.CheckNewError(t, err, tt.wantErr, secret)
			if tt.wantErr == "" && (c.AppID() != appID || c.Tokens().Key() != "kuaishou/"+appID) {
				t.Fatalf("AppID = %q, token key %q", c.AppID(), c.Tokens().Key())
			}
		})
	}
}

func TestConfigRedactsSecret(t *testing.T) {
	t.Parallel()
	cfg := kuaishou.Config{AppID: appID, Secret: secret}
	platformtest.CheckRedacted(t, cfg, appID, secret)
}
