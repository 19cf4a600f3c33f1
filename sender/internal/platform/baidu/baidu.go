// Package baidu is the sender's Baidu Smart Program (百度智能小程序) client:
// one Client per app sends subscribe messages (POST
// /rest/2.0/smartapp/template/message/subscribe/send), runs the optional
// text check (POST /rest/2.0/smartapp/riskDetection/v2/syncCheckText) and
// keeps the app's access token (POST /oauth/2.0/token) through a
// tokens.Broker.
//
// Facts: docs/platforms/baidu.md. Baidu
// answers in three shapes, and the client reads all three on every call:
//
//   - OAuth errors on the token endpoint, HTTP 400:
//     {"error":"invalid_client","error_description":"…"};
//   - gateway errors in front of /rest/2.0/, HTTP 200:
//     {"error_code":110,"error_msg":"…"} — token, limit and routing failures;
//   - business answers, HTTP 200: {"errno":0,"msg":"success","data":{…}}.
//
// What the client does:
//
//   - on gateway 110/111 (token invalid/expired) it drops the token (only if
//     still current), fetches a new one and retries once, at once; a second
//     one is classified "token";
//   - the access token goes in the query (the FAQ: a token in the form body
//     answers "Invalid parameter"); Go's *url.Error prints that URL, so
//     transport errors are unwrapped and scrubbed;
//   - the token request is a form POST (the doc's prose recommends POST), so
//     the secret is never in a URL;
//   - subscribe_id, which the platform requires and platform.Send does not
//     carry, is derived per message (see Client.SubscribeID).
package baidu

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
const Platform = "baidu"

// Defaults.
const (
	DefaultBaseURL = "https://openapi.baidu.com"
	// DefaultTimeout bounds one HTTP call when Config.HTTPClient is nil.
	DefaultTimeout = call.DefaultTimeout
)

// Config is one Baidu smart program.
type Config struct {
	// AppID is the app's AppKey (the token's client_id), not the numeric
	// AppID: Baidu addresses server APIs by AppKey.
	AppID  string
	Secret string // AppSecret: never printed, logged or put in an error
	// BaseURL replaces https://openapi.baidu.com (the mock, a proxy).
	BaseURL string
	// HTTPClient makes the calls; nil means a client with DefaultTimeout.
	HTTPClient *http.Client

	// SubscribeIDs maps a template id to the subscribe-id the mini-program
	// asks users to authorize it under (the subscribe-id attribute of its
	// subscription form or call). SubscribeID is the id for templates not
	// in the map. With neither, the template id itself is sent. A message
	// may carry its own id in Data[SubscribeIDKey], which wins. See
	// Client.SubscribeID.
	SubscribeIDs map[string]string
	SubscribeID  string

	// CheckLead adds the "lead" (诱导违规, inducement) strategy to
	// CheckContent's default "risk" (内容违规) strategy.
	CheckLead bool
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
func (c Config) GoString() string { return "baidu.Config" + c.String() }

// Client sends through one Baidu smart program. Safe for concurrent use.
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
// opts are platform.WithClock (the clock of the token broker and of
// quota backoffs) and platform.WithTokenOptions.
func New(cfg Config, store tokens.Store, opts ...platform.Option) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := platform.NewOptions(opts)
	// The map is read on every send: keep a private copy.
	if cfg.SubscribeIDs != nil {
		ids := make(map[string]string, len(cfg.SubscribeIDs))
		for k, v := range cfg.SubscribeIDs {
			ids[k] = v
		}
		cfg.SubscribeIDs = ids
	}
	scrub := call.NewScrubber(cfg.Secret)
	c := &Client{cfg: cfg, api: call.New(Platform, cfg.HTTPClient, scrub),
		codes: classify.Classifier{Platform: Platform, Word: "code", Scrubber: scrub, Options: o}}
	c.base = strings.TrimRight(cfg.BaseURL, "/")
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	c.broker = o.NewBroker(Platform+"/"+cfg.AppID, store, c.fetchToken)
	return c, nil
}

func (cfg Config) validate() error {
	name := cfg.AppID
	switch {
	case strings.TrimSpace(cfg.AppID) == "":
		return errors.New("baidu app: app id (the AppKey) is required")
	case strings.ContainsAny(cfg.AppID, " \t\r\n/?&#=%"):
		return fmt.Errorf("baidu app %q: app id has characters an AppKey cannot have", name)
	case cfg.Secret == "":
		return fmt.Errorf("baidu app %s: secret (the AppSecret) is required", name)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("baidu app %s: base URL %q must be an http(s) URL without a query", name, cfg.BaseURL)
		}
	}
	for tmpl, id := range cfg.SubscribeIDs {
		if strings.TrimSpace(id) == "" {
			return fmt.Errorf("baidu app %s: subscribe ids: template %q has an empty subscribe id", name, tmpl)
		}
	}
	return nil
}

// AppID is the client's app (its AppKey).
func (c *Client) AppID() string { return c.cfg.AppID }

// Tokens is the app's token broker (to warm it up, or to drop a token
// known to be leaked).
func (c *Client) Tokens() *tokens.Broker { return c.broker }
