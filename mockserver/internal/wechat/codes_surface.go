package wechat

// Codes of the message surface beyond subscribe messages (customer service,
// media, updatable messages, media checks, quota tools). Sources: the
// official pages cited beside each handler; WxJava's WxMaErrorMsgEnum
// (binarywang/WxJava, weixin-java-common) for the codes' meanings. Texts
// marked UNCONFIRMED are the mock's wording where no real answer was found.
const (
	CodeInvalidMediaType    ErrCode = 40004 // media/upload type is not image
	CodeInvalidFileType     ErrCode = 40005 // the file is not an image the API takes (UNCONFIRMED for this use)
	CodeInvalidMediaSize    ErrCode = 40006 // img_sec_check: image over the size limit (observed)
	CodeInvalidMediaID      ErrCode = 40007 // unknown, expired or another app's media_id
	CodeInvalidMessageType  ErrCode = 40008 // customer-service msgtype unknown (UNCONFIRMED)
	CodeInvalidImageSize    ErrCode = 40009 // media/upload image over 2 MB (UNCONFIRMED for mini-programs)
	CodeMediaMissing        ErrCode = 41005 // no "media" part in the upload
	CodeMediaIDMissing      ErrCode = 41006 // media_id missing
	CodeContentTooLong      ErrCode = 45002 // customer-service text over its limit (UNCONFIRMED)
	CodeKefuOutOfTime       ErrCode = 45015 // no open customer-service window
	CodeKefuCountLimit      ErrCode = 45047 // the window's replies are used up
	CodeTypingCommand       ErrCode = 45072 // typing command not Typing/CancelTyping
	CodeTypingNoInteraction ErrCode = 45080 // typing needs a message exchange in the last 30 s
	CodeTypingAlready       ErrCode = 45081 // already typing
	CodeUnsupportedAPI      ErrCode = 45109 // uniform_send, withdrawn on 2023-09-20
	CodeKefuInvalidType     ErrCode = 45162 // an Official-Account-only msgtype such as news (observed)
	CodeActivityID          ErrCode = 47501 // activity_id wrong
	CodeTargetState         ErrCode = 47502 // target_state wrong
	CodeVersionType         ErrCode = 47503 // version_type wrong
	CodeActivityExpired     ErrCode = 47504 // activity_id expired
	CodeClearQuotaLimit     ErrCode = 48006 // clear_quota used up for the month
	CodeRIDNotFound         ErrCode = 76001 // rid not found
	CodeRIDInvalid          ErrCode = 76002 // rid empty or malformed
	CodeRIDOtherAccount     ErrCode = 76003 // rid of another account's call
	CodeRIDExpired          ErrCode = 76004 // rid older than 7 days
	CodeCGIPathNotFound     ErrCode = 76021 // quota/get: no such cgi_path
	CodeCGIPathAccount      ErrCode = 76022 // quota/get: cgi_path the token's account cannot query
)

var surfaceMessages = map[ErrCode]string{
	CodeInvalidMediaType:    "invalid media type",
	CodeInvalidFileType:     "invalid file type",
	CodeInvalidMediaSize:    "invalid media size",
	CodeInvalidMediaID:      "invalid media_id",
	CodeInvalidMessageType:  "invalid message type",
	CodeInvalidImageSize:    "invalid image size",
	CodeMediaMissing:        "media data missing",
	CodeMediaIDMissing:      "media_id missing",
	CodeContentTooLong:      "content size out of limit",
	CodeKefuOutOfTime:       "response out of time limit or subscription is canceled",
	CodeKefuCountLimit:      "out of response count limit",
	CodeTypingCommand:       "invalid command",
	CodeTypingNoInteraction: "need sending message to user",
	CodeTypingAlready:       "已经在输入状态，不可重复下发",
	CodeUnsupportedAPI:      "This API has been unsupported. For more details, please view https://developers.weixin.qq.com/community/develop/doc/000ae8d6348af08e7030bc2546bc01?blockType=1",
	CodeKefuInvalidType:     "invalid type",
	CodeActivityID:          "invalid activity_id",
	CodeTargetState:         "invalid target_state",
	CodeVersionType:         "invalid version_type",
	CodeActivityExpired:     "activity_id expired",
	CodeClearQuotaLimit:     "forbid to clear quota because of reaching the limit",
	CodeRIDNotFound:         "rid not found",
	CodeRIDInvalid:          "rid is error",
	CodeRIDOtherAccount:     "no permission to query this rid",
	CodeRIDExpired:          "rid expired",
	CodeCGIPathNotFound:     "cgi_path not found",
	CodeCGIPathAccount:      "cgi_path does not belong to this account",
}
