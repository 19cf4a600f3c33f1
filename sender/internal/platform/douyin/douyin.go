// Package douyin is the sender's Douyin (ByteDance, 抖音) mini-app client:
// one Client per app sends subscribe messages, runs the optional text
// moderation and keeps the app's token through a tokens.Broker.
//
// Douyin has two generations of server API, on two hosts, with two kinds of
// app token that are not interchangeable (docs/platforms/douyin.md):
//
//   - "v2" (the default, current for mini-apps): a client_token from
//     POST open.douyin.com/oauth/client_token/, sent in the access-token
//     header to POST /api/notification/v2/subscription/notify_user/ and to
//     the newer moderation POST /api/apps/v1/censor/text/;
//   - "v1" (legacy, announced for retirement for mini-apps, still
//     documented for mini-games): an access_token from
//     POST developer.toutiao.com/api/apps/v2/token, sent in the body of
//     POST /api/apps/subscribe_notification/developer/v1/notify and in the
//     X-Token header of the moderation POST /api/v2/tags/text/antidirt.
//
// A client uses one generation for everything, so it holds one token.
//
// Like the WeChat client it drops a rejected token (only if still current),
// fetches once and retries once; classifies every documented code (codes.go)
// so the dispatcher can decide between deliver, fail, retry and back off the
// app; and never puts the secret or a token into an error.
package douyin

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
const Platform = "douyin"

// The APIs Config.API selects.
const (
	APIv2 = "v2" // client_token + notify_user + censor/text (default)
	APIv1 = "v1" // access_token + developer/v1/notify + antidirt
)

// Defaults.
const (
	// DefaultOpenURL is the host of the v2 APIs (client_token, notify_user,
	// censor/text).
	DefaultOpenURL = "https://open.douyin.com"
	// DefaultLegacyURL is the host of the v1 APIs (/api/apps/v2/token, v1
	// notify, antidirt).
	DefaultLegacyURL = "https://developer.toutiao.com"
	// DefaultTimeout bounds one HTTP call when Config.HTTPClient is nil.
	DefaultTimeout = call.DefaultTimeout
)

// Config is one Douyin mini-app.
type Config struct {
	AppID  string // the mini-app's AppID ("tt…"), also the client_key of client_token
	Secret string // AppSecret: never printed, logged or put in an error
	// BaseURL replaces both Douyin hosts, open.douyin.com and
	// developer.toutiao.com (the mock serves every API on one listener; a
	// proxy). It may carry a path prefix: for a mini-game on v1,
	// "https://minigame.zijieapi.com/mgplatform".
	BaseURL string
	// HTTPClient makes the calls; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
	// API is "v2" (default) or "v1", see the package comment. v2 is the
	// default because the platform's notify_user doc calls it the interface
	// to use from now on and schedules v1's retirement for mini-apps.
	API string
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
func (c Config) GoString() string { return "douyin.Config" + c.String() }

// Client sends through one Douyin app. Safe for concurrent use.
type Client struct {
	cfg        Config
	openURL    string // host of the v2 APIs, no trailing slash
	legacyURL  string // host of the v1 APIs, no trailing slash
	api        *call.Client
	broker     *tokens.Broker
	codes      classify.Classifier
	legacyMode bool // API v1
}

var _ platform.Client = (*Client)(nil)

// New returns a client for cfg. store keeps the token across restarts (nil:
// memory only). It fails when cfg is invalid, naming the setting.
//
// opts are platform.WithClock (the clock of the token broker and of
// quota backoffs) and platform.WithTokenOptions.
func New(cfg Config, store tokens.Store, opts ...platform.Option) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := platform.NewOptions(opts)
	scrub := call.NewScrubber(cfg.Secret).WithFields(secretFields, secretFieldsRedacted)
	c := &Client{cfg: cfg, api: call.New(Platform, cfg.HTTPClient, scrub), legacyMode: cfg.API == APIv1,
		codes:   classify.Classifier{Platform: Platform, Word: "err_no", Scrubber: scrub, Options: o},
		openURL: DefaultOpenURL, legacyURL: DefaultLegacyURL}
	if base := strings.TrimRight(cfg.BaseURL, "/"); base != "" {
		c.openURL, c.legacyURL = base, base
	}
	// The two kinds of token are separate pools on the platform (and one
	// does not open the other's APIs), so they are stored under separate
	// keys. The key holds no secret.
	kind := "client_token"
	if c.legacyMode {
		kind = "access_token"
	}
	c.broker = o.NewBroker(Platform+"/"+cfg.AppID+"/"+kind, store, c.fetchToken)
	return c, nil
}

func (cfg Config) validate() error {
	name := cfg.AppID
	switch {
	case strings.TrimSpace(cfg.AppID) == "":
		return errors.New("douyin app: app id is required")
	case strings.ContainsAny(cfg.AppID, " \t\r\n/?&#\"\\"):
		return fmt.Errorf("douyin app %q: app id has characters an AppID cannot have", name)
	case cfg.Secret == "":
		return fmt.Errorf("douyin app %s: secret (the AppSecret) is required", name)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("douyin app %s: base URL %q must be an http(s) URL without a query", name, cfg.BaseURL)
		}
	}
	switch cfg.API {
	case "", APIv2, APIv1:
	default:
		return fmt.Errorf("douyin app %s: api %q must be v2 or v1", name, cfg.API)
	}
	return nil
}

// AppID is the client's app.
func (c *Client) AppID() string { return c.cfg.AppID }

// API is the API generation the client uses, "v2" or "v1".
func (c *Client) API() string {
	if c.legacyMode {
		return APIv1
	}
	return APIv2
}

// Tokens is the app's token broker (to warm it up, or to drop a token known
// to be leaked).
func (c *Client) Tokens() *tokens.Broker { return c.broker }
