package douyin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/douyin"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
	"github.com/minipush/minipush/sender/internal/tokens"
)

const (
	appID       = "tt0123456789abcdef"
	secret      = "0123456789abcdef0123456789abcdef01234567"
	wrongSecret = "fedcba9876543210fedcba9876543210fedcba98"
	tplOnce     = "MSG1000000000000000000000000000000000000001" // one-time 订单发货通知
	tplLong     = "MSG1000000000000000000000000000000000000002" // long-term 预约提醒
	userOnce    = "_000user_once_000000000000000000"            // 5 one-time grants of tplOnce
	userNone    = "_000user_none_000000000000000000"            // registered, no grant
	page        = "pages/order/detail"
	// users user(0)…user(users-1) hold a long-term grant of tplLong: sends
	// to distinct users keep clear of the one-per-second-per-user limit.
	users = 50
)

func user(i int) string { return fmt.Sprintf("_000user_%02d_00000000000000000000", i) }

func seed() mockapi.Seed {
	app := mockapi.App{
		Platform: mockapi.PlatformDouyin, AppID: appID, Secret: secret,
		Pages: []string{"pages/index/index", page},
		Users: []string{userOnce, userNone},
		Templates: []mockapi.Template{
			{TemplateID: tplOnce, Title: "订单发货通知", Keywords: []string{"thing1", "character_string2", "date3"},
				KeywordNames: map[string]string{"thing1": "物品名称", "character_string2": "快递单号", "date3": "发货时间"}},
			{TemplateID: tplLong, Title: "预约提醒", Type: mockapi.TemplateLongTerm, Keywords: []string{"thing1", "time2"},
				KeywordNames: map[string]string{"thing1": "预约项目", "time2": "预约时间"}},
		},
		Grants: []mockapi.Grant{{OpenID: userOnce, TemplateID: tplOnce, Count: 5}},
	}
	for i := range users {
		app.Grants = append(app.Grants, mockapi.Grant{OpenID: user(i), TemplateID: tplLong, LongTerm: true})
	}
	return mockapi.Seed{Apps: []mockapi.App{app}}
}

func orderSend(to string) platform.Send {
	return platform.Send{To: to, TemplateID: tplOnce, Page: page + "?id=42&from=push",
		Data: map[string]string{"物品名称": "机械键盘", "快递单号": "SF1234567890", "发货时间": "2025年3月14日"}}
}

func remindSend(to string) platform.Send {
	return platform.Send{To: to, TemplateID: tplLong,
		Data: map[string]string{"预约项目": "洗牙", "预约时间": "2025年3月14日 15:00"}}
}

// endpoints are the mock's journal names of the calls an API makes.
type endpoints struct{ token, send, check string }

func endpointsOf(api string) endpoints {
	if api == douyin.APIv1 {
		return endpoints{token: "token", send: "notify_v1", check: "antidirt"}
	}
	return endpoints{token: "client_token", send: "notify_v2", check: "censor"}
}

var apis = []string{douyin.APIv2, douyin.APIv1}

// harness is the shared harness with this package's client.
type harness struct{ *platformtest.Harness }

func start(t *testing.T) *harness {
	t.Helper()
	return &harness{platformtest.Start(t, platformtest.Setup{Platform: mockapi.PlatformDouyin, Seed: seed(),
		Secrets: []string{secret, wrongSecret}})}
}

func (h *harness) config(api string) douyin.Config {
	return douyin.Config{AppID: appID, Secret: secret, BaseURL: h.Mock.URL, HTTPClient: h.HTTP, API: api}
}

func (h *harness) client(cfg douyin.Config, opts ...platform.Option) *douyin.Client {
	h.T.Helper()
	c, err := douyin.New(cfg, h.Store, opts...)
	return platformtest.Must(h.T, c, err)
}

func (h *harness) contentRules() {
	h.T.Helper()
	h.ContentRules(mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "炸弹", Label: 20006}},
		Review: []mockapi.ContentWord{{Word: "彩票", Label: 10001}},
	})
}

