package wechat

import (
	"time"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/push"
)

// detailProb is the content model's confidence the pushes report, as in
// the doc's example.
const detailProb = 90

// pushMediaCheck pushes a check's verdict as wxa_media_check to the app's
// push URL, encoded like every other push (format, mode, signature).
//
// Version 2 (mediaCheckAsync page, push example): appid, trace_id,
// version 2, detail [{strategy, errcode, suggest, label, prob}], errcode,
// errmsg, result {suggest, label}. Labels are numbers as in the doc's
// example and the SDKs' types (silenceper: int); one live push of 2025
// was seen with "label":"100" (UNCONFIRMED which is current). The legacy
// version 1: isrisky 0/1, extra_info_json, appid, trace_id, status_code.
// media_url is not echoed: receivers match by trace_id.
func (e *Emulator) pushMediaCheck(c *mediaCheck, now time.Time) {
	var fields push.Object
	if c.version == 2 {
		detail := push.Object{{Name: "strategy", Value: "content_model"}, {Name: "errcode", Value: 0},
			{Name: "suggest", Value: c.suggest}, {Name: "label", Value: c.label}, {Name: "prob", Value: detailProb}}
		fields = push.Object{{Name: "appid", Value: c.appID}, {Name: "trace_id", Value: c.traceID}, {Name: "version", Value: 2},
			{Name: "detail", Value: []any{detail}}, {Name: "errcode", Value: 0}, {Name: "errmsg", Value: "ok"},
			{Name: "result", Value: push.Object{{Name: "suggest", Value: c.suggest}, {Name: "label", Value: c.label}}}}
	} else {
		risky := 0
		if c.suggest == content.Risky {
			risky = 1
		}
		fields = push.Object{{Name: "isrisky", Value: risky}, {Name: "extra_info_json", Value: ""},
			{Name: "appid", Value: c.appID}, {Name: "trace_id", Value: c.traceID}, {Name: "status_code", Value: 0}}
	}
	id, ok := e.PushEvent(c.appID, c.openID, EventMediaCheck, fields)
	note := ""
	if !ok {
		note = "the app has no push settings: the platform had nowhere to push the verdict"
	}
	e.finishMediaCheck(c, now, id, note)
}
