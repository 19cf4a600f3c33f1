package baidu

// Baidu answers in three shapes (docs/platforms/baidu.md):
//
//   - the OAuth token endpoint: {"error":"invalid_client","error_description":"…"}
//     with HTTP 400, as in Baidu's OAuth doc example;
//   - the API gateway in front of /rest/2.0/: {"error_code":110,"error_msg":"…"}
//     with HTTP 200, for token, parameter-transport and limit failures (the
//     official Go SDK's "网关错误");
//   - the business APIs: {"errno":N,"msg":"…","data":{…}} with HTTP 200, errno
//     0 on success (the official SDK's "业务接口错误").

// GatewayCode is the gateway's error_code. The numbers and texts are
// Baidu OpenAPI's generic list; that the smartapp routes use the same ones
// is UNCONFIRMED but very likely.
type GatewayCode int

// Gateway codes the emulation answers.
const (
	GatewayUnknown           GatewayCode = 1   // Unknown error
	GatewayUnavailable       GatewayCode = 2   // Service temporarily unavailable
	GatewayUnsupportedMethod GatewayCode = 3   // Unsupported openapi method: unknown path under /rest/2.0/
	GatewayRequestLimit      GatewayCode = 4   // Open api request limit reached: a per-minute quota
	GatewayNoPermission      GatewayCode = 6   // No permission to access data
	GatewayDailyLimit        GatewayCode = 17  // Open api daily request limit reached: a daily quota
	GatewayQPSLimit          GatewayCode = 18  // Open api qps request limit reached: a per-second quota
	GatewayInvalidParameter  GatewayCode = 100 // Invalid parameter: no access_token in the query (the FAQ's symptom of sending it in the form)
	GatewayTokenInvalid      GatewayCode = 110 // Access token invalid or no longer valid
	GatewayTokenExpired      GatewayCode = 111 // Access token expired
)

var gatewayMessages = map[GatewayCode]string{
	GatewayUnknown:           "Unknown error",
	GatewayUnavailable:       "Service temporarily unavailable",
	GatewayUnsupportedMethod: "Unsupported openapi method",
	GatewayRequestLimit:      "Open api request limit reached",
	GatewayNoPermission:      "No permission to access data",
	GatewayDailyLimit:        "Open api daily request limit reached",
	GatewayQPSLimit:          "Open api qps request limit reached",
	GatewayInvalidParameter:  "Invalid parameter",
	GatewayTokenInvalid:      "Access token invalid or no longer valid",
	GatewayTokenExpired:      "Access token expired",
}

// Message is the gateway's error_msg for a code.
func (c GatewayCode) Message() string {
	if m, ok := gatewayMessages[c]; ok {
		return m
	}
	return gatewayMessages[GatewayUnknown]
}

// isGateway reports whether n is a gateway code (used to shape faults).
func isGateway(n int) bool {
	_, ok := gatewayMessages[GatewayCode(n)]
	return ok
}

// Errno is a business API's errno.
type Errno int

// Errnos the emulation answers. The subscribe-send table of the doc lists
// 2002, 4001, 4007 and 4010; the archived copy may be incomplete.
const (
	ErrnoOK            Errno = 0
	ErrnoParam         Errno = 2002  // 参数错误
	ErrnoTemplate      Errno = 4001  // template_id 不正确
	ErrnoNotSubscribed Errno = 4007  // 用户未订阅该消息 (or cancelled it, or the subscribe id is spent)
	ErrnoOpenID        Errno = 4010  // 不合法的 touser_openId
	ErrnoRisk          Errno = 82512 // syncCheckText: "potential risk"
)

var errnoMessages = map[Errno]string{
	ErrnoOK:            "success",
	ErrnoParam:         "参数错误",
	ErrnoTemplate:      "template_id 不正确",
	ErrnoNotSubscribed: "用户未订阅该消息",
	ErrnoOpenID:        "不合法的 touser_openId",
	ErrnoRisk:          "potential risk",
	ErrnoParamValue:    "参数错误",
	ErrnoPushFailed:    "消息推送接口调用失败",
	ErrnoFormInvalid:   "表单无效",
	ErrnoSceneInvalid:  "场景id无效",
	ErrnoNoPush:        "无 push 权限",
}

// Message is the msg for an errno. The doc gives Chinese descriptions; that
// the live API sends these exact texts is UNCONFIRMED.
func (n Errno) Message() string {
	if m, ok := errnoMessages[n]; ok {
		return m
	}
	return "系统错误"
}

// OAuth error names (RFC 6749 §5.2, as Baidu's OAuth server uses them).
const (
	OAuthInvalidRequest       = "invalid_request"
	OAuthInvalidClient        = "invalid_client"
	OAuthUnsupportedGrantType = "unsupported_grant_type"
	OAuthInvalidScope         = "invalid_scope"
)
