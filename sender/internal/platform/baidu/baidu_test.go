package baidu_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/baidu"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
)

// The mock's endpoint names (docs/mock-baidu.md).
const (
	epToken = "token"
	epSend  = "subscribe_send"
	epCheck = "check_text"
)

const (
	appKey      = "4fecoAqgCIUtzIyA4FAPgoyrc4oUc25c"
	secret      = "BD-SECRET-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	wrongSecret = "BD-WRONG-SECRET-aaaabbbbccccddddeeee9999"
	templateID  = "83213b378e0647a3b5df04db353a1fb7"
	userOnce    = "k4RWmo0mKtr-A6Yw1RHzQnt5gl" // 5 one-time authorizations
	userLong    = "k4RWmo0mKtr-A6Yw1RHzQnt5g3" // a long-term grant
	userNone    = "k4RWmo0mKtr-A6Yw1RHzQnt5g2" // registered, no grant
	page        = "pages/order/detail"
)

func seed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformBaidu, AppID: appKey, Secret: secret,
		Pages: []string{"pages/index/index", page},
		Users: []string{userOnce, userLong, userNone},
		// The control API takes WeChat-typed keys only; Baidu's real keys
		// are keyword1, keyword2, … (docs/mock-baidu.md, Limitation).
		Templates: []mockapi.Template{{TemplateID: templateID, Title: "预约成功通知",
			Keywords: []string{"thing1", "time2"}}},
		Grants: []mockapi.Grant{
			{OpenID: userOnce, TemplateID: templateID, Count: 5},
			{OpenID: userLong, TemplateID: templateID, LongTerm: true},
		},
	}}}
}

// okSend is a send that spends the subscribe id subID (each id carries one
// message to a user for a template).
func okSend(to, subID string) platform.Send {
	return platform.Send{To: to, TemplateID: templateID, Page: page + "?id=42&from=push",
		Data: map[string]string{"thing1": "体检预约", "time2": "2025年3月1日 15:01", baidu.SubscribeIDKey: subID}}
}

// harness is the shared harness with this package's client.
type harness struct{ *platformtest.Harness }

func start(t *testing.T) *harness {
	t.Helper()
	return &harness{platformtest.Start(t, platformtest.Setup{Platform: mockapi.PlatformBaidu, Seed: seed(),
		Secrets: []string{secret, wrongSecret}})}
}

func (h *harness) config() baidu.Config {
	return baidu.Config{AppID: appKey, Secret: secret, BaseURL: h.Mock.URL, HTTPClient: h.HTTP}
}

func (h *harness) client(cfg baidu.Config, opts ...platform.Option) *baidu.Client {
	h.T.Helper()
	c, err := baidu.New(cfg, h.Store, opts...)
	return platformtest.Must(h.T, c, err)
}

func (h *harness) contentRules() {
	h.T.Helper()
	h.ContentRules(mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "炸弹", Label: 20006}},
		Review: []mockapi.ContentWord{{Word: "关注领红包", Label: 10001}},
	})
}

func TestSendDelivers(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	s := okSend(userOnce, "order-42")
	res, err := h.Send(c, s)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	inbox, err := h.Mock.Control.Messages(context.Background(), mockclient.MessageFilter{Platform: mockapi.PlatformBaidu})
	if err != nil || len(inbox.Messages) != 1 {
		t.Fatalf("inbox: %d messages, %v; want 1", len(inbox.Messages), err)
	}
	m := inbox.Messages[0]
	if res.MsgID == "" || res.MsgID != m.MsgID {
		t.Errorf("MsgID = %q, inbox msg_key = %q", res.MsgID, m.MsgID)
	}
	if _, err := strconv.ParseInt(res.MsgID, 10, 64); err != nil {
		t.Errorf("MsgID %q is not a number", res.MsgID)
	}
	if m.AppID != appKey || m.OpenID != userOnce || m.TemplateID != templateID || m.Page != s.Page {
		t.Errorf("inbox message %+v does not match the send %+v", m, s)
	}
	// The subscribe id travels as subscribe_id, not as a keyword.
	if len(m.Data) != 2 || m.Data["thing1"] != s.Data["thing1"] || m.Data["time2"] != s.Data["time2"] {
		t.Errorf("inbox data = %v, want thing1 and time2 only", m.Data)
	}
	grants, err := h.Mock.Control.Grants(context.Background(), mockapi.PlatformBaidu, appKey, userOnce)
	if err != nil || len(grants) != 1 || grants[0].Remaining != 4 {
		t.Errorf("grants after one send = %+v, %v; want 4 remaining", grants, err)
	}
}

