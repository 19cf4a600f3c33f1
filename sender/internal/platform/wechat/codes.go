package wechat

import (
	"time"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/classify"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Code is a WeChat errcode. Every answer is HTTP 200 with JSON; failure is a
// non-zero errcode with an errmsg, and errmsg is for humans only (it ends
// with a " rid: …" request id). Sources: docs/platforms/wechat.md
// (tokens, subscribe messages, content security).
type Code int64

// Codes the client classifies.
const (
	CodeSystemBusy Code = -1 // "system error": transient, retry
	CodeOK         Code = 0

	// Access-token errors on business APIs (docs/platforms/wechat.md). WxJava
	// treats these three as "token bad": drop the cache and retry once.
	CodeInvalidCredential Code = 40001 // token replaced/revoked/garbage; on the token endpoint: wrong secret on some accounts
	CodeInvalidToken      Code = 40014 // malformed access_token
	CodeTokenMissing      Code = 41001 // no access_token (cannot happen unless the token is empty)
	CodeTokenExpired      Code = 42001 // token past its expires_in

	// Token-endpoint (credentials and account) errors (§2.1, §2.2).
	CodeInvalidGrantType Code = 40002 // grant_type is not client_credential
	CodeInvalidAppID     Code = 40013 // bad AppID (also: appid not bound, on uniform_send)
	CodeInvalidSecret    Code = 40125 // bad AppSecret
	CodeIPNotWhitelisted Code = 40164 // caller IP not in the app's API IP whitelist
	CodeSecretFrozen     Code = 40243 // AppSecret frozen in the admin console
	CodeAppIDMissing     Code = 41002 // appid missing
	CodeSecretMissing    Code = 41004 // appsecret missing
	CodeTokenAPIBanned   Code = 50004 // 禁止使用 token 接口
	CodeAccountFrozen    Code = 50007 // 账号已冻结
	CodeIPAwaitingAdmin  Code = 89501 // this IP waits for the administrator's confirmation (UNCONFIRMED: only in unattributed copies of the OA docs)
	CodeIPNeedsAdmin     Code = 89503 // this call needs the administrator's confirmation
	CodeIPRefused24h     Code = 89506 // administrator refused this IP: retry in 24 hours
	CodeIPRefused1h      Code = 89507 // administrator refused this IP: retry in 1 hour

	// Subscribe-message send errors (§3.3).
	CodeInvalidOpenID     Code = 40003 // touser empty or not this app's user
	CodeInvalidTemplateID Code = 40037 // template_id empty or not this app's
	CodeInvalidURL        Code = 40066 // no such API: the base URL points somewhere wrong
	CodeInvalidPage       Code = 41030 // page not in the published version
	CodeRequirePost       Code = 43002 // wrong HTTP method
	CodeUserRefused       Code = 43101 // no (remaining) subscription: user refused, cancelled or used up
	CodeCapabilityBanned  Code = 43107 // subscribe-message capability banned for the account or template
	CodeConcurrentSend    Code = 43108 // concurrent send to the same user
	CodeEmptyPostData     Code = 44002 // empty body
	CodeDailyQuota        Code = 45009 // daily quota reached ("reach max api daily quota limit")
	CodeMinuteQuota       Code = 45011 // per-minute quota reached ("retry next minute")
	CodeSensitiveWord     Code = 45168 // content hit a sensitive word
	CodeDataFormat        Code = 47001 // body is not JSON of the right shape
	CodeArgumentInvalid   Code = 47003 // data breaks a keyword rule; errmsg names the keyword
	CodeAPIUnauthorized   Code = 48001 // the app lacks permission for this API

	// msg_sec_check errors (§5.1).
	CodeInvalidScene    Code = 40129 // scene not 1..4
	CodeOpenIDMismatch  Code = 43104 // openid does not belong to the appid
	CodeMinuteFrequency Code = 44991 // msg_sec_check per-minute limit
	CodeUserNotSeen     Code = 61010 // the user has not used the mini-program within 2 hours
	CodeRiskyContentV1  Code = 87014 // v1 verdict "risky content" (v2 answers the verdict as data)
)

// minute: 45011's errmsg says "retry next minute".
var minute = classify.Throttled(time.Minute)

// businessRules classify the answers of APIs called with an access token
// (subscribe send, msg_sec_check). Codes not listed are retryable: an
// unknown code is more likely new than fatal, and the retry budget bounds it.
var businessRules = map[Code]classify.Rule{
	CodeSystemBusy: classify.Retryable,

	CodeInvalidCredential: classify.Token,
	CodeInvalidToken:      classify.Token,
	CodeTokenMissing:      classify.Token,
	CodeTokenExpired:      classify.Token,

	CodeInvalidOpenID:     classify.InvalidRecipient,
	CodeInvalidTemplateID: classify.InvalidTemplate,
	CodeInvalidPage:       classify.InvalidData,
	CodeUserRefused:       classify.NotSubscribed,
	CodeCapabilityBanned:  classify.NotPermitted,
	CodeSensitiveWord:     classify.RiskyContent,
	CodeArgumentInvalid:   classify.InvalidData,
	// The body is ours and well-formed; these mean a bug in the client, and
	// the same message would fail the same way on every retry.
	CodeEmptyPostData: classify.InvalidRequest,
	CodeDataFormat:    classify.InvalidRequest,
	CodeRequirePost:   classify.InvalidRequest,

	// 43108 "concurrent send to the same user" is about one user, not the
	// app: another send to that user is in flight and the conflict clears
	// in moments. Throttling would stall every other user's messages;
	// permanent would drop a message the user subscribed to. Retryable
	// retries this one message after the dispatcher's backoff.
	CodeConcurrentSend: classify.Retryable.Because(reason.RateLimited),

	CodeDailyQuota:  classify.Daily,
	CodeMinuteQuota: minute,
	// 44991 is msg_sec_check's per-minute limit.
	CodeMinuteFrequency: minute,

	// App-level configuration problems seen on a business API.
	CodeInvalidAppID:    classify.Credentials,
	CodeInvalidSecret:   classify.Credentials,
	CodeAPIUnauthorized: classify.Credentials,
	CodeInvalidURL:      classify.Credentials,
	CodeAccountFrozen:   classify.Credentials,

	// msg_sec_check: the check cannot be made for this user/scene; a retry
	// will not change that. The caller decides whether to send unchecked.
	CodeInvalidScene:   classify.InvalidRequest,
	CodeOpenIDMismatch: classify.InvalidRecipient,
	CodeUserNotSeen:    classify.NotPermitted,
}

// tokenRules classify the answers of /cgi-bin/token and /cgi-bin/stable_token.
// Everything except busy and quota is configuration (classify.Credentials).
var tokenRules = map[Code]classify.Rule{
	CodeSystemBusy: classify.Retryable,
	// On the token endpoint 40001 means a wrong AppSecret on some accounts.
	CodeInvalidCredential: classify.Credentials,
	CodeInvalidGrantType:  classify.Credentials,
	CodeInvalidAppID:      classify.Credentials,
	CodeInvalidSecret:     classify.Credentials,
	CodeIPNotWhitelisted:  classify.Credentials,
	CodeSecretFrozen:      classify.Credentials,
	CodeAppIDMissing:      classify.Credentials,
	CodeSecretMissing:     classify.Credentials,
	CodeTokenAPIBanned:    classify.Credentials,
	CodeAccountFrozen:     classify.Credentials,
	CodeRequirePost:       classify.Credentials,
	CodeInvalidURL:        classify.Credentials,
	CodeIPAwaitingAdmin:   classify.Credentials,
	CodeIPNeedsAdmin:      classify.Credentials,
	// The platform's own words: "请24小时后再试" / "请1小时后再试": a window
	// the app waits out, about its IP whitelist.
	CodeIPRefused24h: classify.Window(24*time.Hour, reason.CredentialsInvalid),
	CodeIPRefused1h:  classify.Window(time.Hour, reason.CredentialsInvalid),
	// The token quota (2,000/day for /cgi-bin/token; stable: 10,000/min,
	// 500,000/day; 20 forced refreshes a day).
	CodeDailyQuota:  classify.Daily,
	CodeMinuteQuota: minute,
}

// classify turns an errcode into a platform.Error.
func (c *Client) classify(rules map[Code]classify.Rule, code Code, errmsg string) *platform.Error {
	return classify.Code(c.codes, rules, code, errmsg)
}
