// Package wechat is the sender's WeChat mini-program client: one Client per
// app sends subscribe messages (POST /cgi-bin/message/subscribe/send), runs
// the optional content check (POST /wxa/msg_sec_check, version 2) and keeps
// the app's access token through a tokens.Broker.
//
// What it does that the public SDKs do not (docs/platforms/wechat.md):
//
//   - on 40001/40014/42001 it drops the token (only if still current),
//     fetches a new one and retries once, at once; a second token error is
//     classified "token";
//   - it uses the stable token (POST /cgi-bin/stable_token) by default, which
//     another instance's fetch cannot invalidate;
//   - it classifies every documented errcode (codes.go) so the dispatcher can
//     decide between deliver, fail, retry with backoff, and back off the app;
//   - msgid is decoded as int64 text (it exceeds 2^53);
//   - no error ever carries the AppSecret, the access token or a request URL
//     (Go's *url.Error prints the URL, whose query holds the token — or, for
//     GET /cgi-bin/token, the secret).
package wechat

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/platform/classify"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// Platform is the platform name in errors and messages.
const Platform = "wechat"

// Defaults.
const (
	DefaultBaseURL = "https://api.weixin.qq.com"
	// DefaultTimeout bounds one HTTP call when Config.HTTPClient is nil.
	DefaultTimeout = call.DefaultTimeout
)

// Config is one WeChat mini-program app.
type Config struct {
	AppID  string
	Secret string // AppSecret: never printed, logged or put in an error
	// BaseURL replaces https://api.weixin.qq.com (the mock, a proxy).
	BaseURL string
	// HTTPClient makes the calls; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
	// LegacyToken fetches tokens with GET /cgi-bin/token instead of the
	// default POST /cgi-bin/stable_token. The stable token is the default
	// because a fetch by anyone else holding the secret (another service,
	// a developer's script) cannot invalidate it, while each /cgi-bin/token
	// call kills the previous token 5 minutes later.
	LegacyToken bool
	// MiniprogramState is developer, trial or formal (empty: the
	// platform's default, formal).
	MiniprogramState string
	// Lang is zh_CN, en_US, zh_HK or zh_TW (empty: zh_CN).
	Lang string
}

// String prints the config with the secret redacted.
func (c Config) String() string {
	type plain Config
	if c.Secret != "" {
		c.Secret = "REDACTED"
	}
	return fmt.Sprintf("%+v", plain(c))
}

// GoString is String for %#v.
func (c Config) GoString() string { return "wechat.Config" + c.String() }

// Client sends through one WeChat app. Safe for concurrent use.
type Client struct {
	cfg    Config
	base   string // BaseURL without a trailing slash
	api    *call.Client
	broker *tokens.Broker
	codes  classify.Classifier
}

var _ platform.Client = (*Client)(nil)

// New returns a client for cfg. store keeps the access token across
// restarts (nil: memory only). It fails when cfg is invalid, naming the
// setting.
//
// opts are platform.WithClock (the clock of the token broker and of
// quota backoffs) and platform.WithTokenOptions.
func New(cfg Config, store tokens.Store, opts ...platform.Option) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := platform.NewOptions(opts)
	scrub := call.NewScrubber(cfg.Secret)
	c := &Client{cfg: cfg, api: call.New(Platform, cfg.HTTPClient, scrub),
		codes: classify.Classifier{Platform: Platform, Word: "errcode", Scrubber: scrub, Options: o}}
	c.base = strings.TrimRight(cfg.BaseURL, "/")
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	// Stable and normal tokens are separate pools on the platform, so they
	// are stored under separate keys. The key holds no secret.
	pool := "stable"
	if cfg.LegacyToken {
		pool = "token"
	}
	c.broker = o.NewBroker(Platform+"/"+cfg.AppID+"/"+pool, store, c.fetchToken)
	return c, nil
}

func (cfg Config) validate() error {
	name := cfg.AppID
	if name == "" {
		name = "(no app id)"
	}
	switch {
	case strings.TrimSpace(cfg.AppID) == "":
		return errors.New("wechat app: app id is required")
	case strings.ContainsAny(cfg.AppID, " \t\r\n/?&#"):
		return fmt.Errorf("wechat app %q: app id has characters an AppID cannot have", name)
	case cfg.Secret == "":
		return fmt.Errorf("wechat app %s: secret (the AppSecret) is required", name)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("wechat app %s: base URL %q must be an http(s) URL without a query", name, cfg.BaseURL)
		}
	}
	switch cfg.MiniprogramState {
	case "", "developer", "trial", "formal":
	default:
		return fmt.Errorf("wechat app %s: miniprogram state %q must be developer, trial or formal", name, cfg.MiniprogramState)
	}
	switch cfg.Lang {
	case "", "zh_CN", "en_US", "zh_HK", "zh_TW":
	default:
		return fmt.Errorf("wechat app %s: lang %q must be zh_CN, en_US, zh_HK or zh_TW", name, cfg.Lang)
	}
	return nil
}

// AppID is the client's app.
func (c *Client) AppID() string { return c.cfg.AppID }

// Tokens is the app's token broker (to warm it up, or to drop a token
// known to be leaked).
func (c *Client) Tokens() *tokens.Broker { return c.broker }