// otherInstance fetches a token of the API's kind the way a second service
// holding the same secret would, and returns it.
func (h *harness) otherInstance(api string) string {
	h.T.Helper()
	path, body := "/oauth/client_token/", fmt.Sprintf(`{"client_key":%q,"client_secret":%q,"grant_type":"client_credential"}`, appID, secret)
	if api == douyin.APIv1 {
		path, body = "/api/apps/v2/token", fmt.Sprintf(`{"appid":%q,"secret":%q,"grant_type":"client_credential"}`, appID, secret)
	}
	resp, err := h.HTTP.Post(h.Mock.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		h.T.Fatalf("other instance token call: %v", err)
	}
	defer resp.Body.Close()
	var a struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Data.AccessToken == "" {
		h.T.Fatalf("other instance token call: %v", err)
	}
	h.Store.Saw(a.Data.AccessToken)
	return a.Data.AccessToken
}

func TestSendDelivers(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			ep := endpointsOf(api)
			c := h.client(h.config(api))
			if c.API() != api {
				t.Fatalf("API() = %q, want %q", c.API(), api)
			}
			s := orderSend(userOnce)
			res, err := h.Send(c, s)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			inbox, err := h.Mock.Control.Messages(context.Background(), mockclient.MessageFilter{AppID: appID})
			if err != nil || len(inbox.Messages) != 1 {
				t.Fatalf("inbox: %d messages, %v; want 1", len(inbox.Messages), err)
			}
			m := inbox.Messages[0]
			// The data keys are the template's keyword names, passed through.
			if m.OpenID != s.To || m.TemplateID != tplOnce || m.Page != s.Page || len(m.Data) != 3 ||
				m.Data["物品名称"] != "机械键盘" || m.Data["快递单号"] != "SF1234567890" || m.Data["发货时间"] != "2025年3月14日" {
				t.Errorf("inbox message %+v does not match the send %+v", m, s)
			}
			// v2's message id is notify_user's log_id; v1 answers none.
			if api == douyin.APIv2 && (res.MsgID == "" || res.MsgID != m.MsgID) {
				t.Errorf("MsgID = %q, inbox msgid = %q", res.MsgID, m.MsgID)
			}
			if api == douyin.APIv1 && res.MsgID != "" {
				t.Errorf("v1 MsgID = %q, want none", res.MsgID)
			}
			if n := h.Calls(ep.token); n != 1 {
				t.Errorf("%s calls = %d, want 1", ep.token, n)
			}
			// One kind of token per client: the other kind is never fetched.
			other := endpointsOf(douyin.APIv1).token
			if api == douyin.APIv1 {
				other = endpointsOf(douyin.APIv2).token
			}
			if n := h.Calls(other); n != 0 {
				t.Errorf("%s calls = %d, want 0", other, n)
			}
		})
	}
}

func TestTokenCachedAndPersisted(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			ep := endpointsOf(api)
			var (
				mu      sync.Mutex
				fetches int
			)
			c := h.client(h.config(api), platform.WithTokenOptions(tokens.WithOnFetch(func(error) {
				mu.Lock()
				fetches++
				mu.Unlock()
			})))
			for i := range 10 {
				if _, err := h.Send(c, remindSend(user(i))); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			if n := h.Calls(ep.token); n != 1 {
				t.Fatalf("token calls for 10 sends = %d, want 1", n)
			}
			mu.Lock()
			if fetches != 1 {
				t.Errorf("OnFetch saw %d fetches, want 1", fetches)
			}
			mu.Unlock()

			// A restart: a new client over the same store reuses the token.
			restarted := h.client(h.config(api))
			if _, err := h.Send(restarted, remindSend(user(10))); err != nil {
				t.Fatalf("send after restart: %v", err)
			}
			if n := h.Calls(ep.token); n != 1 {
				t.Fatalf("token calls after a restart = %d, want still 1", n)
			}
			if n := h.Calls(ep.send, 0); n != 11 {
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
		reject   func(h *harness, api string)
		wantCode int
		// token calls in the journal at the end, ours and the other
		// instance's
		wantTokenCalls int
	}{
		{
			name: "expired after 7200 s", wantCode: 28001008, wantTokenCalls: 2,
			reject: func(h *harness, _ string) { h.Advance(7201 * time.Second) },
		},
		{
			// "连续多次获取 client_token 只会保留最新的两个": two fetches by
			// someone else end ours at once.
			name: "replaced by two fetches elsewhere", wantCode: 28001003, wantTokenCalls: 4,
			reject: func(h *harness, api string) {
				h.otherInstance(api)
				h.otherInstance(api)
			},
		},
		{
			// One fetch elsewhere cuts ours to 5 minutes.
			name: "cut to 5 minutes by a fetch elsewhere", wantCode: 28001003, wantTokenCalls: 3,
			reject: func(h *harness, api string) {
				h.otherInstance(api)
				h.Advance(5*time.Minute + time.Second)
			},
		},
	}
	for _, api := range apis {
		for _, tt := range tests {
			t.Run(api+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				h := start(t)
				ep := endpointsOf(api)
				c := h.client(h.config(api))
				if _, err := h.Send(c, remindSend(user(0))); err != nil {
					t.Fatalf("first send: %v", err)
				}
				tt.reject(h, api)
				if _, err := h.Send(c, remindSend(user(1))); err != nil {
					t.Fatalf("send after the token was rejected: %v", err)
				}
				if n := h.Calls(ep.send, tt.wantCode); n != 1 {
					t.Errorf("sends answered %d = %d, want 1", tt.wantCode, n)
				}
				if n := h.Calls(ep.send, 0); n != 2 {
					t.Errorf("delivered sends = %d, want 2", n)
				}
				if n := h.Calls(ep.token); n != tt.wantTokenCalls {
					t.Errorf("token calls = %d, want %d", n, tt.wantTokenCalls)
				}
			})
		}
	}
}

