package alipay

import "strconv"

// Code is the gateway's top-level result code. It travels as a JSON string
// ("10000"); the journal records it as a number (10000 as 0).
// Source: the opendocs "公共错误码" table (alipay.md §Codes).
type Code string

// Codes the emulation answers.
const (
	CodeSuccess         Code = "10000" // Success
	CodeUnavailable     Code = "20000" // Service Currently Unavailable: retry
	CodeAuthToken       Code = "20001" // Insufficient Token Permissions
	CodeMissingArgument Code = "40001" // Missing Required Arguments
	CodeInvalidArgument Code = "40002" // Invalid Arguments
	CodeBusinessFailed  Code = "40004" // Business Failed: see sub_code
	CodePermission      Code = "40006" // Insufficient Permissions
)

var codeMessages = map[Code]string{
	CodeSuccess:         "Success",
	CodeUnavailable:     "Service Currently Unavailable",
	CodeAuthToken:       "Insufficient Token Permissions",
	CodeMissingArgument: "Missing Required Arguments",
	CodeInvalidArgument: "Invalid Arguments",
	"40003":             "Insufficient Conditions",
	CodeBusinessFailed:  "Business Failed",
	CodePermission:      "Insufficient Permissions",
}

// Message is the gateway's msg for a code.
func (c Code) Message() string {
	if m, ok := codeMessages[c]; ok {
		return m
	}
	return "Unknown Error"
}

// journal is the code as the journal's errcode: 10000 (success) is 0.
func (c Code) journal() int {
	if c == CodeSuccess {
		return 0
	}
	n, err := strconv.Atoi(string(c))
	if err != nil {
		return -1
	}
	return n
}

// SubCode is the detailed failure code of an answer, with its sub_msg.
type SubCode string

// Gateway-level sub codes (the common error table, confirmed by the
// opendocs table quoted in alipay.md and the open.alitrip.com mirror of it).
const (
	SubMissingMethod        SubCode = "isv.missing-method"
	SubMissingSignature     SubCode = "isv.missing-signature"
	SubMissingSignatureType SubCode = "isv.missing-signature-type"
	SubMissingAppID         SubCode = "isv.missing-app-id"
	SubMissingTimestamp     SubCode = "isv.missing-timestamp"
	SubMissingVersion       SubCode = "isv.missing-version"
	SubInvalidSignature     SubCode = "isv.invalid-signature"
	SubInvalidAppID         SubCode = "isv.invalid-app-id"
	SubInvalidMethod        SubCode = "isv.invalid-method"
	SubInvalidTimestamp     SubCode = "isv.invalid-timestamp"
	SubInvalidCharset       SubCode = "isv.invalid-charset"
	SubInvalidSignatureType SubCode = "isv.invalid-signature-type"
	SubInvalidFormat        SubCode = "isv.invalid-format"
	SubUnknownError         SubCode = "isp.unknow-error" // sic: the platform's spelling
	SubInvalidAuthToken     SubCode = "aop.invalid-auth-token"
	SubISVPermission        SubCode = "isv.insufficient-isv-permissions"
	// Certificate mode. isv.app-cert-not-exist and
	// isv.invalid-alipay-root-cert-sn (code 40002) are confirmed by live
	// answers quoted in alipay/alipay-sdk-nodejs-all issue #56 and
	// yansongda/pay issue #334; the missing-* pair is UNCONFIRMED (the
	// names the v3 error enum uses, with the gateway's isv. prefix).
	SubMissingAppCertSN  SubCode = "isv.missing-app-cert-sn"
	SubMissingRootCertSN SubCode = "isv.missing-alipay-root-cert-sn"
	SubAppCertNotExist   SubCode = "isv.app-cert-not-exist"
	SubInvalidRootCertSN SubCode = "isv.invalid-alipay-root-cert-sn"
	// SubAlipayCertNotExist: alipay.open.app.alipaycert.download of an SN
	// the app does not hold. UNCONFIRMED (v3 enum alipay-cert-not-exist).
	SubAlipayCertNotExist SubCode = "isv.alipay-cert-not-exist"
	// SubInvalidParameter: a request too large to read or otherwise
	// unreadable at the gateway. UNCONFIRMED: the platform's code for it.
	SubInvalidParameter SubCode = "isv.invalid-parameter"
	// SubCallLimited: a quota set on the mock is exhausted. UNCONFIRMED: the
	// platform does not publish its flow-control answer; 40004 with this
	// sub_code is the mock's reading.
	SubCallLimited SubCode = "isv.app-call-limited"
)

