package wechat

import (
	"strconv"

	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/internal/push"
)

// pushSent queues subscribe_msg_sent_event after an accepted send: "当次发送
// 的结果会通过事件推送" (subscribe-message.html, 发送订阅消息). It carries the
// msgid the send answered, ErrorCode "0" and ErrorStatus "success"; a fault
// on endpoint push_sent_event makes it report its errcode (and errmsg as
// ErrorStatus, else the code's message), or drops it. Field types follow
// the doc's JSON: MsgID and ErrorCode are strings (the live type of
// ErrorCode is UNCONFIRMED). Sent only when the app has push settings with
// sent_events on (the default).
func (e *Emulator) pushSent(appID, openID, templateID string, msgID int64) {
	cfg, ok := e.env.Push.Config(Name, appID)
	if !ok || !cfg.SentEvents {
		return
	}
	code, status := "0", "success"
	if a, fired := e.env.Faults.Match(faults.Call{Platform: Name, Endpoint: push.EndpointSentEvent,
		AppID: appID, OpenID: openID, Exact: true}); fired {
		if a.Drop {
			return
		}
		if a.ErrCode != nil {
			code, status = strconv.Itoa(*a.ErrCode), a.ErrMsg
			if status == "" {
				status = ErrCode(*a.ErrCode).Message()
			}
		}
	}
	item := push.Object{{Name: "TemplateId", Value: templateID}, {Name: "MsgID", Value: strconv.FormatInt(msgID, 10)},
		{Name: "ErrorCode", Value: code}, {Name: "ErrorStatus", Value: status}}
	e.PushEvent(appID, openID, EventSubscribeSent, push.Object{{Name: "List", Value: list([]push.Object{item})}})
}
