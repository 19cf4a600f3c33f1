package alipay

import (
	"regexp"
	"strings"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/classify"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Code is the gateway's top-level result code, sent as a JSON string
// ("10000"). Every answer is HTTP 200; the code says what happened and
// sub_code says why. Source: the opendocs "公共错误码" table, quoted in
// docs/platforms/alipay.md ("Codes").
type Code string

// Top-level codes.
const (
	CodeSuccess         Code = "10000" // Success
	CodeUnavailable     Code = "20000" // Service Currently Unavailable: the platform's own failure, retry
	CodeAuthToken       Code = "20001" // Insufficient Token Permissions: auth_token / app_auth_token rejected
	CodeMissingArgument Code = "40001" // Missing Required Arguments (isv.missing-*)
	CodeInvalidArgument Code = "40002" // Invalid Arguments (isv.invalid-*: signature, app id, timestamp, …)
	CodeBusinessFailed  Code = "40004" // Business Failed: the method refused; sub_code says why
	CodePermission      Code = "40006" // Insufficient Permissions (isv.insufficient-*-permissions)
)

// SubCode is an answer's detailed code.
type SubCode string

// Gateway sub codes the client treats specially (the common error table).
const (
	SubUnknownError      SubCode = "isp.unknow-error"                  // sic: the platform's spelling
	SubInvalidSignature  SubCode = "isv.invalid-signature"             // our signature does not verify with the app public key registered on the platform
	SubInvalidAppID      SubCode = "isv.invalid-app-id"                // no such app (or not online)
	SubInvalidTimestamp  SubCode = "isv.invalid-timestamp"             // our clock is off (the tolerance is undocumented)
	SubInvalidMethod     SubCode = "isv.invalid-method"                // the gateway does not know the method: wrong base URL
	SubISVPermission     SubCode = "isv.insufficient-isv-permissions"  // the app lacks the capability (not enabled in the console)
	SubUserPermission    SubCode = "isv.insufficient-user-permissions" // the user did not grant what the call needs
	SubInvalidAuthToken  SubCode = "aop.invalid-auth-token"            // 20001
	SubAppCallLimited    SubCode = "isv.app-call-limited"              // flow control (UNCONFIRMED: the platform does not publish its flow-control answer)
	SubInvalidParameter  SubCode = "isv.invalid-parameter"             // 40002 on a request the gateway could not read
	SubMissingSignature  SubCode = "isv.missing-signature"             // 40001
	SubInvalidSignType   SubCode = "isv.invalid-signature-type"        // 40002
	SubInvalidCharset    SubCode = "isv.invalid-charset"               // 40002
	SubInvalidFormat     SubCode = "isv.invalid-format"                // 40002
	SubAppAuthTokenError SubCode = "aop.invalid-app-auth-token"        // 20001
)

// alipay.open.app.mini.templatemessage.send business sub codes (code
// 40004). USER_TEMPLATE_ILLEGAL is the one seen in the wild; the others are
// the names the mock uses, UNCONFIRMED against the live gateway (the
// method's error table could not be read).
const (
	SubTemplateIllegal SubCode = "USER_TEMPLATE_ILLEGAL" // the template is not the app's (or not approved)
	SubParamIllegal    SubCode = "INVALID_PARAMETER"     // a field is missing, too long or breaks a keyword rule
	SubUserNotExist    SubCode = "USER_NOT_EXIST"        // the user is not a user of the app
	SubNotSubscribed   SubCode = "USER_NOT_SUBSCRIBED"   // no (remaining) subscription for the template
	SubPageIllegal     SubCode = "PAGE_ILLEGAL"          // page not in the published mini-program
	SubContentIllegal  SubCode = "CONTENT_ILLEGAL"       // a value hit the platform's content rules
)

// throttled: Alipay publishes neither its flow-control windows nor a retry
// hint (UNCONFIRMED), so the dispatcher's throttle backoff applies.
var throttled = classify.Throttled(0)

// subRules classify by sub code first: the top-level code is too coarse
// (40002 holds both "wrong key" and "bad parameter").
var subRules = map[SubCode]classify.Rule{
	// Configuration: the same answer for every message of the app.
	SubInvalidSignature: classify.Credentials,
	SubInvalidAppID:     classify.Credentials,
	SubInvalidTimestamp: classify.Credentials,
	SubInvalidMethod:    classify.Credentials,
	// The app has not enabled the capability (template messages, content
	// detection) in the console: app-wide and fixed there, like WeChat's
	// 48001 "api unauthorized", which that client also treats as
	// configuration.
	SubISVPermission: classify.Credentials,

	// The message itself: a retry gets the same answer.
	SubTemplateIllegal: classify.InvalidTemplate,
	SubParamIllegal:    classify.InvalidData,
	SubUserNotExist:    classify.InvalidRecipient,
	SubNotSubscribed:   classify.NotSubscribed,
	SubPageIllegal:     classify.InvalidData,
	SubContentIllegal:  classify.RiskyContent,
	SubUserPermission:  classify.NotPermitted,

	SubAppCallLimited: throttled,
}

// codeRules classify answers whose sub code is not in subRules.
var codeRules = map[Code]classify.Rule{
	CodeUnavailable: classify.Retryable,
	// 20001 concerns auth_token / app_auth_token, and the client sends
	// neither: the gateway asking for one means the app is set up to be
	// called by a service provider on its behalf (third-party mode). That is
	// configuration, app-wide, fixed outside the message.
	CodeAuthToken: classify.Credentials,
	// 40001: a common parameter is missing. The client always sends them
	// all, so this is a bug in the client; the same request fails the same
	// way on every retry.
	CodeMissingArgument: classify.InvalidRequest,
	// 40002 without a configuration sub code (above): a parameter of this
	// request the gateway refuses (charset, format, sign type — our bug —
	// or isv.invalid-parameter).
	CodeInvalidArgument: classify.InvalidRequest,
	// 40004 with a sub code not listed: retryable. Business sub codes are
	// method-specific and partly undocumented (UNCONFIRMED list); an unknown
	// one is as likely to be transient ("SYSTEM_ERROR") as final, and the
	// retry budget bounds the cost.
	CodeBusinessFailed: classify.Retryable.Because(reason.PlatformError),
	// 40006 with another sub code than isv-permissions (e.g. the user's
	// permissions): about this message.
	CodePermission: classify.NotPermitted,
}

// rateLimited matches sub codes that name flow control, whatever their
// code: isv.app-call-limited and spellings like "…_CALL_LIMITED",
// "SEND_FREQUENCY_LIMIT" or "isp.rop-flow-control" (UNCONFIRMED: Alipay
// documents no complete list).
var rateLimited = regexp.MustCompile(`(?i)(limited|frequen|too[-_]?many|flow[-_]?control|rate[-_]?limit|call[-_]?limit)`)

// ruleFor is the rule of an answer's code and sub code. Unknown codes are
// retryable: more likely new than fatal, and the retry budget bounds them.
func ruleFor(code Code, sub SubCode) classify.Rule {
	if r, ok := subRules[sub]; ok {
		return r
	}
	// Business sub codes sometimes carry a namespace ("isv.USER_NOT_EXIST");
	// UNCONFIRMED, so both spellings are accepted.
	if _, bare, ok := strings.Cut(string(sub), "."); ok {
		if r, ok := subRules[SubCode(bare)]; ok && strings.ToUpper(bare) == bare {
			return r
		}
	}
	if sub != "" && rateLimited.MatchString(string(sub)) {
		return throttled
	}
	return classify.Lookup(codeRules, code)
}

// classify turns a failure node into a platform.Error. Code is
// "40004/USER_NOT_SUBSCRIBED", or the bare code without a sub code.
func (c *Client) classify(code Code, sub SubCode, msg, subMsg string) *platform.Error {
	text := string(code)
	if sub != "" {
		text += "/" + string(sub)
	}
	switch {
	case subMsg != "" && msg != "":
		msg += ": " + subMsg
	case subMsg != "":
		msg = subMsg
	}
	return c.codes.Error(ruleFor(code, sub), text, msg)
}
