package baidu

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// The legacy template message: POST /rest/2.0/smartapp/template/send
// (swan-team/swan-docs serverapi/sendTemplateMessage.md, official Go SDK
// openapi/sendTemplateMessage.go). Unlike WeChat's, Baidu's template
// messages were not withdrawn: the current doc (smartprogram.baidu.com
// …/serverapi/open_infomation/) still lists 支付类, 表单类 and 订阅类, and the
// official SDK still calls this path. So the mock serves it as documented.
//
// A message rides on a scene, not a subscription: scene_type 1 a form the
// user submitted (its formId), 2 a Baidu-cashier order (orderId), 3 a
// direct payment (payId); scene_id is that id. Rules ("模板消息下发条件"):
// within 7 days, 1 form submission → 1 message, 1 payment → 3 messages.
// The mock cannot see forms or payments, so it trusts the scene id and
// keeps the budget from the first message sent on it (UNCONFIRMED: the
// real window starts at the submission or payment). The Q&A says the last
// digit of scene_id is 1 for a logged-in user (send to touser_openId) and
// 0 for a guest (send to touser, the swan_id); a scene id that fits
// neither, or names the wrong kind of recipient, is invalid.
const (
	sceneForm       = 1
	sceneCashier    = 2
	sceneDirectPay  = 3
	sceneWindow     = 7 * 24 * time.Hour
	formMessages    = 1
	paymentMessages = 3
	maxScenes       = 1 << 20 // scene ids remembered; the oldest are forgotten first
)

// Errnos of template/send beyond subscribe/send's.
const (
	ErrnoPushFailed   Errno = 4002 // 消息推送接口调用失败 (faults only)
	ErrnoFormInvalid  Errno = 4003 // 表单无效: a form scene id that is spent, expired or malformed
	ErrnoSceneInvalid Errno = 4004 // 场景id无效: an order scene id that is spent, expired or malformed
	ErrnoNoPush       Errno = 6001 // 无 push 权限 (faults only)
)

type sceneKey struct {
	appID, sceneID string
	sceneType      int
}

type sceneUse struct {
	first time.Time
	sent  int
}

type templateSendData struct {
	MsgKey int64 `json:"msg_key"`
}

var errSceneSpent = errors.New("scene id spent or expired")

// sceneError is the errno of a bad scene for its type.
func sceneError(sceneType int) Errno {
	if sceneType == sceneForm {
		return ErrnoFormInvalid
	}
	return ErrnoSceneInvalid
}

// POST /rest/2.0/smartapp/template/send?access_token= (form; "实际请求使用
// form 不是json"): template_id, touser | touser_openId, data (JSON
// string), page, scene_id, scene_type, ext.
//
// Checks, in order: token (gateway), method and form (2002), quota
// template_send (gateway limit codes, none by default), required fields and
// scene_type 1–3, data and ext JSON objects (2002), the scene id's
// recipient digit (4003 form / 4004 order), touser_openId a user of the app
// (2002: template/send documents no 4010, UNCONFIRMED), template_id the
// app's (4001), data and page (2002, as subscribe/send), then the scene's
// budget (4003 / 4004). No subscription is needed or consumed. Success
// lands the message in the inbox (openid: touser_openId, or the swan_id
// for a guest) with msg_key as its msgid.
func (e *Emulator) handleTemplateSend(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, gw := e.checkToken(r)
	formErr := readForm(w, r)
	f := r.Form
	c.AppID, c.OpenID = appID, f.Get("touser_openId")
	if c.OpenID == "" {
		c.OpenID = f.Get("touser")
	}
	app, ok := e.admit(w, r, c, gw, formErr, EndpointTemplateSend, http.MethodPost)
	if !ok {
		return
	}
	req := sendRequest{TemplateID: f.Get("template_id"), OpenID: f.Get("touser_openId"), Page: f.Get("page")}
	swanID, sceneID, rawData := f.Get("touser"), f.Get("scene_id"), f.Get("data")
	for _, p := range [][2]string{{"template_id", req.TemplateID}, {"data", rawData}, {"scene_id", sceneID}, {"scene_type", f.Get("scene_type")}} {
		if p[1] == "" {
			fail(w, c, ErrnoParam, p[0]+" is empty")
			return
		}
	}
	sceneType, err := strconv.Atoi(f.Get("scene_type"))
	if err != nil || sceneType < sceneForm || sceneType > sceneDirectPay {
		fail(w, c, ErrnoParam, "scene_type must be 1 (form), 2 (Baidu cashier order) or 3 (direct order)")
		return
	}
	if req.OpenID == "" && swanID == "" {
		fail(w, c, ErrnoParam, "touser or touser_openId is required")
		return
	}
	if req.Data, _ = platform.RawObject([]byte(rawData)); req.Data == nil {
		fail(w, c, ErrnoParam, "data is not a JSON object")
		return
	}
	if ext := f.Get("ext"); ext != "" {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(ext), &obj) != nil || obj == nil {
			fail(w, c, ErrnoParam, "ext is not a JSON object")
			return
		}
	}
	// The scene id's last digit: 1 logged in (touser_openId), 0 guest
	// (touser).
	recipient := req.OpenID
	switch {
	case strings.HasSuffix(sceneID, "1") && req.OpenID != "":
	case strings.HasSuffix(sceneID, "0") && swanID != "":
		recipient = swanID
	default:
		fail(w, c, sceneError(sceneType), "scene_id does not match the recipient (last digit 1: touser_openId, 0: touser)")
		return
	}
	if recipient == req.OpenID && !e.env.Store.HasUser(Name, appID, req.OpenID) {
		fail(w, c, ErrnoParam, "touser_openId is not a user of this app")
		return
	}
	t, found := e.env.Store.Template(Name, appID, req.TemplateID)
	if !found {
		fail(w, c, ErrnoTemplate, "")
		return
	}
	values, serr := checkSend(app, t, &req)
	if serr != nil {
		fail(w, c, serr.errno, serr.detail)
		return
	}
	if err := e.spendScene(sceneKey{appID, sceneID, sceneType}, e.env.Clock.Now()); err != nil {
		fail(w, c, sceneError(sceneType), "scene_id already carried its messages or is older than 7 days")
		return
	}
	msgKey := e.msgKey.Add(1)
	e.env.Deliver(mockapi.Message{
		Platform: Name, AppID: appID, OpenID: recipient, TemplateID: req.TemplateID, Data: values,
		Page: req.Page, MsgID: strconv.FormatInt(msgKey, 10), ReceivedAt: e.env.Clock.Now(),
	})
	c.ErrCode = 0
	platform.WriteAnswer(w, contentType, okSendAnswer.Bytes(msgKey)) // the same bytes as templateSendData's (answer_test.go)
}

// spendScene takes one message from a scene's budget.
func (e *Emulator) spendScene(k sceneKey, now time.Time) error {
	budget := paymentMessages
	if k.sceneType == sceneForm {
		budget = formMessages
	}
	e.sceneMu.Lock()
	defer e.sceneMu.Unlock()
	u, seen := e.scenes[k]
	if !seen {
		u = &sceneUse{first: now}
		e.scenes[k] = u
		e.sceneOrder = append(e.sceneOrder, k)
		if len(e.sceneOrder) > maxScenes {
			delete(e.scenes, e.sceneOrder[0])
			e.sceneOrder = e.sceneOrder[1:]
		}
	}
	if u.sent >= budget || now.Sub(u.first) >= sceneWindow {
		return errSceneSpent
	}
	u.sent++
	return nil
}
