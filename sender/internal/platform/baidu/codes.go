package baidu

import (
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/classify"
)

// GatewayCode is the API gateway's error_code (the official Go SDK's
// "网关错误", whose comment says it "may be an invalid access_token; try
// regenerating it"). The numbers are Baidu OpenAPI's generic list; that the
// smartapp routes use the same ones is UNCONFIRMED but very likely
// (docs/platforms/baidu.md).
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
// (UNCONFIRMED): 18 is per second by its name, 17 per day (until Beijing
// midnight, UNCONFIRMED for Baidu; the mock counts days in Beijing time);
// 4's window is not named, a minute is assumed (the mock uses 4 for
// per-minute quotas).
var (
	qps    = classify.Throttled(time.Second)
	minute = classify.Throttled(time.Minute)
)

// gatewayRules classify error_code on the APIs called with a token. Codes
// not listed are retryable: an unknown code is more likely new than fatal,
// and the retry budget bounds it.
var gatewayRules = map[GatewayCode]classify.Rule{
	GatewayUnknown:           classify.Retryable,
	GatewayUnavailable:       classify.Retryable,
	GatewayTokenInvalid:      classify.Token,
	GatewayTokenExpired:      classify.Token,
	GatewayQPSLimit:          qps,
	GatewayRequestLimit:      minute,
	GatewayDailyLimit:        classify.Daily,
	GatewayUnsupportedMethod: classify.Credentials,
	GatewayNoPermission:      classify.Credentials,
	// The client always sends the token in the query; "Invalid parameter"
	// then means a request this client built wrong, and the same message
	// would fail the same way again.
	GatewayInvalidParameter: classify.InvalidRequest,
}

// tokenGatewayRules classify error_code on the token endpoint (the official
// SDK reads error_code there too; the mock answers limits in this shape).
// 110/111 cannot concern a token not yet issued: configuration.
var tokenGatewayRules = map[GatewayCode]classify.Rule{
	GatewayUnknown:           classify.Retryable,
	GatewayUnavailable:       classify.Retryable,
	GatewayQPSLimit:          qps,
	GatewayRequestLimit:      minute,
	GatewayDailyLimit:        classify.Daily,
	GatewayUnsupportedMethod: classify.Credentials,
	GatewayNoPermission:      classify.Credentials,
	GatewayInvalidParameter:  classify.Credentials,
	GatewayTokenInvalid:      classify.Credentials,
	GatewayTokenExpired:      classify.Credentials,
}

// sendRules classify errno on subscribe send: the documented four are
// about this message (its fields, template, recipient or subscription) and
// a retry gets the same answer.
var sendRules = map[Errno]classify.Rule{
	ErrnoParam:         classify.InvalidData,
	ErrnoTemplate:      classify.InvalidTemplate,
	ErrnoNotSubscribed: classify.NotSubscribed,
	ErrnoOpenID:        classify.InvalidRecipient,
}

// checkRules classify errno on syncCheckText when it is not a verdict.
var checkRules = map[Errno]classify.Rule{
	ErrnoParam: classify.InvalidRequest,
}

// oauthRules classify the token endpoint's OAuth errors. Its parameters are
// constant but for the app's credentials, so each is configuration. A name
// not listed (server_error, temporarily_unavailable, …) is retryable.
var oauthRules = map[string]classify.Rule{
	OAuthInvalidRequest:       classify.Credentials,
	OAuthInvalidClient:        classify.Credentials,
	OAuthInvalidGrant:         classify.Credentials,
	OAuthUnauthorizedClient:   classify.Credentials,
	OAuthUnsupportedGrantType: classify.Credentials,
	OAuthInvalidScope:         classify.Credentials,
}

// maxOAuthName bounds an OAuth error name used as an error code.
const maxOAuthName = 64

func (c *Client) gatewayError(rules map[GatewayCode]classify.Rule, code GatewayCode, msg string) *platform.Error {
	return classify.Code(c.codes, rules, code, msg)
}

func (c *Client) errnoError(rules map[Errno]classify.Rule, code Errno, msg string) *platform.Error {
	return classify.Code(c.codes, rules, code, msg)
}

func (c *Client) oauthError(name, description string) *platform.Error {
	r := classify.Lookup(oauthRules, name)
	if description == "" {
		description = name
	}
	// The name is the platform's code: short ASCII from a fixed set, but
	// still text from the wire, so it is scrubbed and bounded.
	code := c.api.Scrub(name)
	if len(code) > maxOAuthName {
		code = strings.ToValidUTF8(code[:maxOAuthName], "")
	}
	return c.codes.Error(r, code, description)
}
