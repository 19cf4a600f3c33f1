package alipay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/alipay"
	"github.com/minipush/minipush/sender/internal/platform/platformtest"
)

const (
	appID      = "2021000000000001"
	templateID = "tmpl-order-status"
	userOnce   = "2088000000000001"                               // user id, 5 one-time grants
	openIDLong = "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo" // open id, a long-term grant
	userNone   = "2088000000000003"                               // registered, no grant
	page       = "pages/order/detail"
	endpoint   = "templatemessage_send"
)

func seed(k *alipay.KeySet) mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformAlipay, AppID: appID,
		AppPublicKey: k.AppPublicPEM, AlipayPrivateKey: k.AlipayPrivatePEM,
		Pages: []string{"pages/index/index", page},
		Users: []string{userOnce, openIDLong, userNone},
		// The control API takes WeChat-typed keys; the mock maps a send's
		// keywordI to the I-th of them (docs/mock-alipay.md).
		Templates: []mockapi.Template{{TemplateID: templateID, Title: "订单状态通知",
			Keywords: []string{"character_string1", "thing2"}}},
		Grants: []mockapi.Grant{
			{OpenID: userOnce, TemplateID: templateID, Count: 5},
			{OpenID: openIDLong, TemplateID: templateID, LongTerm: true},
		},
	}}}
}

func okSend(to string) platform.Send {
	return platform.Send{To: to, TemplateID: templateID, Page: page + "?id=42&from=push",
		Data: map[string]string{"keyword1": "SF1234567890", "keyword2": "已发货 <快递>"}}
}

// harness is the shared harness with this package's keys; its cleanup
// asserts that no error carried key material.
type harness struct {
	*platformtest.Harness
	keys *alipay.KeySet
}

func start(t *testing.T) *harness {
	t.Helper()
	k := alipay.Keys(t)
	return &harness{Harness: platformtest.Start(t, platformtest.Setup{Platform: mockapi.PlatformAlipay, Seed: seed(k),
		Secrets: k.PrivateMaterial()}), keys: k}
}

func (h *harness) config() alipay.Config {
	return alipay.Config{AppID: appID, PrivateKey: h.keys.AppPKCS8PEM, AlipayPublicKey: h.keys.AlipayPublicPEM,
		BaseURL: h.Mock.URL, HTTPClient: h.HTTP}
}

func (h *harness) client(cfg alipay.Config, opts ...platform.Option) *alipay.Client {
	h.T.Helper()
	c, err := alipay.New(cfg, opts...)
	return platformtest.Must(h.T, c, err)
}

func (h *harness) send(c *alipay.Client, s platform.Send) error {
	res, err := c.Send(context.Background(), s)
	if res.MsgID != "" {
		h.T.Errorf("MsgID = %q: Alipay answers none", res.MsgID)
	}
	h.Record(err)
	return err
}

func (h *harness) inbox() []mockapi.Message { return h.inboxWait(0) }

// inboxWait reads the inbox once it holds at least min messages (or after
// 5 s).
func (h *harness) inboxWait(min int) []mockapi.Message {
	h.T.Helper()
	f := mockclient.MessageFilter{AppID: appID}
	if min > 0 {
		f.Wait, f.Min = 5*time.Second, min
	}
	m, err := h.Mock.Control.Messages(context.Background(), f)
	if err != nil {
		h.T.Fatalf("inbox: %v", err)
	}
	return m.Messages
}

// proxy sits between the client and the mock: it records each request and
// may rewrite each answer body.
type proxy struct {
	url  string
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	query       url.Values
	contentType string
	form        url.Values
}

func (h *harness) proxy(rewrite func([]byte) []byte) *proxy {
	h.T.Helper()
	target, err := url.Parse(h.Mock.URL)
	if err != nil {
		h.T.Fatal(err)
	}
	p := &proxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			body, _ := io.ReadAll(r.In.Body)
			r.Out.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			p.mu.Lock()
			p.reqs = append(p.reqs, recorded{query: r.In.URL.Query(), contentType: r.In.Header.Get("Content-Type"), form: form})
			p.mu.Unlock()
		},
		ModifyResponse: func(resp *http.Response) error {
			if rewrite == nil {
				return nil
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			b = rewrite(b)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		},
	}
	srv := httptest.NewServer(rp)
	h.T.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *proxy) requests() []recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recorded(nil), p.reqs...)
}

func TestSendDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		to        string
		wantField string // the biz_content field that carries the recipient
	}{
		{name: "user id", to: userOnce, wantField: "to_user_id"},
		{name: "open id", to: openIDLong, wantField: "to_open_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			p := h.proxy(nil)
			cfg := h.config()
			cfg.BaseURL = p.url
			c := h.client(cfg)
			s := okSend(tt.to)
			if err := h.send(c, s); err != nil {
				t.Fatalf("Send: %v", err)
			}
			inbox := h.inbox()
			if len(inbox) != 1 {
				t.Fatalf("inbox: %d messages, want 1", len(inbox))
			}
			m := inbox[0]
			if m.OpenID != tt.to || m.TemplateID != templateID || m.Page != s.Page ||
				m.Data["keyword1"] != s.Data["keyword1"] || m.Data["keyword2"] != s.Data["keyword2"] {
				t.Errorf("inbox message %+v does not match the send %+v", m, s)
			}
			reqs := p.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			var biz map[string]any
			if err := json.Unmarshal([]byte(reqs[0].form.Get("biz_content")), &biz); err != nil {
				t.Fatalf("biz_content: %v", err)
			}
			if biz[tt.wantField] != tt.to || len(biz) != 4 {
				t.Errorf("biz_content %v: want the recipient in %s and 4 fields", biz, tt.wantField)
			}
			// data travels as a JSON string, not an object.
			data, ok := biz["data"].(string)
			if !ok || data != `{"keyword1":{"value":"SF1234567890"},"keyword2":{"value":"已发货 <快递>"}}` {
				t.Errorf("data = %#v, want the keyword object as a JSON string", biz["data"])
			}
		})
	}
}

