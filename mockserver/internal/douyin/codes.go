package douyin

// ErrNo is a Douyin error code. Douyin has no single error table: each API
// family answers in its own shape and numbering (docs/platforms/douyin.md
// §1, §4.4), so the constants are grouped by the family that answers them.
// The numbers never collide across families, which lets one type carry them
// all.
type ErrNo int

// Codes of /api/apps/v2/token and the mini-game stable_token: err_no in
// {"err_no","err_tips","data":{…}}, HTTP 200 (§1.2).
const (
	CodeOK               ErrNo = 0
	CodeSystemError      ErrNo = -1    // 系统错误; also the mock's answer to a token quota (UNCONFIRMED)
	CodeTokenParamsEmpty ErrNo = 40014 // a parameter is empty or the body is not JSON (UNCONFIRMED: the doc says "其它: 参数为空"; 40014 is the 参数错误 of the sibling jscode2session)
	CodeBadAppID         ErrNo = 40015 // appid 错误
	CodeBadSecret        ErrNo = 40017 // secret 错误
	CodeBadGrantType     ErrNo = 40020 // grant_type 不是 client_credential
)

// Codes of /oauth/client_token/ and /oauth/stable_client_token/:
// data.error_code in {"data":{…},"message":…}, HTTP 200 (§1.3).
const (
	CodeClientParams      ErrNo = 10002 // 参数错误 (missing field, bad grant_type, not JSON)
	CodeClientKeyUnknown  ErrNo = 10003 // client_key 不存在
	CodeClientBadSecret   ErrNo = 10013 // client_key 或者 client_secret 不正确
	CodeClientTooFrequent ErrNo = 10020 // more than 500 calls in 5 minutes
)

// Codes of the legacy v1 notify: err_no in {"err_no","err_tips"}, HTTP 200
// (§1.4; the 28xxxxxx ones are from the mini-game table).
const (
	CodeNotifyFormat      ErrNo = 1000     // 参数格式有误: body not JSON, required field missing
	CodeNotifyContent     ErrNo = 1001     // 参数内容有误: app_id/open_id/tpl_id/data/page wrong
	CodeNotifyViolation   ErrNo = 1008     // 通知内容违规: the content rules judge a value risky
	CodeNotifyBanned      ErrNo = 1009     // 推送消息能力被封禁 (faults only)
	CodeNotifyTooFrequent ErrNo = 1010     // 发送消息过于频繁: 1 message per second per user
	CodeNotifyInternal    ErrNo = 2000     // 服务内部错误
	CodeNotifyQPS         ErrNo = 28006003 // 限流 (qps 上限为 1000)
	CodeNotSubscribed     ErrNo = 28014043 // 用户未订阅该模板 (also used by v2, §1.5)
)

// Codes of the open.douyin.com APIs (notify_user v2, censor/text): err_no in
// {"err_no","err_msg","log_id"}, HTTP 200. The common status-code table
// (§1.5); notify_user's own table was not retrieved.
const (
	CodeTokenInvalid    ErrNo = 28001003 // access_token无效: unknown, replaced, or the wrong kind of token
	CodeBusy            ErrNo = 28001005 // 系统繁忙
	CodeInvalidParam    ErrNo = 28001007 // 参数不合法 (UNCONFIRMED for notify_user; query_user_subscribe documents 28014001 参数错误)
	CodeTokenExpired    ErrNo = 28001008 // access_token过期
	CodeQuotaExhausted  ErrNo = 28003017 // quota 已用完 (a day quota)
	CodeRequestTooOften ErrNo = 28003018 // 请求频率过高 (a second/minute quota, the per-user limit)
)

// Codes of /api/v2/tags/text/antidirt: "code" in
// {"error_id","code","message","exception"}, HTTP status = code (§1.6a; the
// status is UNCONFIRMED).
const (
	CodeAntidirtParams    ErrNo = 400 // 参数有误
	CodeAntidirtToken     ErrNo = 401 // access_token 校验失败
	CodeAntidirtRateLimit ErrNo = 429 // a quota the mock was told to enforce (UNCONFIRMED: not documented)
)

// Codes the mock answers on paths that are not APIs (its own choice: Douyin's
// answer to an unknown path or a wrong method is UNCONFIRMED).
const (
	CodeNotFound         ErrNo = 404
	CodeMethodNotAllowed ErrNo = 405
)

var messages = map[ErrNo]string{
	CodeOK:                "success",
	CodeSystemError:       "system error",
	CodeTokenParamsEmpty:  "bad params",
	CodeBadAppID:          "bad appid",
	CodeBadSecret:         "bad secret",
	CodeBadGrantType:      "bad grant_type",
	CodeClientParams:      "参数错误",
	CodeClientKeyUnknown:  "client_key 不存在",
	CodeClientBadSecret:   "client_key 或者 client_secret 不正确",
	CodeClientTooFrequent: "接口调用过于频繁",
	CodeNotifyFormat:      "参数格式有误",
	CodeNotifyContent:     "参数内容有误",
	CodeNotifyViolation:   "通知内容违规",
	CodeNotifyBanned:      "推送消息能力被封禁",
	CodeNotifyTooFrequent: "发送消息过于频繁",
	CodeNotifyInternal:    "服务内部错误",
	CodeNotifyQPS:         "限流",
	CodeNotSubscribed:     "用户未订阅该模板",
	CodeTokenInvalid:      "access_token无效",
	CodeBusy:              "系统繁忙，请稍后重试",
	CodeInvalidParam:      "参数不合法",
	CodeTokenExpired:      "access_token过期，请刷新或重新授权",
	CodeQuotaExhausted:    "quota 已用完",
	CodeRequestTooOften:   "请求频率过高",
	CodeAntidirtParams:    "params error",
	CodeAntidirtToken:     "[app token sign fail] bad token",
	CodeAntidirtRateLimit: "too many requests",
	CodeNetwork:           "网络调用错误",
	CodeAppBanned:         "应用已被封禁或下线",
	CodeParamError:        "参数错误",
	CodeSubscribeParams:   "参数错误",
	CodeUserRejected:      "用户拒收",
	CodeTemplateQuota:     "配额已用完",
	CodeImageParams:       "参数有误",
	CodeImageToken:        "access_token 校验失败",
	CodeImageDownload:     "图片下载失败",
	CodeImageInternal:     "服务内部错误",
	CodeNotFound:          "api not found",
	CodeMethodNotAllowed:  "method not allowed",
}

// Message is the platform's text for a code. The texts are the doc's
// meaning column; the exact wording the servers send is UNCONFIRMED except
// "bad secret", "app_id / open_id不合法", "access_token无效" and the antidirt
// token text, which appear in doc examples.
func (c ErrNo) Message() string {
	if m, ok := messages[c]; ok {
		return m
	}
	return "system error"
}
