// Package kuaishou is the sender's Kuaishou (快手) mini-program client: one
// Client per app sends subscribe messages (POST
// /openapi/mp/developer/message/template/send) and keeps the app's access
// token (POST /oauth2/access_token) through a tokens.Broker.
//
// Facts: docs/platforms/kuaishou.md. Kuaishou
// documents the token API's two error codes only (100200100 参数有误,
// 100200101 验证出错); the send API's error table could not be retrieved,
// so every other code in codes.go is UNCONFIRMED (it is the mock's reading,
// docs/mock-kuaishou.md) and unknown codes are retryable.
//
// What the client does:
//
//   - both calls are form posts with every parameter in the body — the
//     secret and the access token never travel in a URL, so Go's
//     *url.Error (which prints the URL) cannot leak them;
//   - on 100200101 from the send API it drops the token (only if still
//     current), fetches a new one and retries once, at once; a second one
//     is classified "token";
//   - a token lives at most 48 h ("access_token 48小时内有效"), whatever
//     expires_in says: the doc's sample values (23435, 3600000) disagree
//     with its own sentence;
//   - Kuaishou has no documented content-security endpoint, so
//     CheckContent answers platform.ErrUnsupported.
package kuaishou

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
const Platform = "kuaishou"

// Defaults.
const (
	DefaultBaseURL = "https://open.kuaishou.com"
	// DefaultTimeout bounds one HTTP call when Config.HTTPClient is nil.
	DefaultTimeout = call.DefaultTimeout
)

// Config is one Kuaishou mini-program app.
type Config struct {
	AppID  string // "ks" and 18 digits, e.g. ks707065143182458884
	Secret string // app_secret: never printed, logged or put in an error
	// BaseURL replaces https://open.kuaishou.com (the mock, a proxy).
	BaseURL string
	// HTTPClient makes the calls; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
	// DefaultPage is sent as page when a Send has none. The send API lists
	// page as required ("必填": the path the message card opens); the mock
	// refuses an empty one. Empty: a Send without a page goes without one,
	// and the platform's answer decides.
	DefaultPage string
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
func (c Config) GoString() string { return "kuaishou.Config" + c.String() }

// Client sends through one Kuaishou app. Safe for concurrent use.
type Client struct {
	cfg    Config
	base   string // BaseURL without a trailing slash
	api    *call.Client
	broker *tokens.Broker
	codes  classify.Classifier
}

var _ platform.Client = (*Client)(nil)

// New returns a client for cfg. store keeps the access token across
// restarts and instances (nil: memory only). It fails when cfg is invalid,
// naming the setting.
//
// opts are platform.WithClock (the token broker's clock) and
// platform.WithTokenOptions.
func New(cfg Config, store tokens.Store, opts ...platform.Option) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := platform.NewOptions(opts)
	scrub := call.NewScrubber(cfg.Secret)
	c := &Client{cfg: cfg, api: call.New(Platform, cfg.HTTPClient, scrub),
		codes: classify.Classifier{Platform: Platform, Word: "result", Scrubber: scrub, Options: o}}
	c.base = strings.TrimRight(cfg.BaseURL, "/")
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	// A refetch leaves earlier tokens valid ("新老token同时有效"), so
	// instances sharing the store never knock out each other's token.
	c.broker = o.NewBroker(Platform+"/"+cfg.AppID, store, c.fetchToken)
	return c, nil
}

func (cfg Config) validate() error {
	name := cfg.AppID
	switch {
	case strings.TrimSpace(cfg.AppID) == "":
		return errors.New("kuaishou app: app id is required")
	case strings.ContainsAny(cfg.AppID, " \t\r\n/?&#=%"):
		return fmt.Errorf("kuaishou app %q: app id has characters an app_id cannot have", name)
	case cfg.Secret == "":
		return fmt.Errorf("kuaishou app %s: secret (the app_secret) is required", name)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("kuaishou app %s: base URL %q must be an http(s) URL without a query", name, cfg.BaseURL)
		}
	}
	// "只需要传 uri 的 path 部分": a path inside the mini-program.
	if strings.Contains(cfg.DefaultPage, "://") || strings.ContainsAny(cfg.DefaultPage, " \t\r\n") {
		return fmt.Errorf("kuaishou app %s: default page %q must be a mini-program path, not a URL", name, cfg.DefaultPage)
	}
	return nil
}

// AppID is the client's app.
func (c *Client) AppID() string { return c.cfg.AppID }

// Tokens is the app's token broker (to warm it up, or to drop a token
// known to be leaked).
func (c *Client) Tokens() *tokens.Broker { return c.broker }