// TestTokenRejectedTwiceRefetchesOnce: the retry after a refetch also fails:
// the class is token, and exactly one refetch happened.
func TestTokenRejectedTwiceRefetchesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		api  string
		code int
	}{
		{api: douyin.APIv2, code: 28001003},
		{api: douyin.APIv2, code: 28001008},
		{api: douyin.APIv1, code: 28001008},
		// The legacy developer.toutiao.com APIs' "access_token 不正确或者已过期".
		{api: douyin.APIv1, code: 11016},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.api, tt.code), func(t *testing.T) {
			t.Parallel()
			h := start(t)
			ep := endpointsOf(tt.api)
			c := h.client(h.config(tt.api))
			h.Fault(mockapi.Fault{Endpoint: ep.send, ErrCode: intp(tt.code), Times: 2})
			_, err := h.Send(c, remindSend(user(0)))
			if platform.Classify(err) != message.OutcomeToken {
				t.Fatalf("Send: %v, want class token", err)
			}
			if n := h.Calls(ep.send); n != 2 {
				t.Errorf("send calls = %d, want 2 (one retry)", n)
			}
			if n := h.Calls(ep.token); n != 2 {
				t.Errorf("token calls = %d, want 2 (one refetch)", n)
			}
			// The fault is spent; the new token works.
			if _, err := h.Send(c, remindSend(user(1))); err != nil {
				t.Fatalf("next send: %v", err)
			}
			if n := h.Calls(ep.token); n != 2 {
				t.Errorf("token calls after recovery = %d, want 2", n)
			}
		})
	}
}

func TestConcurrentSendsShareOneTokenFetch(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			ep := endpointsOf(api)
			c := h.client(h.config(api))
			h.SendConcurrently(c, users, func(i int) platform.Send { return remindSend(user(i)) })
			if got := h.Calls(ep.token); got != 1 {
				t.Fatalf("token calls for %d concurrent sends with an empty cache = %d, want 1", users, got)
			}
			if got := h.Calls(ep.send, 0); got != users {
				t.Fatalf("delivered = %d, want %d", got, users)
			}
		})
	}
}

// TestConcurrentRejectionsRefetchOnce: many sends fail with the same expired
// token at once; the token is fetched again once, not once per send.
func TestConcurrentRejectionsRefetchOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config(douyin.APIv2))
	if _, err := h.Send(c, remindSend(user(0))); err != nil {
		t.Fatalf("first send: %v", err)
	}
	h.Advance(7201 * time.Second)
	const n = 30
	h.SendConcurrently(c, n, func(i int) platform.Send { return remindSend(user(i + 1)) })
	if got := h.Calls("client_token"); got != 2 {
		t.Fatalf("token calls = %d, want 2 (the first and one refetch for %d rejections)", got, n)
	}
}

func intp(n int) *int { return &n }