// TestSubscribeIDs: each subscribe id carries one message to a user for a
// template; the id comes from the message, the per-template map, the
// default or the template id, in that order.
func TestSubscribeIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  func(*baidu.Config)
		// subIDs are the message's own ids of the sends ("" for none).
		subIDs []string
		// want is the errcode each send is answered (0: delivered).
		want []int
	}{
		{name: "distinct ids in the messages", subIDs: []string{"o-1", "o-2", "o-3"}, want: []int{0, 0, 0}},
		{name: "an id in the message is spent once", subIDs: []string{"o-1", "o-1"}, want: []int{0, 4007}},
		{name: "template id fallback", subIDs: []string{"", ""}, want: []int{0, 4007}},
		{name: "per-template id", cfg: func(c *baidu.Config) { c.SubscribeIDs = map[string]string{templateID: "booking"} },
			subIDs: []string{"", "booking", "x"}, want: []int{0, 4007, 0}},
		{name: "default id", cfg: func(c *baidu.Config) { c.SubscribeID = "all" },
			subIDs: []string{"", "all", templateID}, want: []int{0, 4007, 0}},
		{name: "the message's id wins over the config",
			cfg: func(c *baidu.Config) {
				c.SubscribeIDs = map[string]string{templateID: "booking"}
				c.SubscribeID = "all"
			},
			subIDs: []string{"", "o-1", "all", "booking"}, want: []int{0, 0, 0, 4007}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c := h.client(cfg)
			for i, id := range tt.subIDs {
				s := okSend(userLong, id)
				if id == "" {
					delete(s.Data, baidu.SubscribeIDKey)
				}
				_, err := h.Send(c, s)
				got := 0
				var pe *platform.Error
				if errors.As(err, &pe) {
					got, _ = strconv.Atoi(pe.Code)
				} else if err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				if got != tt.want[i] {
					t.Errorf("send %d (subscribe id %q): %v, want code %d", i, id, err, tt.want[i])
				}
				if got == 4007 && platform.Classify(err) != message.OutcomePermanent {
					t.Errorf("send %d: 4007 is %s, want permanent", i, platform.Classify(err))
				}
			}
		})
	}
}

