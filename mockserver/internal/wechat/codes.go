package wechat

// ErrCode is a WeChat errcode. Every answer is HTTP 200; failure is a
// non-zero errcode with an errmsg. Texts are the platform's, as documented
// or observed (see docs/platforms/wechat.md).
type ErrCode int

// Codes the emulation answers.
const (
	CodeSystemBusy         ErrCode = -1     // system error: retry
	CodeOK                 ErrCode = 0      // ok
	CodeInvalidCredential  ErrCode = 40001  // token replaced, revoked or unknown
	CodeInvalidGrantType   ErrCode = 40002  // grant_type is not client_credential
	CodeInvalidOpenID      ErrCode = 40003  // touser is empty or not this app's user
	CodeInvalidAppID       ErrCode = 40013  // unknown appid
	CodeInvalidTemplateID  ErrCode = 40037  // template_id empty or not this app's
	CodeInvalidURL         ErrCode = 40066  // no such API (unknown path)
	CodeInvalidAppSecret   ErrCode = 40125  // wrong secret
	CodeInvalidScene       ErrCode = 40129  // msg_sec_check scene not 1..4
	CodeInvalidIP          ErrCode = 40164  // caller not in the app's IP whitelist
	CodeTokenMissing       ErrCode = 41001  // no access_token
	CodeAppIDMissing       ErrCode = 41002  // no appid
	CodeSecretMissing      ErrCode = 41004  // no secret
	CodeInvalidPage        ErrCode = 41030  // page not in the published version
	CodeTokenExpired       ErrCode = 42001  // token past its expires_in
	CodeRequirePost        ErrCode = 43002  // GET on a POST API
	CodeUserRefused        ErrCode = 43101  // no (remaining) subscription for this template
	CodeEmptyPostData      ErrCode = 44002  // empty body
	CodeMinuteFrequency    ErrCode = 44991  // msg_sec_check per-minute limit
	CodeDailyQuota         ErrCode = 45009  // daily quota reached
	CodeMinuteQuota        ErrCode = 45011  // per-minute quota reached
	CodeSensitiveWord      ErrCode = 45168  // subscribe send content hit a sensitive word
	CodeDataFormat         ErrCode = 47001  // body is not valid JSON / wrong field types
	CodeArgumentInvalid    ErrCode = 47003  // data or argument breaks a rule; errmsg names it
	CodeRiskyContent       ErrCode = 87014  // msg_sec_check v1 verdict
	CodeNotFound           ErrCode = 404    // wxaapi called with the wrong HTTP method
	CodeTmplParam          ErrCode = 200002 // template API: bad input
	CodeTmplLimit          ErrCode = 200012 // private template count reached
	CodeTmplTID            ErrCode = 200014 // unknown tid / priTmplId
	CodeTmplStart          ErrCode = 200016 // bad start
	CodeTmplLimitParam     ErrCode = 200017 // bad limit
	CodeTmplIDsMissing     ErrCode = 200018 // ids missing
	CodeTmplIDsInvalid     ErrCode = 200019 // ids invalid
	CodeTmplKidList        ErrCode = 200020 // kidList wrong
	CodeTmplSceneDesc      ErrCode = 200021 // sceneDesc wrong
	CodeTmplDuplicate      ErrCode = 200022 // same title and keywords exist
	CodeTmplPrivateMissing ErrCode = 200002 // deltemplate of an unknown priTmplId (UNCONFIRMED: the doc table lists only generic codes)
)

var messages = map[ErrCode]string{
	CodeSystemBusy:        "system error",
	CodeOK:                "ok",
	CodeInvalidCredential: "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r",
	CodeInvalidGrantType:  "invalid grant_type",
	CodeInvalidOpenID:     "invalid openid",
	CodeInvalidAppID:      "invalid appid",
	CodeInvalidTemplateID: "invalid template_id",
	CodeInvalidURL:        "invalid url",
	CodeInvalidAppSecret:  "invalid appsecret",
	CodeInvalidScene:      "invalid scene",
	CodeInvalidIP:         "invalid ip, not in whitelist",
	CodeTokenMissing:      "access_token missing",
	CodeAppIDMissing:      "appid missing",
	CodeSecretMissing:     "appsecret missing",
	CodeInvalidPage:       "invalid page",
	CodeTokenExpired:      "access_token expired",
	CodeRequirePost:       "require POST method",
	CodeUserRefused:       "user refuse to accept the msg",
	CodeEmptyPostData:     "empty post data",
	CodeMinuteFrequency:   "reach max api minute frequence",
	CodeDailyQuota:        "reach max api daily quota limit",
	CodeMinuteQuota:       "api minute-quota reach limit  mustslower  retry next minute",
	CodeSensitiveWord:     "content hit sensitive word",
	CodeDataFormat:        "data format error",
	CodeArgumentInvalid:   "argument invalid!",
	CodeRiskyContent:      "risky content",
	CodeNotFound:          "404 not found",
	CodeTmplParam:         "param error",
	CodeTmplLimit:         "private template count reach limit",
	CodeTmplTID:           "invalid tid",
	CodeTmplStart:         "invalid start",
	CodeTmplLimitParam:    "invalid limit",
	CodeTmplIDsMissing:    "category ids missing",
	CodeTmplIDsInvalid:    "invalid category ids",
	CodeTmplKidList:       "invalid kidList",
	CodeTmplSceneDesc:     "invalid sceneDesc",
	CodeTmplDuplicate:     "template with the same title and keywords exists",
}

// Message is the platform's errmsg for a code (without the rid suffix).
func (c ErrCode) Message() string {
	if m, ok := messages[c]; ok {
		return m
	}
	if m, ok := surfaceMessages[c]; ok {
		return m
	}
	return "system error"
}