// TestRequestWire checks the request the way the official SDKs send it:
// common parameters and sign in the query, only biz_content in the form
// body, the timestamp in Beijing time, and a signature that verifies over
// the SDKs' string to sign (recomputed here independently).
func TestRequestWire(t *testing.T) {
	t.Parallel()
	h := start(t)
	p := h.proxy(nil)
	cfg := h.config()
	cfg.BaseURL = p.url + "/gateway.do" // the form the console shows: not doubled
	// 23:30 UTC is 07:30 the next day in Beijing.
	now := time.Date(2025, 3, 1, 23, 30, 5, 0, time.UTC)
	c := h.client(cfg, platform.WithClock(func() time.Time { return now }))
	if err := h.send(c, okSend(userOnce)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	want := map[string]string{"app_id": appID, "method": "alipay.open.app.mini.templatemessage.send", "format": "JSON",
		"charset": "utf-8", "sign_type": "RSA2", "timestamp": "2025-03-02 07:30:05", "version": "1.0"}
	for k, v := range want {
		if got := r.query.Get(k); got != v {
			t.Errorf("query %s = %q, want %q", k, got, v)
		}
	}
	if len(r.query) != len(want)+1 || r.query.Get("sign") == "" {
		t.Errorf("query %v: want exactly the common parameters and sign", r.query)
	}
	if len(r.form) != 1 || r.form.Get("biz_content") == "" {
		t.Errorf("form %v: want only biz_content", r.form)
	}
	if r.contentType != "application/x-www-form-urlencoded;charset=utf-8" {
		t.Errorf("Content-Type = %q", r.contentType)
	}
	params := map[string]string{"biz_content": r.form.Get("biz_content")}
	for k := range want {
		params[k] = r.query.Get(k)
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + params[k]
	}
	sig, err := base64.StdEncoding.DecodeString(r.query.Get("sign"))
	if err != nil {
		t.Fatalf("sign is not base64: %v", err)
	}
	d := sha256.Sum256([]byte(strings.Join(parts, "&")))
	if err := rsa.VerifyPKCS1v15(&h.keys.App.PublicKey, crypto.SHA256, d[:], sig); err != nil {
		t.Errorf("sign does not verify over the SDKs' string to sign: %v", err)
	}
}

// TestKeyForms: every form a key may be configured in works end to end.
func TestKeyForms(t *testing.T) {
	t.Parallel()
	k := alipay.Keys(t)
	tests := []struct{ name, private, public string }{
		{"PKCS#1 PEM", k.AppPKCS1PEM, k.AlipayPublicPEM},
		{"PKCS#8 PEM", k.AppPKCS8PEM, k.AlipayPublicPEM},
		{"bare base64 PKCS#8 and public key, as the console shows", k.AppPKCS8Base64, k.AlipayPublicBase64},
		{"bare base64 PKCS#1, wrapped", wrap(k.AppPKCS1Base64), wrap(k.AlipayPublicBase64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			cfg := h.config()
			cfg.PrivateKey, cfg.AlipayPublicKey = tt.private, tt.public
			if err := h.send(h.client(cfg), okSend(openIDLong)); err != nil {
				t.Fatalf("Send: %v", err)
			}
		})
	}
}

func wrap(s string) string {
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return b.String() + s
}

func intp(n int) *int { return &n }

func TestClassification(t *testing.T) {
	t.Parallel()
	k := alipay.Keys(t)
	tests := []struct {
		name      string
		cfg       func(*alipay.Config)
		setup     func(h *harness)
		send      platform.Send
		wantClass message.Outcome
		wantCode  string
		wantRetry time.Duration
		// wantDelivered: the inbox after the failed send.
		wantDelivered int
	}{
		// Real answers of the mock.
		{name: "no subscription", send: okSend(userNone), wantClass: message.OutcomePermanent, wantCode: "40004/USER_NOT_SUBSCRIBED"},
		{name: "unknown user", send: okSend("2088999999999999"), wantClass: message.OutcomePermanent, wantCode: "40004/USER_NOT_EXIST"},
		{name: "unknown template", send: platform.Send{To: openIDLong, TemplateID: "nope", Page: page, Data: okSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "40004/USER_TEMPLATE_ILLEGAL"},
		{name: "missing keyword", send: platform.Send{To: openIDLong, TemplateID: templateID, Page: page, Data: map[string]string{"keyword1": "SF1"}},
			wantClass: message.OutcomePermanent, wantCode: "40004/INVALID_PARAMETER"},
		{name: "WeChat-style keys are passed through, and refused", send: platform.Send{To: openIDLong, TemplateID: templateID, Page: page,
			Data: map[string]string{"character_string1": "SF1", "thing2": "x"}},
			wantClass: message.OutcomePermanent, wantCode: "40004/INVALID_PARAMETER"},
		{name: "no page", send: platform.Send{To: openIDLong, TemplateID: templateID, Data: okSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "40004/INVALID_PARAMETER"},
		{name: "page not published", send: platform.Send{To: openIDLong, TemplateID: templateID, Page: "pages/gone", Data: okSend("").Data},
			wantClass: message.OutcomePermanent, wantCode: "40004/PAGE_ILLEGAL"},
		{name: "risky content", setup: func(h *harness) {
			h.ContentRules(mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "炸弹", Label: 20006}}})
		}, send: platform.Send{To: openIDLong, TemplateID: templateID, Page: page, Data: map[string]string{"keyword1": "SF1", "keyword2": "炸弹"}},
			wantClass: message.OutcomePermanent, wantCode: "40004/CONTENT_ILLEGAL"},
		{name: "quota reached", setup: func(h *harness) {
			h.T.Helper()
			h.Quota(endpoint, 1, "day")
			if err := h.send(h.client(h.config()), okSend(openIDLong)); err != nil {
				h.T.Fatalf("first send: %v", err)
			}
		}, wantClass: message.OutcomeThrottled, wantCode: "40004/isv.app-call-limited", wantDelivered: 1},

		// Configuration.
		{name: "unknown app (an unsigned answer)", cfg: func(c *alipay.Config) { c.AppID = "2021999999999999" },
			wantClass: message.OutcomeCredentials, wantCode: "40002/isv.invalid-app-id"},
		{name: "wrong app private key", cfg: func(c *alipay.Config) { c.PrivateKey = k.OtherPKCS8PEM },
			wantClass: message.OutcomeCredentials, wantCode: "40002/isv.invalid-signature"},
		// The send happens; only its answer cannot be trusted.
		{name: "wrong alipay public key", cfg: func(c *alipay.Config) { c.AlipayPublicKey = k.OtherPublicPEM },
			wantClass: message.OutcomePermanent, wantCode: "bad_response_signature", wantDelivered: 1},

		// Injected answers.
		{name: "service unavailable", setup: sendFault(mockapi.Fault{ErrCode: intp(20000), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "20000/isp.unknow-error"},
		{name: "auth token", setup: sendFault(mockapi.Fault{ErrCode: intp(20001), Times: 1}),
			wantClass: message.OutcomeCredentials, wantCode: "20001/aop.invalid-auth-token"},
		{name: "missing argument", setup: sendFault(mockapi.Fault{ErrCode: intp(40001), Times: 1}),
			wantClass: message.OutcomePermanent, wantCode: "40001/isv.missing-signature"},
		{name: "capability not enabled", setup: sendFault(mockapi.Fault{ErrCode: intp(40006), Times: 1}),
			wantClass: message.OutcomeCredentials, wantCode: "40006/isv.insufficient-isv-permissions"},
		{name: "user permissions", setup: sendFault(mockapi.Fault{ErrCode: intp(40006), ErrMsg: "isv.insufficient-user-permissions", Times: 1}),
			wantClass: message.OutcomePermanent, wantCode: "40006/isv.insufficient-user-permissions"},
		{name: "rate limited", setup: sendFault(mockapi.Fault{ErrCode: intp(40004), ErrMsg: "isv.app-call-limited 应用调用次数超限", Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "40004/isv.app-call-limited"},
		{name: "unknown business failure", setup: sendFault(mockapi.Fault{ErrCode: intp(40004), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "40004/UNKNOWN_ERROR"},
		{name: "gateway-wide fault", setup: func(h *harness) {
			h.Fault(mockapi.Fault{Endpoint: "gateway", ErrCode: intp(-1), Times: 1})
		}, wantClass: message.OutcomeRetryable, wantCode: "20000/isp.unknow-error"},
		{name: "http 502", setup: sendFault(mockapi.Fault{HTTPStatus: 502, Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "http 502"},
		{name: "http 429", setup: sendFault(mockapi.Fault{HTTPStatus: 429, Times: 1}),
			wantClass: message.OutcomeThrottled, wantCode: "http 429"},
		{name: "dropped connection", setup: sendFault(mockapi.Fault{Drop: true}),
			wantClass: message.OutcomeRetryable, wantCode: "network"},
		// The mock, like a real server, carries on with a call whose
		// client gave up: a timeout is retryable, and the send may have
		// happened all the same.
		{name: "timeout",
			cfg:       func(c *alipay.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} },
			setup:     sendFault(mockapi.Fault{Latency: mockapi.Duration(3 * time.Second), Times: 1}),
			wantClass: message.OutcomeRetryable, wantCode: "timeout", wantDelivered: 1},
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
				s = okSend(openIDLong)
			}
			err := h.send(h.client(cfg), s)
			pe := platformtest.SendError(t, err, platformtest.Want{Platform: alipay.Platform,
				Class: tt.wantClass, Code: tt.wantCode, RetryAfter: [2]time.Duration{tt.wantRetry, tt.wantRetry}})
			if pe.Message == "" {
				t.Error("empty Message")
			}
			if n := len(h.inboxWait(tt.wantDelivered)); n != tt.wantDelivered {
				t.Errorf("inbox holds %d messages, want %d", n, tt.wantDelivered)
			}
		})
	}
}

func sendFault(f mockapi.Fault) func(h *harness) {
	return func(h *harness) {
		f.Endpoint = endpoint
		h.Fault(f)
	}
}

// TestTamperedAnswers puts a proxy between the client and the mock that
// changes the answer on the way.
func TestTamperedAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		send    platform.Send
		setup   func(h *harness)
		rewrite func([]byte) []byte
		// wantCode "" means the send succeeds.
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "a byte of the success node flipped",
			rewrite: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"Success"`), []byte(`"Succesz"`), 1)
			},
			wantClass: message.OutcomePermanent, wantCode: "bad_response_signature"},
		{name: "a failure turned into a success",
			send: okSend(userNone),
			rewrite: func(b []byte) []byte {
				var env map[string]json.RawMessage
				_ = json.Unmarshal(b, &env)
				return []byte(`{"alipay_open_app_mini_templatemessage_send_response":{"code":"10000","msg":"Success"},"sign":` + string(env["sign"]) + `}`)
			},
			wantClass: message.OutcomePermanent, wantCode: "bad_response_signature"},
		{name: "signature stripped from a success",
			rewrite: func(b []byte) []byte {
				i := bytes.LastIndex(b, []byte(`,"sign"`))
				return append(b[:i:i], '}')
			},
			wantClass: message.OutcomePermanent, wantCode: "bad_response_signature"},
		{name: "signature stripped from a failure: classified by its code",
			send: okSend(userNone),
			rewrite: func(b []byte) []byte {
				i := bytes.LastIndex(b, []byte(`,"sign"`))
				return append(b[:i:i], '}')
			},
			wantClass: message.OutcomePermanent, wantCode: "40004/USER_NOT_SUBSCRIBED"},
		{name: "slashes escaped on the way: verified on the second try",
			setup: sendFault(mockapi.Fault{ErrCode: intp(40004), ErrMsg: "PAGE_ILLEGAL pages/a/b", Times: 1}),
			rewrite: func(b []byte) []byte {
				return bytes.ReplaceAll(b, []byte("pages/a/b"), []byte(`pages\/a\/b`))
			},
			wantClass: message.OutcomePermanent, wantCode: "40004/PAGE_ILLEGAL"},
		{name: "answer pretty-printed around the node", rewrite: func(b []byte) []byte {
			b = bytes.Replace(b, []byte(`{"alipay_`), []byte("{\n  \"alipay_"), 1)
			return bytes.Replace(b, []byte(`,"sign"`), []byte(",\n  \"sign\""), 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			p := h.proxy(tt.rewrite)
			cfg := h.config()
			cfg.BaseURL = p.url
			s := tt.send
			if s.To == "" {
				s = okSend(openIDLong)
			}
			err := h.send(h.client(cfg), s)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			var pe *platform.Error
			if !errors.As(err, &pe) || pe.Class != tt.wantClass || pe.Code != tt.wantCode {
				t.Fatalf("Send error %v; want %s %s", err, tt.wantClass, tt.wantCode)
			}
		})
	}
}

func TestCheckContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		texts     []string
		want      platform.Verdict
		wantCalls int
	}{
		{name: "pass", texts: []string{"订单已发货", "明天送达"}, want: platform.Verdict{Label: "PASSED"}, wantCalls: 1},
		{name: "risky", texts: []string{"订单已发货", "买炸弹"}, want: platform.Verdict{Risky: true, Label: "炸弹"}, wantCalls: 1},
		{name: "two hits across texts", texts: []string{"彩票", "炸弹"}, want: platform.Verdict{Risky: true, Label: "彩票,炸弹"}, wantCalls: 1},
		{name: "review-level hit passes with its keyword", texts: []string{"彩票中奖"}, want: platform.Verdict{Label: "彩票"}, wantCalls: 1},
		{name: "nothing to check", texts: []string{"", "  "}, want: platform.Verdict{Label: "PASSED"}, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			h.ContentRules(mockapi.ContentRules{
				Risky:  []mockapi.ContentWord{{Word: "炸弹", Label: 20006}},
				Review: []mockapi.ContentWord{{Word: "彩票", Label: 10001}},
			})
			v, err := h.Check(h.client(h.config()), userOnce, tt.texts...)
			if err != nil {
				t.Fatalf("CheckContent: %v", err)
			}
			// The hit order is the mock's; compare the label as a set.
			if v.Risky != tt.want.Risky || sortedLabel(v.Label) != sortedLabel(tt.want.Label) {
				t.Errorf("verdict = %+v, want %+v", v, tt.want)
			}
			if n := h.Calls("content_detect"); n != tt.wantCalls {
				t.Errorf("content_detect calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func sortedLabel(s string) string {
	parts := strings.Split(s, ",")
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func TestCheckContentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     mockapi.Fault
		wantClass message.Outcome
		wantCode  string
	}{
		{name: "unavailable", fault: mockapi.Fault{ErrCode: intp(20000)}, wantClass: message.OutcomeRetryable, wantCode: "20000/isp.unknow-error"},
		{name: "capability not enabled", fault: mockapi.Fault{ErrCode: intp(40006)},
			wantClass: message.OutcomeCredentials, wantCode: "40006/isv.insufficient-isv-permissions"},
		{name: "http 503", fault: mockapi.Fault{HTTPStatus: 503}, wantClass: message.OutcomeRetryable, wantCode: "http 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t)
			f := tt.fault
			f.Endpoint = "content_detect"
			h.Fault(f)
			_, err := h.Check(h.client(h.config()), userOnce, []string{"订单已发货"}...)
			var pe *platform.Error
			if !errors.As(err, &pe) || pe.Class != tt.wantClass || pe.Code != tt.wantCode {
				t.Fatalf("CheckContent error = %v, want %s %s", err, tt.wantClass, tt.wantCode)
			}
		})
	}
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(h.config())
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := h.send(c, okSend(openIDLong)); err != nil {
				t.Errorf("send: %v", err)
			}
		})
	}
	wg.Wait()
	if got := h.Calls(endpoint, 0); got != n {
		t.Fatalf("delivered = %d, want %d", got, n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	k := alipay.Keys(t)
	good := alipay.Config{AppID: appID, PrivateKey: k.AppPKCS8PEM, AlipayPublicKey: k.AlipayPublicPEM}
	tests := []struct {
		name    string
		mutate  func(*alipay.Config)
		wantErr string // a phrase the error must hold; "" for success
	}{
		{name: "valid", mutate: func(*alipay.Config) {}},
		{name: "no app id", mutate: func(c *alipay.Config) { c.AppID = "" }, wantErr: "app id is required"},
		{name: "bad app id", mutate: func(c *alipay.Config) { c.AppID = "2021 1" }, wantErr: "app id"},
		{name: "no private key", mutate: func(c *alipay.Config) { c.PrivateKey = "" }, wantErr: "private key (the app private key): is required"},
		{name: "garbage private key", mutate: func(c *alipay.Config) { c.PrivateKey = "not a key at all!" }, wantErr: "private key"},
		{name: "truncated private key", mutate: func(c *alipay.Config) { c.PrivateKey = k.AppPKCS8Base64[:600] }, wantErr: "private key"},
		{name: "public key as the private key", mutate: func(c *alipay.Config) { c.PrivateKey = k.AppPublicPEM }, wantErr: "is a public key"},
		{name: "no alipay public key", mutate: func(c *alipay.Config) { c.AlipayPublicKey = "" }, wantErr: "alipay public key: is required"},
		{name: "private key as the alipay public key", mutate: func(c *alipay.Config) { c.AlipayPublicKey = k.AppPKCS1PEM }, wantErr: "alipay public key: is a private key"},
		{name: "the app's own public key as the alipay public key", mutate: func(c *alipay.Config) { c.AlipayPublicKey = k.AppPublicPEM },
			wantErr: "app's own public key"},
		{name: "bad base URL", mutate: func(c *alipay.Config) { c.BaseURL = "ftp://x" }, wantErr: "base URL"},
		{name: "base URL with query", mutate: func(c *alipay.Config) { c.BaseURL = "http://x/?a=b" }, wantErr: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.mutate(&cfg)
			c, err := alipay.New(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr == "" && c.AppID() != appID:
				t.Fatalf("AppID = %q", c.AppID())
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error = %v, want one holding %q", err, tt.wantErr)
			}
			if err != nil {
				for _, s := range k.PrivateMaterial() {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("New error %q quotes key material", err)
					}
				}
				if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "MII") {
					t.Fatalf("New error %q quotes key material", err)
				}
			}
		})
	}
}

