package alipay

import "net/http"

// OpenAPI v3 error codes (the "code" of {code, message, links}). Common
// codes are kebab-case, from alipay-sdk-java-all v3 model
// CommonErrorType.CodeEnum; business codes are the method's own (the
// gateway's sub codes for oauth, UPPER_CASE for the template message).
const (
	CodeV3InvalidParameter     = "invalid-parameter"
	CodeV3IllegalJSON          = "illegal-json"
	CodeV3InvalidMethod        = "invalid-method" // an unknown path: 400, "不存在的方法名" (live, alipay-sdk-nodejs-all test/alipay.test.ts)
	CodeV3MissingSignature     = "missing-signature"
	CodeV3InvalidSignatureType = "invalid-signature-type"
	CodeV3InvalidSignature     = "invalid-signature"
	CodeV3MissingAppID         = "missing-app-id"
	CodeV3InvalidAppID         = "invalid-app-id"
	CodeV3MissingTimestamp     = "missing-timestamp"
	CodeV3InvalidTimestamp     = "invalid-timestamp"
	CodeV3IllegalTimestamp     = "illegal-timestamp"
	CodeV3MissingAppCertSN     = "missing-app-cert-sn"
	CodeV3AppCertNotExist      = "app-cert-not-exist"
	CodeV3InvalidRootCertSN    = "invalid-alipay-root-cert-sn"
	CodeV3InvalidAuthToken     = "invalid-auth-token" // 401 "无效的访问令牌" (live, nodejs test)
	CodeV3ISVPermission        = "insufficient-isv-permissions"
	CodeV3AppCallLimited       = "app-call-limited"
	CodeV3UnknownError         = "unknow-error" // sic
)

// v3Status is the HTTP status of a code. Confirmed live (nodejs SDK tests):
// invalid-method 400, invalid-auth-token 401, business failures 400. The
// rest is UNCONFIRMED: authentication failures 401, permissions 403, flow
// control 429, unknow-error 500, everything else 400.
func v3Status(code string) int {
	switch code {
	case CodeV3InvalidSignature, CodeV3AppCertNotExist, CodeV3InvalidRootCertSN, CodeV3InvalidAuthToken,
		"auth-token-time-out", "invalid-app-auth-token", "app-auth-token-time-out":
		return http.StatusUnauthorized
	case CodeV3ISVPermission, "forbidden-api", "invalid-app-state":
		return http.StatusForbidden
	case CodeV3AppCallLimited, "method-call-limited":
		return http.StatusTooManyRequests
	case CodeV3UnknownError, string(SubUnknownError):
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// v3SendCodes names templatemessage.send's failures in v3 with the codes
// of alipay-sdk-java-all v3 AlipayOpenAppMiniTemplatemessageSendErrorResponseModel.
// UNCONFIRMED: which of them the platform answers when (read from their
// names). The gateway keeps its own (older) sub codes.
var v3SendCodes = map[SubCode]string{
	SubParamIllegal:    "ILLEGAL_ARGUMENT_PARAMS",
	SubUserNotExist:    "USER_ID_INVALID",
	SubTemplateIllegal: "USER_TEMPLATE_ILLEGAL",
	SubPageIllegal:     "ILLEGAL_ARGUMENT_PARAMS",
	SubContentIllegal:  "DATA_SENSITIVE",
	SubNotSubscribed:   "MSG_UNSUBSCRIBED",
	SubUnknownError:    CodeV3UnknownError,
}

// v3FaultDefaults give an injected fault without an errmsg a code that fits
// its errcode: an HTTP status (400…599) or a gateway code (20000…).
var v3FaultDefaults = map[int]string{
	http.StatusBadRequest:          CodeV3InvalidParameter,
	http.StatusUnauthorized:        CodeV3InvalidSignature,
	http.StatusForbidden:           CodeV3ISVPermission,
	http.StatusTooManyRequests:     CodeV3AppCallLimited,
	int(20000):                     CodeV3UnknownError,
	int(20001):                     CodeV3InvalidAuthToken,
	int(40001):                     CodeV3MissingSignature,
	int(40002):                     CodeV3InvalidSignature,
	int(40004):                     string(SubBusinessUnknown),
	int(40006):                     CodeV3ISVPermission,
	http.StatusInternalServerError: CodeV3UnknownError,
}
