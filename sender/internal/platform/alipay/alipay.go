// Package alipay is the sender's Alipay mini-program client: one Client per
// app sends template (subscription) messages through the open-platform
// gateway (alipay.open.app.mini.templatemessage.send) and runs the optional
// text check (alipay.security.risk.content.detect).
//
// There is no access token: every call is signed with the app private key
// (RSA2 = SHA256withRSA), and every answer's signature is verified with the
// Alipay public key, both exactly as the official SDKs do
// (alipay-sdk-java-all AlipaySignature, alipay-sdk-nodejs-all util/alipay,
// the PHP AopClient). Facts: docs/platforms/alipay.md; the code
// tables are in codes.go, the classification in README.md.
//
// No error ever carries the private key: keys are parsed once in New, and
// errors about them name the setting, never its content.
package alipay

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/platform/classify"
)

// Platform is the platform name in errors and messages.
const Platform = "alipay"

// Defaults.
const (
	DefaultBaseURL = "https://openapi.alipay.com"
	// GatewayPath is appended to the base URL (unless it already ends in it).
	GatewayPath = "/gateway.do"
	// DefaultTimeout bounds one HTTP call when Config.HTTPClient is nil.
	DefaultTimeout = call.DefaultTimeout
)

// Config is one Alipay mini-program app.
type Config struct {
	AppID string
	// PrivateKey is the app private key: PEM (PKCS#1 "RSA PRIVATE KEY" or
	// PKCS#8 "PRIVATE KEY") or the bare base64 Alipay's key tool shows.
	// Never printed, logged or put in an error.
	PrivateKey string
	// AlipayPublicKey is the platform's key the answers are signed with
	// ("支付宝公钥" in the console, not the app public key): PEM or bare
	// base64.
	AlipayPublicKey string
	// BaseURL replaces https://openapi.alipay.com (the sandbox, the mock, a
	// proxy); /gateway.do is appended unless the URL already ends in it.
	BaseURL string
	// HTTPClient makes the calls; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
	// DefaultPage is sent as page when a message has none. The method's doc
	// marks page required (UNCONFIRMED whether the gateway enforces it; the
	// mock does), while WeChat callers may leave it out.
	DefaultPage string
}

// String prints the config with the private key redacted.
func (c Config) String() string {
	type plain Config
	if c.PrivateKey != "" {
		c.PrivateKey = "REDACTED"
	}
	if c.AlipayPublicKey != "" {
		// Public, but long: a marker is enough to see it is set.
		c.AlipayPublicKey = "(set)"
	}
	return fmt.Sprintf("%+v", plain(c))
}

// GoString is String for %#v.
func (c Config) GoString() string { return "alipay.Config" + c.String() }

// Client sends through one Alipay app. Safe for concurrent use: it holds
// only immutable values after New.
type Client struct {
	cfg       Config
	gateway   string // full gateway URL, no query
	api       *call.Client
	key       *rsa.PrivateKey
	alipayKey *rsa.PublicKey
	opts      platform.Options
	codes     classify.Classifier
}

var _ platform.Client = (*Client)(nil)

// New returns a client for cfg. It fails when cfg is invalid, naming the
// setting and never quoting key material.
//
// opts is platform.WithClock (the clock of the request timestamp);
// Alipay has no token, so token options do nothing.
func New(cfg Config, opts ...platform.Option) (*Client, error) {
	name := cfg.AppID
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("alipay app: app id is required")
	}
	if strings.ContainsAny(name, " \t\r\n/?&#=") {
		return nil, fmt.Errorf("alipay app %q: app id has characters an app id cannot have", name)
	}
	key, err := parsePrivateKey(cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("alipay app %s: private key (the app private key): %w", name, err)
	}
	alipayKey, err := parsePublicKey(cfg.AlipayPublicKey)
	if err != nil {
		return nil, fmt.Errorf("alipay app %s: alipay public key: %w", name, err)
	}
	if alipayKey.Equal(&key.PublicKey) {
		// The most common mix-up: the console shows the app public key and
		// the Alipay public key side by side. With the app's own key no
		// answer would ever verify.
		return nil, fmt.Errorf("alipay app %s: alipay public key is the app's own public key; configure the Alipay public key (支付宝公钥) from the console", name)
	}
	gateway, err := gatewayURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("alipay app %s: base URL %q %w", name, cfg.BaseURL, err)
	}
	o := platform.NewOptions(opts)
	// No secret travels in a call (the sign is a signature, not a key), so
	// there is nothing to scrub: the zero Scrubber.
	c := &Client{cfg: cfg, gateway: gateway, api: call.New(Platform, cfg.HTTPClient, call.Scrubber{}),
		key: key, alipayKey: alipayKey, opts: o,
		codes: classify.Classifier{Platform: Platform, Word: "code", Options: o}}
	// The key strings are no longer needed; keeping them out of the value
	// means nothing can print them by accident.
	c.cfg.PrivateKey, c.cfg.AlipayPublicKey = "", ""
	return c, nil
}

// gatewayURL is base + /gateway.do, or base itself when it already names
// the gateway (the form the console and the docs show).
func gatewayURL(base string) (string, error) {
	if base == "" {
		return DefaultBaseURL + GatewayPath, nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("must be an http(s) URL without a query")
	}
	s := strings.TrimRight(base, "/")
	if strings.HasSuffix(s, GatewayPath) {
		return s, nil
	}
	return s + GatewayPath, nil
}

// AppID is the client's app.
func (c *Client) AppID() string { return c.cfg.AppID }
