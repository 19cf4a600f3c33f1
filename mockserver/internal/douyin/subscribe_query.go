package douyin

import (
	"net/http"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Subscription states answered by query_user_subscribe. The doc's example
// is {"subscribe_status":1,"user_allow_notification":false} without a
// table of values; the mock's reading (UNCONFIRMED) follows the numbers of
// the user_subscribe_action push (0 none, 1 一次性订阅, 2 长期订阅, 3 长期拒绝,
// 4 一次性拒绝): 0 the user holds nothing that lets a message through, 1
// one-time credits left, 2 a long-term subscription, 3 or 4 the user turned
// the (long-term or one-time) template off and has not accepted it since.
const (
	subscribeNone            = 0
	subscribeOneTime         = 1
	subscribeLongTerm        = 2
	subscribeLongTermRefused = 3
	subscribeOneTimeRefused  = 4
)

type userSubscribeData struct {
	SubscribeStatus int `json:"subscribe_status"`
	// UserAllowNotification is read as the user's switch for real-time
	// reminders (notify_type 1), which the mock does not model: always
	// false, as in the doc's example (UNCONFIRMED).
	UserAllowNotification bool `json:"user_allow_notification"`
}

// POST /api/notification/v2/subscription/query_user_subscribe/
// {"msg_id","open_id"} → {"subscribe_status","user_allow_notification"}
//
// Reads the same grants notify_user consumes (POST /_mock/grants gives
// them; DELETE, or a rejection, takes them away and is remembered until the
// next grant). Errors: token 28001003/28001008; a
// missing field, an msg_id that is not the app's or an open_id that is not
// a user of the app 28014001 参数错误 (the last two are the mock's reading,
// UNCONFIRMED).
func (e *Emulator) handleQueryUserSubscribe(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req struct {
		MsgID  string `json:"msg_id"`
		OpenID string `json:"open_id"`
	}
	ok := readJSON(w, r, &req)
	app, allowed := e.openCaller(w, r, c, EndpointQueryUserSubscribe, req.OpenID)
	if !allowed {
		return
	}
	bad := func(detail string) {
		e.failMsg(w, c, famOpen, CodeSubscribeParams, CodeSubscribeParams.Message()+": "+detail)
	}
	switch {
	case !ok || req.MsgID == "" || req.OpenID == "":
		bad("msg_id and open_id are required")
		return
	case !e.env.Store.HasUser(Name, app.AppID, req.OpenID):
		bad("open_id is not a user of this app")
		return
	}
	t, found := e.env.Store.Template(Name, app.AppID, req.MsgID)
	if !found {
		bad("msg_id is not a template of this app")
		return
	}
	status := subscribeNone
	for _, rj := range e.env.Store.Rejections(Name, app.AppID, req.OpenID) {
		if rj.TemplateID != req.MsgID {
			continue
		}
		status = subscribeOneTimeRefused
		if t.LongTerm {
			status = subscribeLongTermRefused
		}
	}
	for _, g := range e.env.Store.Grants(Name, app.AppID, req.OpenID) {
		switch {
		case g.TemplateID != req.MsgID:
		case g.LongTerm:
			status = subscribeLongTerm
		case g.Remaining > 0:
			status = subscribeOneTime
		}
	}
	e.ok(w, c, userSubscribeData{SubscribeStatus: status})
}
