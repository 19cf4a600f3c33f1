package baidu

import (
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
)

// GatewayCode is the API gateway's error_code (the official Go SDK's
// "网关错误", whose comment says it "may be an invalid access_token; try
// regenerating it"). The numbers are Baidu OpenAPI's generic list; that the
// smartapp routes use the same ones is UNCONFIRMED but very likely
// (douyin-kuaishou-baidu.md §3.2).
type GatewayCode int64

// Gateway codes the client classifies.
const (
	GatewayUnknown           GatewayCode = 1   // Unknown error
	GatewayUnavailable       GatewayCode = 2   // Service temporarily unavailable
	GatewayUnsupportedMethod GatewayCode = 3   // Unsupported openapi method: the base URL or path is wrong
	GatewayRequestLimit      GatewayCode = 4   // Open api request limit reached
	GatewayNoPermission      GatewayCode = 6   // No permission to access data
	GatewayDailyLimit        GatewayCode = 17  // Open api daily request limit reached
	GatewayQPSLimit          GatewayCode = 18  // Open api qps request limit reached
	GatewayInvalidParameter  GatewayCode = 100 // Invalid parameter (e.g. access_token not in the query)
	GatewayTokenInvalid      GatewayCode = 110 // Access token invalid or no longer valid
	GatewayTokenExpired      GatewayCode = 111 // Access token expired
)

// Errno is a business API's errno (the official SDK's "业务接口错误").
type Errno int64

// Errnos the client classifies. The subscribe-send table lists 2002, 4001,
// 4007 and 4010; the archived copy may be incomplete (§3.3).
const (
	ErrnoOK            Errno = 0
	ErrnoParam         Errno = 2002  // 参数错误
	ErrnoTemplate      Errno = 4001  // template_id 不正确
	ErrnoNotSubscribed Errno = 4007  // 用户未订阅该消息 (or cancelled it; the mock: or the subscribe id is spent)
	ErrnoOpenID        Errno = 4010  // 不合法的 touser_openId
	ErrnoRisk          Errno = 82512 // syncCheckText: "potential risk" — a verdict, not an error
)

// OAuth error names the token endpoint answers (RFC 6749 §5.2, as Baidu's
// OAuth server uses them, §3.1).
const (
	OAuthInvalidRequest       = "invalid_request"
	OAuthInvalidClient        = "invalid_client"
	OAuthInvalidGrant         = "invalid_grant"
	OAuthUnauthorizedClient   = "unauthorized_client"
	OAuthUnsupportedGrantType = "unsupported_grant_type"
	OAuthInvalidScope         = "invalid_scope"
)

// Retry hints of the limit codes. Baidu documents no limits for these APIs
// (UNCONFIRMED): 18 is per second by its name, 17 per day; 4's window is
// not named, a minute is assumed (the mock uses 4 for per-minute quotas).
const (
	qpsRetryHint    = time.Second
	minuteRetryHint = time.Minute
)

// rule is how one code is handled: its class, and for throttling how long
// the app should back off (0: the dispatcher's own backoff).
type rule struct {
	class      message.Outcome
	retryAfter time.Duration
}

// Special retryAfter values, resolved by classify.
const (
	// untilMidnight: until the next Beijing midnight, when daily quotas
	// reset (UNCONFIRMED for Baidu; the mock counts days in Beijing time).
	untilMidnight time.Duration = -1
	// credentials marks an app-level configuration problem (wrong secret,
	// unknown AppKey, no permission, wrong base URL). These are
	// "throttled" with a long backoff, not "permanent": permanent would
	// dead-letter every queued message of the app for a mistake an
	// operator fixes in minutes, and "retryable" would spend every
	// message's retry budget. The duration is the client's
	// CredentialsBackoff.
	credentials time.Duration = -2
)

var (
	permanent = rule{class: message.OutcomePermanent}
	retryable = rule{class: message.OutcomeRetryable}
	tokenBad  = rule{class: message.OutcomeToken}
	config    = rule{class: message.OutcomeThrottled, retryAfter: credentials}
	qps       = rule{class: message.OutcomeThrottled, retryAfter: qpsRetryHint}
	minute    = rule{class: message.OutcomeThrottled, retryAfter: minuteRetryHint}
	daily     = rule{class: message.OutcomeThrottled, retryAfter: untilMidnight}
)

