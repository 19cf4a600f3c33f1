package douyin

import (
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/classify"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Code is a Douyin error code: err_no of the err_no-shaped answers,
// data.error_code of client_token. Douyin has no single error table; each
// API family numbers its own, and the numbers do not collide, so one type
// carries them all. Business errors come with HTTP 200. Sources:
// docs/platforms/douyin.md.
type Code int64

// Codes the client classifies.
const (
	CodeOK          Code = 0
	CodeSystemError Code = -1 // 系统错误 (getAccessToken; legacy APIs): transient

	// /api/apps/v2/token (§1.2).
	CodeTokenParams    Code = 40014 // a parameter empty (the doc: "其它: 参数为空"; the number is UNCONFIRMED, the mock's reading)
	CodeBadAppID       Code = 40015 // appid 错误
	CodeBadSecret      Code = 40017 // secret 错误
	CodeBadGrantType   Code = 40020 // grant_type 不是 client_credential
	CodeIPNotWhitelist Code = 40006 // request IP not in the app's whitelist (legacy capacity APIs; UNCONFIRMED on token and notify)
	CodeNoPermission   Code = 40036 // the app was not granted this API (legacy capacity APIs; UNCONFIRMED on notify)

	// /oauth/client_token/ (§1.3), in data.error_code.
	CodeClientParams      Code = 10002 // 参数错误
	CodeClientKeyUnknown  Code = 10003 // client_key 不存在
	CodeClientBadSecret   Code = 10013 // client_key 或者 client_secret 不正确
	CodeClientTooFrequent Code = 10020 // more than 500 calls in 5 minutes

	// Legacy v1 notify (§1.4; the 28xxxxxx ones are from the mini-game table).
	CodeNotifyFormat      Code = 1000     // 参数格式有误
	CodeNotifyContent     Code = 1001     // 参数内容有误 (app_id/open_id/tpl_id/data/page)
	CodeNotifyViolation   Code = 1008     // 通知内容违规
	CodeNotifyBanned      Code = 1009     // 推送消息能力被封禁
	CodeNotifyTooFrequent Code = 1010     // 发送消息过于频繁: one message per second per user
	CodeNotifyInternal    Code = 2000     // 服务内部错误
	CodeNotifyQPS         Code = 28006003 // 限流 (qps 上限为 1000), the app's
	CodeLegacyTokenBad    Code = 11016    // access_token 不正确或者已过期 (legacy developer.toutiao.com APIs; UNCONFIRMED on v1 notify, which documents no token code)

	// Subscription codes (notify_user v2's own table was not retrieved).
	CodeNotSubscribed   Code = 28014043 // 用户未订阅该模板 (official for v1 mini-game, §1.5)
	CodeSubscribeParams Code = 28014001 // 参数错误 (documented for query_user_subscribe)
	CodeUserRejected    Code = 28014036 // 用户拒收 (UNCONFIRMED: one unattributed source)
	CodeTemplateQuota   Code = 28014041 // 配额已用完: the template's message quota (UNCONFIRMED: one unattributed source)

	// Douyin's common open-platform status codes (§1.5: the status-code
	// table of developer.open-douyin.com), answered by the open.douyin.com
	// APIs (notify_user, censor/text).
	CodeTokenInvalid      Code = 28001003 // access_token无效
	CodeBusy              Code = 28001005 // 系统繁忙
	CodeNetwork           Code = 28001006 // 网络调用错误
	CodeInvalidParam      Code = 28001007 // 参数不合法
	CodeTokenExpired      Code = 28001008 // access_token过期，请刷新或重新授权
	CodeUserUnauthorized  Code = 28001012 // 用户未授权该OpenAPI
	CodeAppNoCapability   Code = 28001014 // 应用未授权任何能力
	CodeAppBanned         Code = 28001016 // 应用已被封禁或下线
	CodeAppLacksAbility   Code = 28001018 // 应用未获得该能力
	CodeAbilityBanned     Code = 28001019 // 能力已被封禁或下线
	CodeUserNotTester     Code = 28001020 // 用户未绑定该测试应用
	CodeTestAppExpired    Code = 28001021 // 测试应用已过期
	CodeQuotaExhausted    Code = 28003017 // quota 已用完
	CodeRequestTooOften   Code = 28003018 // 请求频率过高
	codeAntidirtParams    Code = 400      // antidirt gateway: 参数有误
	codeAntidirtToken     Code = 401      // antidirt gateway: access_token 校验失败
	codeAntidirtRateLimit Code = 429      // antidirt gateway: rate limited (UNCONFIRMED: not documented)
)

// Hints for RetryAfter.
const (
	// perSecondHint: the per-user limit and the QPS caps are per second.
	perSecondHint = time.Second
	// clientTokenHint: client_token's limit is 500 calls in a sliding 5
	// minutes; after a minute a fifth of the window has aged out (the
	// platform gives no retry time; UNCONFIRMED).
	clientTokenHint = time.Minute
)

var (
	perSecond = classify.Throttled(perSecondHint)
	// perUser: "对单个用户推送消息，频率限制为 1 次/秒" concerns one user, not
	// the app: throttling would stall every other user's messages, and
	// permanent would drop a message the user subscribed to. Retryable
	// retries this one message after the dispatcher's backoff; the hint
	// says one second is enough. (The dispatcher already spaces sends to
	// one Douyin user by a second; a collision means the platform saw two
	// sends closer than that, e.g. through uneven network latency.)
	perUser = classify.Rule{Class: message.OutcomeRetryable, RetryAfter: perSecondHint, Reason: reason.RateLimited}
)

// businessRules classify the answers of the APIs called with a token
// (notify v1 and v2, censor/text). Codes not listed are retryable: an
// unknown code is more likely new than fatal, and the retry budget bounds
// it.
var businessRules = map[Code]classify.Rule{
	CodeSystemError:    classify.Retryable,
	CodeNotifyInternal: classify.Retryable,
	CodeBusy:           classify.Retryable,
	CodeNetwork:        classify.Retryable,

	CodeTokenInvalid:   classify.Token,
	CodeTokenExpired:   classify.Token,
	CodeLegacyTokenBad: classify.Token,

	// The message is wrong for the platform; the same message gets the same
	// answer on every retry.
	CodeNotifyFormat:    classify.InvalidRequest,
	CodeNotifyContent:   classify.InvalidData, // app_id, open_id, tpl_id, data or page: the answer does not say which
	CodeNotifyViolation: classify.RiskyContent,
	CodeInvalidParam:    classify.InvalidData, // a user, template, value or page the platform refuses (its text says which)
	CodeSubscribeParams: classify.InvalidData,
	CodeNotSubscribed:   classify.NotSubscribed,
	// 用户拒收: the user refused the template (UNCONFIRMED code).
	CodeUserRejected:     classify.NotSubscribed,
	CodeTemplateQuota:    classify.Permanent.Because(reason.QuotaExceeded), // the template's per-user message quota: it refills in days, not minutes (UNCONFIRMED)
	CodeUserUnauthorized: classify.NotPermitted,
	CodeUserNotTester:    classify.NotPermitted,
	// Bans are decisions, not configuration slips: like WeChat's 43107,
	// retrying or holding the messages does not help.
	CodeNotifyBanned:  classify.NotPermitted,
	CodeAbilityBanned: classify.NotPermitted,

	CodeNotifyTooFrequent: perUser,

	CodeNotifyQPS: perSecond,
	// 28003018 "请求频率过高" is, in the common status-code table, the
	// frequency limit of an OpenAPI for the app: throttled. The mock also
	// answers it for the per-user limit on v2 (its UNCONFIRMED reading);
	// the client cannot tell the two apart and follows the platform's
	// table.
	CodeRequestTooOften: perSecond,
	// "quota 已用完": the period is not documented; a day, resetting at
	// Beijing midnight, is assumed (UNCONFIRMED).
	CodeQuotaExhausted: classify.Daily,

	// App-level configuration problems.
	CodeAppNoCapability: classify.Credentials,
	CodeAppBanned:       classify.Credentials, // "封禁或下线": an app taken offline comes back when republished
	CodeAppLacksAbility: classify.Credentials,
	CodeTestAppExpired:  classify.Credentials,
	CodeIPNotWhitelist:  classify.Credentials,
	CodeNoPermission:    classify.Credentials,
}

// tokenRules classify the answers of /api/apps/v2/token and
// /oauth/client_token/. Everything except busy and the call limit is
// configuration (classify.Credentials).
var tokenRules = map[Code]classify.Rule{
	CodeSystemError:       classify.Retryable,
	CodeTokenParams:       classify.Credentials,
	CodeBadAppID:          classify.Credentials,
	CodeBadSecret:         classify.Credentials,
	CodeBadGrantType:      classify.Credentials,
	CodeIPNotWhitelist:    classify.Credentials,
	CodeClientParams:      classify.Credentials,
	CodeClientKeyUnknown:  classify.Credentials,
	CodeClientBadSecret:   classify.Credentials,
	CodeClientTooFrequent: classify.Throttled(clientTokenHint),
}

// antidirtRules classify the antidirt gateway's "code" (its errors leave
// the err_no world: {"error_id","code","message","exception"}, with an HTTP
// status that is probably the code, UNCONFIRMED).
var antidirtRules = map[Code]classify.Rule{
	codeAntidirtToken:     classify.Token,
	codeAntidirtParams:    classify.InvalidRequest,
	codeAntidirtRateLimit: perSecond,
}

// classify turns a code into a platform.Error.
func (c *Client) classify(rules map[Code]classify.Rule, code Code, msg string) *platform.Error {
	return classify.Code(c.codes, rules, code, msg)
}