// TestTokenCachedAndPersisted: many sends cost one token call, and a
// second client sharing the store reuses the persisted token.
func TestTokenCachedAndPersisted(t *testing.T) {
	t.Parallel()
	h := start(t)
	first := h.client(h.config())
	for i := range 5 {
		if _, err := h.Send(first, okSend(userLong, "a-"+strconv.Itoa(i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	second := h.client(h.config())
	for i := range 3 {
		if _, err := h.Send(second, okSend(userLong, "b-"+strconv.Itoa(i))); err != nil {
			t.Fatalf("second client, send %d: %v", i, err)
		}
	}
	if v, err := h.Check(second, userOnce, "订单已发货"); err != nil || v.Risky {
		t.Fatalf("CheckContent = %+v, %v; want a pass", v, err)
	}
	if n := h.Calls(epToken); n != 1 {
		t.Errorf("token calls = %d, want 1 for 9 calls over two clients sharing a store", n)
	}
	if n := h.Calls(epSend, 0); n != 8 {
		t.Errorf("delivered sends = %d, want 8", n)
	}
	tok, exp, err := h.Store.Token(context.Background(), first.Tokens().Key())
	if err != nil || tok == "" {
		t.Fatalf("stored token: %q, %v", tok, err)
	}
	// The mock issues 30-day tokens.
	if life := time.Until(exp); life < 29*24*time.Hour || life > 30*24*time.Hour {
		t.Errorf("stored token expires in %s, want about 30 days", life)
	}
}

// TestTokenRejectedRecovers: the gateway rejects the cached token (111
// expired, 110 invalid); the client drops it, fetches once and the retry
// is delivered.
func TestTokenRejectedRecovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reject   func(h *harness)
		wantCode int
	}{
		{name: "expired after 30 days", wantCode: 111,
			reject: func(h *harness) { h.Advance(30*24*time.Hour + time.Second) }},
		{name: "invalid", wantCode: 110,
			reject: func(h *harness) { h.Fault(mockapi.Fault{Endpoint: epSend, ErrCode: intp(110), Times: 1}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			c := h.client(h.config())
			if _, err := h.Send(c, okSend(userLong, "s-1")); err != nil {
				t.Fatalf("first send: %v", err)
			}
			tt.reject(h)
			res, err := h.Send(c, okSend(userLong, "s-2"))
			if err != nil {
				t.Fatalf("send after the token was rejected: %v", err)
			}
			if res.MsgID == "" {
				t.Error("no msg_key after recovery")
			}
			if n := h.Calls(epSend, tt.wantCode); n != 1 {
				t.Errorf("sends answered %d = %d, want 1", tt.wantCode, n)
			}
			if n := h.Calls(epSend, 0); n != 2 {
				t.Errorf("delivered sends = %d, want 2", n)
			}
			if n := h.Calls(epToken); n != 2 {
				t.Errorf("token calls = %d, want 2 (the first and one refetch)", n)
			}
		})
	}
}

func TestTokenRejectedTwiceRefetchesOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	h.Fault(mockapi.Fault{Endpoint: epSend, ErrCode: intp(111), Times: 2})
	_, err := h.Send(c, okSend(userLong, "s-1"))
	var pe *platform.Error
	if !errors.As(err, &pe) || pe.Class != message.OutcomeToken || pe.Code != "111" {
		t.Fatalf("Send: %v, want class token, code 111", err)
	}
	if n := h.Calls(epSend); n != 2 {
		t.Errorf("send calls = %d, want 2 (one retry)", n)
	}
	if n := h.Calls(epToken); n != 2 {
		t.Errorf("token calls = %d, want 2 (one refetch)", n)
	}
	if _, err := h.Send(c, okSend(userLong, "s-1")); err != nil {
		t.Fatalf("next send: %v", err)
	}
}

func TestConcurrentSendsShareOneTokenFetch(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	const n = 50
	h.SendConcurrently(c, n, func(i int) platform.Send { return okSend(userLong, "c-"+strconv.Itoa(i)) })
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
	if _, err := h.Send(c, okSend(userLong, "first")); err != nil {
		t.Fatalf("first send: %v", err)
	}
	h.Advance(31 * 24 * time.Hour)
	const n = 30
	h.SendConcurrently(c, n, func(i int) platform.Send { return okSend(userLong, "c-"+strconv.Itoa(i)) })
	if got := h.Calls(epToken); got != 2 {
		t.Fatalf("token calls = %d, want 2 (the first and one refetch for %d rejections)", got, n)
	}
}

func intp(n int) *int { return &n }

func TestClassification(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		cfg       func(*baidu.Config)
		setup     func(h *harness)
		send      platform.Send
		wantClass message.Outcome
		wantCode  string
		// wantRetryAfter bounds RetryAfter: [min, max].
		wantRetryAfter [2]time.Duration
	}{
		// Send answers, real.
		{name: "not subscribed", send: okSend(userNone, "s-1"), wantClass: message.OutcomePermanent, wantCode: "4007"},
		{name: "unknown open id", send: okSend("k4RWmo0mKtr-A6Yw1RHzQnt5zz", "s-1"), wantClass: message.OutcomePermanent, wantCode: "4010"},
		{name: "unknown template", send: platform.Send{To: userLong, TemplateID: "ffffffffffffffffffffffffffffffff", Data: okSend("", "s").Data},
			wantClass: message.OutcomePermanent, wantCode: "4001"},
		{name: "missing keyword", send: platform.Send{To: userLong, TemplateID: templateID, Data: map[string]string{"thing1": "x"}},
			wantClass: message.OutcomePermanent, wantCode: "2002"},
		{name: "page not published", send: platform.Send{To: userLong, TemplateID: templateID, Page: "pages/gone", Data: okSend("", "s").Data},
			wantClass: message.OutcomePermanent, wantCode: "2002"},
		{name: "qps limit", setup: func(h *harness) { h.Quota(epSend, 0, "second") },
			wantClass: message.OutcomeThrottled, wantCode: "18", wantRetryAfter: [2]time.Duration{time.Second, time.Second}},
		{name: "minute limit", setup: func(h *harness) { h.Quota(epSend, 0, "minute") },
			wantClass: message.OutcomeThrottled, wantCode: "4", wantRetryAfter: [2]time.Duration{time.Minute, time.Minute}},
		{name: "daily limit", setup: func(h *harness) { h.Quota(epSend, 0, "day") },
			wantClass: message.OutcomeThrottled, wantCode: "17", wantRetryAfter: [2]time.Duration{time.Minute, day}},

		// Send answers, injected.
		{name: "gateway unavailable", setup: sendFault(mockapi.Fault{ErrCode: intp(2), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "2"},
		{name: "gateway no permission", setup: sendFault(mockapi.Fault{ErrCode: intp(6), Times: 1}),
			wantClass: message.OutcomeCredentials, wantCode: "6"},
		{name: "gateway invalid parameter", setup: sendFault(mockapi.Fault{ErrCode: intp(100), Times: 1}),
			wantClass: message.OutcomePermanent, wantCode: "100"},
		{name: "unknown errno", setup: sendFault(mockapi.Fault{ErrCode: intp(99999), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "99999"},
		{name: "token invalid twice", setup: sendFault(mockapi.Fault{ErrCode: intp(110), Times: 2}),
			wantClass: message.OutcomeToken, wantCode: "110"},
		{name: "http 502", setup: sendFault(mockapi.Fault{HTTPStatus: 502, Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "http 502"},
		{name: "http 429", setup: sendFault(mockapi.Fault{HTTPStatus: 429, Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "http 429"},
		// The send URL carries the access token: Go's transport errors
		// print it, and the harness checks it is stripped.
		{name: "dropped connection", setup: sendFault(mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "timeout",
			cfg:       func(c *baidu.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} },
			setup:     sendFault(mockapi.Fault{Latency: mockapi.Duration(2 * time.Second), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "timeout"},

		// Token endpoint answers.
		{name: "token: wrong secret", cfg: func(c *baidu.Config) { c.Secret = wrongSecret },
			wantClass: message.OutcomeCredentials, wantCode: "invalid_client"},
		{name: "token: unknown AppKey", cfg: func(c *baidu.Config) { c.AppID = "ffffoAqgCIUtzIyA4FAPgoyrc4oUc25c" },
			wantClass: message.OutcomeCredentials, wantCode: "invalid_client"},
		{name: "token: qps limit", setup: func(h *harness) { h.Quota(epToken, 0, "second") },
			wantClass: message.OutcomeThrottled, wantCode: "18", wantRetryAfter: [2]time.Duration{time.Second, time.Second}},
		{name: "token: daily limit", setup: tokenFault(mockapi.Fault{ErrCode: intp(17)}),
			wantClass: message.OutcomeThrottled, wantCode: "17", wantRetryAfter: [2]time.Duration{time.Minute, day}},
		{name: "token: unavailable", setup: tokenFault(mockapi.Fault{ErrCode: intp(2)}),
			wantClass: message.OutcomeRetryable, wantCode: "2"},
		{name: "token: 110 is configuration", setup: tokenFault(mockapi.Fault{ErrCode: intp(110)}),
			wantClass: message.OutcomeCredentials, wantCode: "110"},
		{name: "token: http 500", setup: tokenFault(mockapi.Fault{HTTPStatus: 500}),
			wantClass: message.OutcomeRetryable, wantCode: "http 500"},
		{name: "token: http 400 without a body", setup: tokenFault(mockapi.Fault{HTTPStatus: 400}),
			wantClass: message.OutcomeRetryable, wantCode: "http 400"},
		{name: "token: dropped", setup: tokenFault(mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		{name: "token: timeout",
			cfg:       func(c *baidu.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} },
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
				s = okSend(userLong, "s-1")
			}
			_, err := h.Send(h.client(cfg), s)
			pe := platformtest.SendError(t, err, platformtest.Want{Platform: baidu.Platform,
				Class: tt.wantClass, Code: tt.wantCode, RetryAfter: tt.wantRetryAfter})
			if pe.Message == "" {
				t.Errorf("error %q has no message", err)
			}
			if strings.Contains(err.Error(), "access_token=") && !strings.Contains(err.Error(), "access_token=REDACTED") {
				t.Errorf("error %q carries a token parameter", err)
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

func TestCheckContent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("好", 3500) + "炸弹" // 10,506 bytes: two pieces
	tests := []struct {
		name      string
		lead      bool
		texts     []string
		wantRisky bool
		wantLabel string
		wantCalls int
	}{
		{name: "pass", texts: []string{"订单已发货", "明天送达"}, wantLabel: "pass", wantCalls: 1},
		{name: "risky", texts: []string{"订单已发货", "买炸弹"}, wantRisky: true, wantLabel: "risk", wantCalls: 1},
		{name: "inducement passes the risk strategy", texts: []string{"关注领红包"}, wantLabel: "pass", wantCalls: 1},
		{name: "inducement fails the lead strategy", lead: true, texts: []string{"关注领红包"}, wantRisky: true, wantLabel: "lead", wantCalls: 1},
		{name: "both strategies fail", lead: true, texts: []string{"关注领红包", "炸弹"}, wantRisky: true, wantLabel: "risk,lead", wantCalls: 1},
		{name: "long text in pieces", texts: []string{long}, wantRisky: true, wantLabel: "risk", wantCalls: 2},
		{name: "nothing to check", texts: []string{"", "  "}, wantLabel: "pass", wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			h.contentRules()
			cfg := h.config()
			cfg.CheckLead = tt.lead
			v, err := h.Check(h.client(cfg), userOnce, tt.texts...)
			if err != nil {
				t.Fatalf("CheckContent: %v", err)
			}
			if v.Risky != tt.wantRisky || v.Label != tt.wantLabel {
				t.Errorf("verdict = %+v, want risky %t label %q", v, tt.wantRisky, tt.wantLabel)
			}
			if n := h.Calls(epCheck); n != tt.wantCalls {
				t.Errorf("syncCheckText calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestCheckContentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     mockapi.Fault
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "parameter error", fault: mockapi.Fault{ErrCode: intp(2002)}, wantClass: message.OutcomePermanent, wantCode: "2002"},
		{name: "token expired twice", fault: mockapi.Fault{ErrCode: intp(111)}, wantClass: message.OutcomeToken, wantCode: "111"},
		{name: "qps limit", fault: mockapi.Fault{ErrCode: intp(18)}, wantClass: message.OutcomeThrottled, wantCode: "18"},
		{name: "unknown errno", fault: mockapi.Fault{ErrCode: intp(70001)}, wantClass: message.OutcomeRetryable, wantCode: "70001"},
		{name: "dropped", fault: mockapi.Fault{Drop: true}, wantClass: message.OutcomeRetryable, wantCode: "network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			f := tt.fault
			f.Endpoint = epCheck
			h.Fault(f)
			_, err := h.Check(h.client(h.config()), userOnce, "订单已发货")
			var pe *platform.Error
			if !errors.As(err, &pe) || pe.Class != tt.wantClass || pe.Code != tt.wantCode {
				t.Fatalf("CheckContent error = %v, want %s %s", err, tt.wantClass, tt.wantCode)
			}
		})
	}
}

// TestCheckContentRiskFault: an injected 82512 is a verdict, not an error.
func TestCheckContentRiskFault(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.Fault(mockapi.Fault{Endpoint: epCheck, ErrCode: intp(82512), Times: 1})
	v, err := h.Check(h.client(h.config()), userOnce, "订单已发货")
	if err != nil || !v.Risky || v.Label != "82512" {
		t.Fatalf("CheckContent = %+v, %v; want risky 82512", v, err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	good := baidu.Config{AppID: appKey, Secret: secret}
	tests := []struct {
		name    string
		mutate  func(*baidu.Config)
		wantErr string // a word the error must name; "" for success
	}{
		{name: "valid", mutate: func(*baidu.Config) {}},
		{name: "valid with subscribe ids", mutate: func(c *baidu.Config) {
			c.SubscribeIDs, c.SubscribeID = map[string]string{templateID: "x"}, "y"
		}},
		{name: "no app id", mutate: func(c *baidu.Config) { c.AppID = "" }, wantErr: "AppKey"},
		{name: "bad app id", mutate: func(c *baidu.Config) { c.AppID = "a b" }, wantErr: "app id"},
		{name: "no secret", mutate: func(c *baidu.Config) { c.Secret = "" }, wantErr: "secret"},
		{name: "bad base URL", mutate: func(c *baidu.Config) { c.BaseURL = "openapi.baidu.com" }, wantErr: "base URL"},
		{name: "empty subscribe id", mutate: func(c *baidu.Config) { c.SubscribeIDs = map[string]string{templateID: " "} }, wantErr: "subscribe id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.mutate(&cfg)
			c, err := baidu.New(cfg, nil)
			platformtest.CheckNewError(t, err, tt.wantErr, secret)
			if tt.wantErr == "" && (c.AppID() != appKey || c.Tokens().Key() != "baidu/"+appKey) {
				t.Fatalf("AppID = %q, token key %q", c.AppID(), c.Tokens().Key())
			}
		})
	}
}

// TestNewCopiesSubscribeIDs: changing the caller's map after New does not
// race with sends or change them.
func TestNewCopiesSubscribeIDs(t *testing.T) {
	t.Parallel()
	ids := map[string]string{templateID: "booking"}
	c, err := baidu.New(baidu.Config{AppID: appKey, Secret: secret, SubscribeIDs: ids}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids[templateID] = "changed"
	if id, fromMessage := c.SubscribeID(platform.Send{TemplateID: templateID}); id != "booking" || fromMessage {
		t.Fatalf("SubscribeID = %q, %t; want booking from the config", id, fromMessage)
	}
}

func TestConfigRedactsSecret(t *testing.T) {
	t.Parallel()
	cfg := baidu.Config{AppID: appKey, Secret: secret}
	platformtest.CheckRedacted(t, cfg, appKey, secret)
}