// gatewayRules classify error_code on the APIs called with a token. Codes
// not listed are retryable: an unknown code is more likely new than fatal,
// and the retry budget bounds it.
var gatewayRules = map[GatewayCode]rule{
	GatewayUnknown:           retryable,
	GatewayUnavailable:       retryable,
	GatewayTokenInvalid:      tokenBad,
	GatewayTokenExpired:      tokenBad,
	GatewayQPSLimit:          qps,
	GatewayRequestLimit:      minute,
	GatewayDailyLimit:        daily,
	GatewayUnsupportedMethod: config,
	GatewayNoPermission:      config,
	// The client always sends the token in the query; "Invalid parameter"
	// then means a request this client built wrong, and the same message
	// would fail the same way again.
	GatewayInvalidParameter: permanent,
}

// tokenGatewayRules classify error_code on the token endpoint (the official
// SDK reads error_code there too; the mock answers limits in this shape).
// 110/111 cannot concern a token not yet issued: configuration.
var tokenGatewayRules = map[GatewayCode]rule{
	GatewayUnknown:           retryable,
	GatewayUnavailable:       retryable,
	GatewayQPSLimit:          qps,
	GatewayRequestLimit:      minute,
	GatewayDailyLimit:        daily,
	GatewayUnsupportedMethod: config,
	GatewayNoPermission:      config,
	GatewayInvalidParameter:  config,
	GatewayTokenInvalid:      config,
	GatewayTokenExpired:      config,
}

// sendRules classify errno on subscribe send: the documented four are
// about this message (its fields, template, recipient or subscription) and
// a retry gets the same answer.
var sendRules = map[Errno]rule{
	ErrnoParam:         permanent,
	ErrnoTemplate:      permanent,
	ErrnoNotSubscribed: permanent,
	ErrnoOpenID:        permanent,
}

// checkRules classify errno on syncCheckText when it is not a verdict.
var checkRules = map[Errno]rule{
	ErrnoParam: permanent,
}

// oauthRules classify the token endpoint's OAuth errors. Its parameters are
// constant but for the app's credentials, so each is configuration. A name
// not listed (server_error, temporarily_unavailable, …) is retryable.
var oauthRules = map[string]rule{
	OAuthInvalidRequest:       config,
	OAuthInvalidClient:        config,
	OAuthInvalidGrant:         config,
	OAuthUnauthorizedClient:   config,
	OAuthUnsupportedGrantType: config,
	OAuthInvalidScope:         config,
}

// maxOAuthName bounds an OAuth error name used as an error code.
const maxOAuthName = 64

// beijing is the time zone daily quotas are assumed to follow.
var beijing = time.FixedZone("CST", 8*60*60)

// classify builds a platform.Error from a rule; msg is the platform's text,
// scrubbed here.
func (c *Client) classify(r rule, ok bool, code, msg string) *platform.Error {
	if !ok {
		r = retryable
	}
	e := &platform.Error{Platform: Platform, Code: code, Message: c.scrub(msg), Class: r.class}
	switch r.retryAfter {
	case 0:
	case credentials:
		e.RetryAfter = c.opts.credentialsBackoff
	case untilMidnight:
		now := c.opts.now().In(beijing)
		next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, beijing)
		e.RetryAfter = max(next.Sub(now), time.Minute)
	default:
		e.RetryAfter = r.retryAfter
	}
	if e.Message == "" {
		e.Message = "code " + code
	}
	return e
}

func (c *Client) gatewayError(rules map[GatewayCode]rule, code GatewayCode, msg string) *platform.Error {
	r, ok := rules[code]
	return c.classify(r, ok, strconv.FormatInt(int64(code), 10), msg)
}

func (c *Client) errnoError(rules map[Errno]rule, code Errno, msg string) *platform.Error {
	r, ok := rules[code]
	return c.classify(r, ok, strconv.FormatInt(int64(code), 10), msg)
}

func (c *Client) oauthError(name, description string) *platform.Error {
	r, ok := oauthRules[name]
	if description == "" {
		description = name
	}
	// The name is the platform's code: short ASCII from a fixed set, but
	// still text from the wire, so it is scrubbed and bounded.
	code := c.scrub(name)
	if len(code) > maxOAuthName {
		code = strings.ToValidUTF8(code[:maxOAuthName], "")
	}
	return c.classify(r, ok, code, description)
}
