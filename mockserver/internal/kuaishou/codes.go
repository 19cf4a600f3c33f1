package kuaishou

// Result is Kuaishou's "result" field: 1 is success, anything else an error
// code, with the text in "error_msg". Every answer is HTTP 200.
//
// Only the token API's two codes are documented
// (https://mp.kuaishou.com/docs/develop/server/getAccessToken.html). The send
// API's error table was not retrievable, so the mock reuses those two where
// their documented meaning fits ("参数有误，需要检查参数是否为空或有误" for any
// bad or missing parameter, "验证出错" for any credential failure) and picks
// its own numbers for the rest.
type Result int

// Results the emulation answers.
const (
	ResultOK       Result = 1         // success
	ResultBadParam Result = 100200100 // 参数有误: a parameter is empty or wrong (documented for the token API)
	ResultAuth     Result = 100200101 // 验证出错: app_id/app_secret wrong (documented); on send also a bad, expired or foreign access_token (UNCONFIRMED)

	ResultNotSubscribed Result = 100200110 // UNCONFIRMED: the user holds no subscription for the template
	ResultContentRisky  Result = 100200111 // UNCONFIRMED: message text hit the content rules
	ResultRateLimited   Result = 100200112 // UNCONFIRMED: over the QPS cap (or another quota)
	ResultNoSuchAPI     Result = 100200404 // UNCONFIRMED: unknown path under /oauth2/ or /openapi/
	ResultSystemError   Result = 100200500 // UNCONFIRMED: internal error
)

var messages = map[Result]string{
	ResultOK:            "success",
	ResultBadParam:      "参数有误",
	ResultAuth:          "验证出错",
	ResultNotSubscribed: "用户未订阅该消息",
	ResultContentRisky:  "消息内容违规",
	ResultRateLimited:   "调用频率超过限制",
	ResultNoSuchAPI:     "接口不存在",
	ResultSystemError:   "服务内部错误",
}

// errorNames fill the short "error" field that some client code reads next
// to error_msg. The values are OAuth-style names (UNCONFIRMED).
var errorNames = map[Result]string{
	ResultBadParam:      "invalid_request",
	ResultAuth:          "invalid_client",
	ResultNotSubscribed: "not_subscribed",
	ResultContentRisky:  "content_risky",
	ResultRateLimited:   "rate_limited",
	ResultNoSuchAPI:     "not_found",
	ResultSystemError:   "server_error",
}

// Message is the platform's error_msg for a result.
func (r Result) Message() string {
	if m, ok := messages[r]; ok {
		return m
	}
	return messages[ResultSystemError]
}

// ErrorName is the short "error" value for a result.
func (r Result) ErrorName() string {
	if n, ok := errorNames[r]; ok {
		return n
	}
	return errorNames[ResultSystemError]
}