func TestClassification(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	second := [2]time.Duration{time.Second, time.Second}
	shortTimeout := func(c *douyin.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} }
	tests := []struct {
		name      string
		api       string
		cfg       func(*douyin.Config)
		setup     func(h *harness, cfg douyin.Config)
		send      platform.Send
		wantClass message.Outcome
		wantCode  string
		// wantRetryAfter bounds RetryAfter: [min, max].
		wantRetryAfter [2]time.Duration
	}{
		// notify_user v2, real answers.
		{name: "not subscribed", api: douyin.APIv2, send: orderSend(userNone), wantClass: message.OutcomePermanent, wantCode: "28014043"},
		{name: "grant of another template only", api: douyin.APIv2, send: orderSend(user(0)), wantClass: message.OutcomePermanent, wantCode: "28014043"},
		{name: "unknown user", api: douyin.APIv2, send: orderSend("_000user_ghost_00000000000000000"), wantClass: message.OutcomePermanent, wantCode: "28001007"},
		{name: "unknown template", api: douyin.APIv2, send: platform.Send{To: userOnce, TemplateID: "MSGnope", Data: orderSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "28001007"},
		{name: "keyword missing", api: douyin.APIv2, send: platform.Send{To: userOnce, TemplateID: tplOnce, Data: map[string]string{"物品名称": "键盘"}},
			wantClass: message.OutcomePermanent, wantCode: "28001007"},
		{name: "page not published", api: douyin.APIv2, send: platform.Send{To: userOnce, TemplateID: tplOnce, Page: "pages/gone", Data: orderSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "28001007"},
		{name: "risky content", api: douyin.APIv2, setup: func(h *harness, _ douyin.Config) { h.contentRules() },
			send:      platform.Send{To: userOnce, TemplateID: tplOnce, Data: map[string]string{"物品名称": "炸弹", "快递单号": "SF1", "发货时间": "今天"}},
			wantClass: message.OutcomePermanent, wantCode: "28001007"},
		// The mock answers the per-user limit on v2 with 28003018, the
		// common table's app-level "请求频率过高"; the client follows the
		// table (README: the two cannot be told apart).
		{name: "second send to one user within a second", api: douyin.APIv2, setup: sendFirst(remindSend(user(0))),
			send: remindSend(user(0)), wantClass: message.OutcomeThrottled, wantCode: "28003018", wantRetryAfter: second},
		{name: "minute quota", api: douyin.APIv2, setup: quota("notify_v2", "minute"), wantClass: message.OutcomeThrottled, wantCode: "28003018", wantRetryAfter: second},
		{name: "day quota", api: douyin.APIv2, setup: quota("notify_v2", "day"), wantClass: message.OutcomeThrottled, wantCode: "28003017", wantRetryAfter: [2]time.Duration{time.Minute, day}},

		// notify_user v2, injected answers.
		{name: "system busy", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{ErrCode: intp(28001005), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "28001005"},
		{name: "network error upstream", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{ErrCode: intp(28001006), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "28001006"},
		{name: "ability banned", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{ErrCode: intp(28001019), Times: 1}),
			wantClass: message.OutcomePermanent, wantCode: "28001019"},
		{name: "app lacks the ability", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{ErrCode: intp(28001018), Times: 1}),
			wantClass: message.OutcomeCredentials, wantCode: "28001018"},
		{name: "unknown code", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{ErrCode: intp(99999), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "99999"},
		{name: "http 502", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{HTTPStatus: 502, Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "http 502"},
		{name: "http 429", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{HTTPStatus: 429, Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "http 429"},
		{name: "dropped connection", api: douyin.APIv2, setup: fault("notify_v2", mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "timeout", api: douyin.APIv2, cfg: shortTimeout,
			setup:     fault("notify_v2", mockapi.Fault{Latency: mockapi.Duration(3 * time.Second), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "timeout"},

		// client_token.
		{name: "client token: wrong secret", api: douyin.APIv2, cfg: func(c *douyin.Config) { c.Secret = wrongSecret },
			wantClass: message.OutcomeCredentials, wantCode: "10013"},
		{name: "client token: unknown app", api: douyin.APIv2, cfg: func(c *douyin.Config) { c.AppID = "ttffffffffffffffff" },
			wantClass: message.OutcomeCredentials, wantCode: "10003"},
		{name: "client token: too frequent", api: douyin.APIv2, setup: fault("client_token", mockapi.Fault{ErrCode: intp(10020)}),
			wantClass: message.OutcomeThrottled, wantCode: "10020", wantRetryAfter: [2]time.Duration{time.Minute, time.Minute}},
		{name: "client token: http 503", api: douyin.APIv2, setup: fault("client_token", mockapi.Fault{HTTPStatus: 503}),
			wantClass: message.OutcomeRetryable, wantCode: "http 503"},
		{name: "client token: dropped", api: douyin.APIv2, setup: fault("client_token", mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "client token: timeout", api: douyin.APIv2, cfg: shortTimeout,
			setup:     fault("client_token", mockapi.Fault{Latency: mockapi.Duration(3 * time.Second)}),
			wantClass: message.OutcomeRetryable, wantCode: "timeout"},

		// v1 notify, real answers.
		{name: "not subscribed", api: douyin.APIv1, send: orderSend(userNone), wantClass: message.OutcomePermanent, wantCode: "28014043"},
		{name: "unknown user", api: douyin.APIv1, send: orderSend("_000user_ghost_00000000000000000"), wantClass: message.OutcomePermanent, wantCode: "1001"},
		{name: "unknown template", api: douyin.APIv1, send: platform.Send{To: userOnce, TemplateID: "MSGnope", Data: orderSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "1001"},
		{name: "keyword too long", api: douyin.APIv1,
			send:      platform.Send{To: userOnce, TemplateID: tplOnce, Data: map[string]string{"物品名称": strings.Repeat("长", 51), "快递单号": "SF1", "发货时间": "今天"}},
			wantClass: message.OutcomePermanent, wantCode: "1001"},
		{name: "risky content", api: douyin.APIv1, setup: func(h *harness, _ douyin.Config) { h.contentRules() },
			send:      platform.Send{To: userOnce, TemplateID: tplOnce, Data: map[string]string{"物品名称": "炸弹", "快递单号": "SF1", "发货时间": "今天"}},
			wantClass: message.OutcomePermanent, wantCode: "1008"},
		{name: "second send to one user within a second", api: douyin.APIv1, setup: sendFirst(remindSend(user(0))),
			send: remindSend(user(0)), wantClass: message.OutcomeRetryable, wantCode: "1010", wantRetryAfter: second},
		{name: "QPS cap", api: douyin.APIv1, setup: quota("notify_v1", "second"), wantClass: message.OutcomeThrottled, wantCode: "28006003", wantRetryAfter: second},

		// v1 notify, injected answers.
		{name: "internal error", api: douyin.APIv1, setup: fault("notify_v1", mockapi.Fault{ErrCode: intp(2000), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "2000"},
		{name: "capability banned", api: douyin.APIv1, setup: fault("notify_v1", mockapi.Fault{ErrCode: intp(1009), Times: 1}),
			wantClass: message.OutcomePermanent, wantCode: "1009"},
		{name: "http 500", api: douyin.APIv1, setup: fault("notify_v1", mockapi.Fault{HTTPStatus: 500, Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "http 500"},

		// getAccessToken.
		{name: "access token: wrong secret", api: douyin.APIv1, cfg: func(c *douyin.Config) { c.Secret = wrongSecret },
			wantClass: message.OutcomeCredentials, wantCode: "40017"},
		{name: "access token: unknown app", api: douyin.APIv1, cfg: func(c *douyin.Config) { c.AppID = "ttffffffffffffffff" },
			wantClass: message.OutcomeCredentials, wantCode: "40015"},
		{name: "access token: system error", api: douyin.APIv1, setup: fault("token", mockapi.Fault{ErrCode: intp(-1)}),
			wantClass: message.OutcomeRetryable, wantCode: "-1"},
		{name: "access token: dropped", api: douyin.APIv1, setup: fault("token", mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
	}
	for _, tt := range tests {
		t.Run(tt.api+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config(tt.api)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			if tt.setup != nil {
				tt.setup(h, cfg)
			}
			s := tt.send
			if s.To == "" {
				s = remindSend(user(2))
			}
			_, err := h.Send(h.client(cfg), s)
			platformtest.SendError(t, err, platformtest.Want{Platform: douyin.Platform,
				Class: tt.wantClass, Code: tt.wantCode, RetryAfter: tt.wantRetryAfter})
		})
	}
}

func fault(endpoint string, f mockapi.Fault) func(h *harness, _ douyin.Config) {
	return func(h *harness, _ douyin.Config) {
		f.Endpoint = endpoint
		h.Fault(f)
	}
}

// quota exhausts endpoint's quota for the window.
func quota(endpoint, per string) func(h *harness, _ douyin.Config) {
	return func(h *harness, _ douyin.Config) { h.Quota(endpoint, 0, per) }
}

// sendFirst delivers s with a client of its own (sharing the store, so the
// client under test finds the token and makes no token call of its own).
func sendFirst(s platform.Send) func(h *harness, cfg douyin.Config) {
	return func(h *harness, cfg douyin.Config) {
		h.T.Helper()
		if _, err := h.Send(h.client(cfg), s); err != nil {
			h.T.Fatalf("first send: %v", err)
		}
	}
}

func TestCheckContent(t *testing.T) {
	t.Parallel()
	twelve := make([]string, 12)
	for i := range twelve {
		twelve[i] = fmt.Sprintf("第%d条", i)
	}
	twelveRisky := append(append([]string{}, twelve[:11]...), "买炸弹")
	tests := []struct {
		name      string
		texts     []string
		wantRisky bool
		wantCalls int
	}{
		{name: "pass", texts: []string{"订单已发货", "明天送达"}, wantCalls: 1},
		{name: "risky", texts: []string{"订单已发货", "买炸弹"}, wantRisky: true, wantCalls: 1},
		{name: "review is not risky", texts: []string{"彩票中奖"}, wantCalls: 1},
		{name: "more than 10 texts in two calls", texts: twelve, wantCalls: 2},
		{name: "risky in the second call", texts: twelveRisky, wantRisky: true, wantCalls: 2},
		{name: "nothing to check", texts: []string{"", "  "}, wantCalls: 0},
	}
	wantLabel := map[string]string{douyin.APIv2: "text_censor", douyin.APIv1: "short_content_antidirt"}
	for _, api := range apis {
		for _, tt := range tests {
			t.Run(api+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				h := start(t)
				h.contentRules()
				ep := endpointsOf(api)
				v, err := h.Check(h.client(h.config(api)), userOnce, tt.texts...)
				if err != nil {
					t.Fatalf("CheckContent: %v", err)
				}
				want := platform.Verdict{Risky: tt.wantRisky}
				if tt.wantRisky {
					want.Label = wantLabel[api]
				}
				if v != want {
					t.Errorf("verdict = %+v, want %+v", v, want)
				}
				if n := h.Calls(ep.check, 0); n != tt.wantCalls {
					t.Errorf("%s calls = %d, want %d", ep.check, n, tt.wantCalls)
				}
			})
		}
	}
}

func TestCheckContentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		api       string
		setup     func(h *harness)
		wantClass message.Outcome // "": the check recovers
		wantCode  string
		wantToken int // token calls
	}{
		{name: "censor: token expired recovers", api: douyin.APIv2,
			setup: func(h *harness) { h.Fault(mockapi.Fault{Endpoint: "censor", ErrCode: intp(28001008), Times: 1}) }, wantToken: 2},
		{name: "censor: token rejected twice", api: douyin.APIv2,
			setup:     func(h *harness) { h.Fault(mockapi.Fault{Endpoint: "censor", ErrCode: intp(28001003), Times: 2}) },
			wantClass: message.OutcomeToken, wantCode: "28001003", wantToken: 2},
		{name: "censor: day quota", api: douyin.APIv2, setup: func(h *harness) { h.Quota("censor", 0, "day") },
			wantClass: message.OutcomeThrottled, wantCode: "28003017", wantToken: 1},
		{name: "antidirt: token expired recovers (HTTP 401)", api: douyin.APIv1,
			setup: func(h *harness) { h.Fault(mockapi.Fault{Endpoint: "antidirt", ErrCode: intp(401), Times: 1}) }, wantToken: 2},
		{name: "antidirt: token rejected twice (HTTP 401)", api: douyin.APIv1,
			setup:     func(h *harness) { h.Fault(mockapi.Fault{Endpoint: "antidirt", ErrCode: intp(401), Times: 2}) },
			wantClass: message.OutcomeToken, wantCode: "401", wantToken: 2},
		{name: "antidirt: bad params (HTTP 400)", api: douyin.APIv1,
			setup:     func(h *harness) { h.Fault(mockapi.Fault{Endpoint: "antidirt", ErrCode: intp(400)}) },
			wantClass: message.OutcomePermanent, wantCode: "400", wantToken: 1},
		{name: "antidirt: rate limited (HTTP 429)", api: douyin.APIv1, setup: func(h *harness) { h.Quota("antidirt", 0, "minute") },
			wantClass: message.OutcomeThrottled, wantCode: "429", wantToken: 1},
		{name: "antidirt: http 502 without a body", api: douyin.APIv1,
			setup:     func(h *harness) { h.Fault(mockapi.Fault{Endpoint: "antidirt", HTTPStatus: 502}) },
			wantClass: message.OutcomeRetryable, wantCode: "http 502", wantToken: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			tt.setup(h)
			ep := endpointsOf(tt.api)
			v, err := h.Check(h.client(h.config(tt.api)), userOnce, []string{"订单已发货"}...)
			if tt.wantClass == "" {
				if err != nil || v.Risky {
					t.Fatalf("CheckContent = %+v, %v; want a pass", v, err)
				}
			} else {
				var pe *platform.Error
				if !errors.As(err, &pe) || pe.Class != tt.wantClass || pe.Code != tt.wantCode {
					t.Fatalf("CheckContent error = %v, want %s %s", err, tt.wantClass, tt.wantCode)
				}
			}
			if n := h.Calls(ep.token); n != tt.wantToken {
				t.Errorf("token calls = %d, want %d", n, tt.wantToken)
			}
		})
	}
}

// TestCheckContentExpiredToken: a real expiry (the mock's clock) on the
// moderation endpoint is recovered like a send's.
func TestCheckContentExpiredToken(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			h.contentRules()
			c := h.client(h.config(api))
			if _, err := c.CheckContent(context.Background(), "", []string{"你好"}); err != nil {
				t.Fatalf("first check: %v", err)
			}
			h.Advance(7201 * time.Second)
			v, err := h.Check(c, "", []string{"炸弹"}...)
			if err != nil || !v.Risky {
				t.Fatalf("check after expiry = %+v, %v; want risky", v, err)
			}
			if n := h.Calls(endpointsOf(api).token); n != 2 {
				t.Errorf("token calls = %d, want 2", n)
			}
		})
	}
}

// wire records the requests a client makes and answers each path with a
// canned body, to check the default hosts and the exact request shapes.
type wire struct {
	mu   sync.Mutex
	reqs []wireRequest
}

type wireRequest struct {
	url    string
	header http.Header
	body   map[string]any
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	w.mu.Lock()
	w.reqs = append(w.reqs, wireRequest{url: r.URL.String(), header: r.Header.Clone(), body: body})
	w.mu.Unlock()
	answers := map[string]string{
		"/oauth/client_token/":                                 `{"data":{"access_token":"clt.wiretoken","description":"","error_code":0,"expires_in":7200},"message":"success"}`,
		"/api/apps/v2/token":                                   `{"err_no":0,"err_tips":"success","data":{"access_token":"0801121846wiretoken","expires_in":7200}}`,
		"/api/notification/v2/subscription/notify_user/":       `{"err_no":0,"err_msg":"","log_id":"202008121419360101980821035705926A"}`,
		"/api/apps/subscribe_notification/developer/v1/notify": `{"err_no":0,"err_tips":""}`,
	}
	a, ok := answers[r.URL.Path]
	status := http.StatusOK
	if !ok {
		status, a = http.StatusNotFound, `{}`
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(a)), Request: r}, nil
}

func TestDefaultHostsAndWireShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		api       string
		wantToken string
		wantSend  string
		checkSend func(t *testing.T, r wireRequest)
	}{
		{api: douyin.APIv2, wantToken: "https://open.douyin.com/oauth/client_token/",
			wantSend: "https://open.douyin.com/api/notification/v2/subscription/notify_user/",
			checkSend: func(t *testing.T, r wireRequest) {
				if r.header.Get("access-token") != "clt.wiretoken" {
					t.Errorf("access-token header = %q", r.header.Get("access-token"))
				}
				if r.body["msg_id"] != tplOnce || r.body["open_id"] != userOnce || r.body["access_token"] != nil {
					t.Errorf("notify_user body = %v", r.body)
				}
			}},
		{api: douyin.APIv1, wantToken: "https://developer.toutiao.com/api/apps/v2/token",
			wantSend: "https://developer.toutiao.com/api/apps/subscribe_notification/developer/v1/notify",
			checkSend: func(t *testing.T, r wireRequest) {
				if r.header.Get("access-token") != "" {
					t.Errorf("v1 sends an access-token header")
				}
				if r.body["access_token"] != "0801121846wiretoken" || r.body["app_id"] != appID ||
					r.body["tpl_id"] != tplOnce || r.body["open_id"] != userOnce {
					t.Errorf("v1 notify body = %v", r.body)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.api, func(t *testing.T) {
			t.Parallel()
			w := &wire{}
			c, err := douyin.New(douyin.Config{AppID: appID, Secret: secret, API: tt.api,
				HTTPClient: &http.Client{Transport: w}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Send(context.Background(), orderSend(userOnce))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tt.api == douyin.APIv2 && res.MsgID != "202008121419360101980821035705926A" {
				t.Errorf("MsgID = %q, want the log_id", res.MsgID)
			}
			if len(w.reqs) != 2 || w.reqs[0].url != tt.wantToken || w.reqs[1].url != tt.wantSend {
				t.Fatalf("requests = %+v, want %s then %s", w.reqs, tt.wantToken, tt.wantSend)
			}
			for _, r := range w.reqs {
				if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
					t.Errorf("%s: Content-Type %q", r.url, r.header.Get("Content-Type"))
				}
			}
			tok := w.reqs[0].body
			if tok["grant_type"] != "client_credential" {
				t.Errorf("token grant_type = %v, want client_credential (singular)", tok["grant_type"])
			}
			if tt.api == douyin.APIv2 && (tok["client_key"] != appID || tok["client_secret"] != secret) {
				t.Errorf("client_token body = %v", tok)
			}
			if tt.api == douyin.APIv1 && (tok["appid"] != appID || tok["secret"] != secret) {
				t.Errorf("getAccessToken body = %v", tok)
			}
			send := w.reqs[1]
			data, _ := send.body["data"].(map[string]any)
			if len(data) != 3 || data["物品名称"] != "机械键盘" || send.body["page"] != page+"?id=42&from=push" {
				t.Errorf("data/page = %v / %v: want the keyword names and values as flat strings", send.body["data"], send.body["page"])
			}
			tt.checkSend(t, send)
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	good := douyin.Config{AppID: appID, Secret: secret}
	tests := []struct {
		name    string
		mutate  func(*douyin.Config)
		wantAPI string
		wantErr string // a word the error must name; "" for success
	}{
		{name: "valid, v2 by default", mutate: func(*douyin.Config) {}, wantAPI: "v2"},
		{name: "v1", mutate: func(c *douyin.Config) { c.API = "v1" }, wantAPI: "v1"},
		{name: "base URL with a path prefix", mutate: func(c *douyin.Config) { c.BaseURL = "https://minigame.zijieapi.com/mgplatform/" }, wantAPI: "v2"},
		{name: "no app id", mutate: func(c *douyin.Config) { c.AppID = "" }, wantErr: "app id"},
		{name: "bad app id", mutate: func(c *douyin.Config) { c.AppID = "tt 1" }, wantErr: "app id"},
		{name: "no secret", mutate: func(c *douyin.Config) { c.Secret = "" }, wantErr: "secret"},
		{name: "bad base URL", mutate: func(c *douyin.Config) { c.BaseURL = "ftp://x" }, wantErr: "base URL"},
		{name: "base URL with query", mutate: func(c *douyin.Config) { c.BaseURL = "http://x/?a=b" }, wantErr: "base URL"},
		{name: "unknown api", mutate: func(c *douyin.Config) { c.API = "v3" }, wantErr: "api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.mutate(&cfg)
			c, err := douyin.New(cfg, nil)
			platformtest.CheckNewError(t, err, tt.wantErr, secret)
			if tt.wantErr == "" && (c.AppID() != appID || c.API() != tt.wantAPI) {
				t.Fatalf("AppID, API = %q, %q", c.AppID(), c.API())
			}
		})
	}
}

func TestConfigRedactsSecret(t *testing.T) {
	t.Parallel()
	cfg := douyin.Config{AppID: appID, Secret: secret}
	platformtest.CheckRedacted(t, cfg, appID, secret)
}