func TestConfigRedactsPrivateKey(t *testing.T) {
	t.Parallel()
	k := alipay.Keys(t)
	cfg := alipay.Config{AppID: appID, PrivateKey: k.AppPKCS8PEM, AlipayPublicKey: k.AlipayPublicPEM}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		out := fmt.Sprintf(format, cfg)
		if strings.Contains(out, "BEGIN") || !strings.Contains(out, appID) || !strings.Contains(out, "REDACTED") {
			t.Errorf("Sprintf(%q, cfg) = %s: want the app id and REDACTED, never a key", format, out)
		}
		for _, s := range k.PrivateMaterial() {
			if strings.Contains(out, s) {
				t.Errorf("Sprintf(%q, cfg) prints the private key", format)
			}
		}
	}
}

// TestDefaultPage: a message without a page gets Config.DefaultPage.
func TestDefaultPage(t *testing.T) {
	t.Parallel()
	h := start(t)
	cfg := h.config()
	cfg.DefaultPage = "pages/index/index"
	s := okSend(openIDLong)
	s.Page = ""
	if err := h.send(h.client(cfg), s); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if in := h.inbox(); len(in) != 1 || in[0].Page != cfg.DefaultPage {
		t.Fatalf("inbox %+v, want one message on %s", in, cfg.DefaultPage)
	}
}