// alipay.system.oauth.token sub codes. isv.code-invalid is confirmed by the
// example in alipay-sdk-nodejs-all lib/alipay.ts (exec); the others are
// UNCONFIRMED readings.
const (
	SubCodeInvalid         SubCode = "isv.code-invalid"
	SubRefreshTokenInvalid SubCode = "isv.refresh-token-invalid"  // UNCONFIRMED
	SubRefreshTokenExpired SubCode = "isv.refresh-token-time-out" // UNCONFIRMED
	SubGrantTypeInvalid    SubCode = "isv.grant-type-invalid"     // UNCONFIRMED
)

// alipay.open.app.mini.templatemessage.send business sub codes (code 40004).
// The method's doc page lists its business errors in a table that could not
// be read: USER_TEMPLATE_ILLEGAL is the one seen in the wild, the others are
// the mock's UNCONFIRMED names.
const (
	SubTemplateIllegal SubCode = "USER_TEMPLATE_ILLEGAL"
	SubParamIllegal    SubCode = "INVALID_PARAMETER"   // UNCONFIRMED
	SubUserNotExist    SubCode = "USER_NOT_EXIST"      // UNCONFIRMED
	SubNotSubscribed   SubCode = "USER_NOT_SUBSCRIBED" // UNCONFIRMED
	SubPageIllegal     SubCode = "PAGE_ILLEGAL"        // UNCONFIRMED
	SubContentIllegal  SubCode = "CONTENT_ILLEGAL"     // UNCONFIRMED
	SubBusinessUnknown SubCode = "UNKNOWN_ERROR"       // UNCONFIRMED: a 40004 fault without a sub_code
)

// subMessages are the sub_msg texts. Gateway texts follow the common error
// table; business texts are the mock's (UNCONFIRMED wording).
var subMessages = map[SubCode]string{
	SubMissingMethod:        "缺少方法名参数",
	SubMissingSignature:     "缺少签名参数",
	SubMissingSignatureType: "缺少签名类型参数",
	SubMissingAppID:         "缺少appId参数",
	SubMissingTimestamp:     "缺少时间戳参数",
	SubMissingVersion:       "缺少版本参数",
	SubInvalidSignature:     "验签出错",
	SubInvalidAppID:         "无效的AppID参数",
	SubInvalidMethod:        "不存在的方法名",
	SubInvalidTimestamp:     "非法的时间戳参数",
	SubInvalidCharset:       "字符集错误",
	SubInvalidSignatureType: "无效的签名类型",
	SubInvalidFormat:        "无效的数据格式",
	SubUnknownError:         "服务暂不可用",
	SubInvalidAuthToken:     "无效的访问令牌",
	SubISVPermission:        "ISV权限不足",
	SubInvalidParameter:     "参数无效",
	SubMissingAppCertSN:     "缺少应用公钥证书序列号",
	SubMissingRootCertSN:    "缺少支付宝根证书序列号",
	SubAppCertNotExist:      "应用公钥证书不存在",
	SubInvalidRootCertSN:    "无效支付宝根证书序列号",
	SubAlipayCertNotExist:   "支付宝公钥证书不存在",
	SubCallLimited:          "应用调用次数超限",
	SubCodeInvalid:          "授权码code无效",
	SubRefreshTokenInvalid:  "刷新令牌refresh_token无效",
	SubRefreshTokenExpired:  "刷新令牌refresh_token过期",
	SubGrantTypeInvalid:     "grant_type参数无效",
	SubTemplateIllegal:      "模板不合法",
	SubParamIllegal:         "参数有误",
	SubUserNotExist:         "用户不存在",
	SubNotSubscribed:        "用户未订阅该模板消息",
	SubPageIllegal:          "页面路径不合法",
	SubContentIllegal:       "消息内容包含敏感信息",
	SubBusinessUnknown:      "业务处理失败",
}

// Message is the sub_msg for a sub code.
func (s SubCode) Message() string {
	if m, ok := subMessages[s]; ok {
		return m
	}
	return string(s)
}

// faultDefaults gives a fault without an explicit sub_code one that fits
// its code.
var faultDefaults = map[Code]SubCode{
	CodeUnavailable:     SubUnknownError,
	CodeAuthToken:       SubInvalidAuthToken,
	CodeMissingArgument: SubMissingSignature,
	CodeInvalidArgument: SubInvalidSignature,
	CodeBusinessFailed:  SubBusinessUnknown,
	CodePermission:      SubISVPermission,
}
