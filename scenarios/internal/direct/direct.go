// Package direct calls the platforms' server APIs the way a mini-program
// backend would — token, subscribe send, content check — with nothing but
// net/http, so acceptance scenarios can drive the mock without the sender
// in between. It is deliberately small: one file per platform, just the
// calls the scenarios need, answers reduced to an Answer.
//
// The sender has its own, complete clients (sender/internal/platform); this
// package is a second, independent reading of the same wire formats, which
// is the point: a scenario that passes through both agrees with the mock
// twice.
package direct

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Platforms, as the mock and the sender name them.
const (
	WeChat   = "wechat"
	Alipay   = "alipay"
	Douyin   = "douyin"
	Kuaishou = "kuaishou"
	Baidu    = "baidu"
)

// App is one mini-program on a platform.
type App struct {
	Platform string
	AppID    string
	Secret   string // every platform but Alipay
	// Alipay: the app private key requests are signed with, and the
	// platform public key answers are verified with.
	AlipayAppKey    *rsa.PrivateKey
	AlipayPublicKey *rsa.PublicKey
	// AlipayCerts, for an Alipay app in certificate mode, are the SNs its
	// requests carry and the Alipay certificate's key answers are checked with.
	AlipayCerts *AlipayCerts
}

// Message is one subscribe message.
type Message struct {
	To         string
	TemplateID string
	Data       map[string]string
	Page       string
	// SubscribeID is Baidu's subscribe_id (the template id when empty).
	SubscribeID string
}

// Answer is a platform's answer reduced to what scenarios compare.
type Answer struct {
	OK bool
	// Code is written the way the sender records codes: "43101",
	// "40004/USER_NOT_SUBSCRIBED", "http 502"; "0" on success.
	Code    string
	Message string
	// MsgID is the platform's message id, when it gives one.
	MsgID  string
	Status int
	Body   string
}

func (a Answer) String() string {
	if a.OK {
		return "ok (msgid " + a.MsgID + ")"
	}
	return fmt.Sprintf("code %s: %s", a.Code, a.Message)
}

// Client calls one mock (or real host) base URL.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Now stamps Alipay's timestamp parameter (default time.Now).
	Now func() time.Time
}

// New returns a client for baseURL.
func New(baseURL string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: 20 * time.Second}, Now: time.Now}
}

// Token fetches an access token the way each platform's docs say (Alipay
// has none: it answers "" and no error).
func (c *Client) Token(ctx context.Context, app App) (string, Answer, error) {
	switch app.Platform {
	case WeChat:
		return c.wechatToken(ctx, app)
	case Alipay:
		return "", Answer{OK: true, Code: "0"}, nil
	case Douyin:
		return c.douyinToken(ctx, app)
	case Kuaishou:
		return c.kuaishouToken(ctx, app)
	case Baidu:
		return c.baiduToken(ctx, app)
	}
	return "", Answer{}, fmt.Errorf("platform %q: not known", app.Platform)
}

// Send sends one subscribe message with token (ignored on Alipay).
func (c *Client) Send(ctx context.Context, app App, token string, m Message) (Answer, error) {
	switch app.Platform {
	case WeChat:
		return c.wechatSend(ctx, token, m)
	case Alipay:
		return c.alipaySend(ctx, app, m, nil)
	case Douyin:
		return c.douyinSend(ctx, token, m)
	case Kuaishou:
		return c.kuaishouSend(ctx, app, token, m)
	case Baidu:
		return c.baiduSend(ctx, token, m)
	}
	return Answer{}, fmt.Errorf("platform %q: not known", app.Platform)
}

// do makes one call and returns the status and the body.
func (c *Client) do(ctx context.Context, method, path string, header http.Header, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// httpFailure is the answer to a non-JSON error page (a proxy's 502).
func httpFailure(status int, body []byte) Answer {
	return Answer{Code: fmt.Sprintf("http %d", status), Message: http.StatusText(status), Status: status, Body: string(body)}
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func formHeader() http.Header {
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

// keywordValues writes data as {"key":{"value":"…"}}, the shape WeChat,
// Alipay, Kuaishou and Baidu share.
func keywordValues(data map[string]string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(data))
	for k, v := range data {
		out[k] = map[string]string{"value": v}
	}
	return out
}
