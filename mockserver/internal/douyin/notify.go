package douyin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Send rules shared by v1 and v2 (docs/platforms/douyin.md):
//   - data is a flat map whose keys are the template's keyword NAMES (often
//     Chinese, "物品名称"), values strings; the mini-game example also sends
//     numbers. In the mock a template's keyword names are its keyword_names
//     (a keyword without a name is addressed by its key, and the key is
//     accepted as an alias of the name). v2's data shape is UNCONFIRMED: a
//     {"value": …} object per keyword is accepted too.
//   - Douyin documents no per-keyword type rules (its templates are not
//     typed like WeChat's). The mock applies a lenient rule, UNCONFIRMED:
//     every keyword of the template present, non-empty, one line (no control
//     characters), at most maxKeywordRunes characters. Keys the template
//     does not have are ignored.
//   - "对单个用户推送消息，频率限制为 1 次/秒": an accepted send blocks the next
//     send to the same user of the same app, by either version, for one
//     second of the mock clock (documented for v1; applying it to v2 and
//     sharing it between them is UNCONFIRMED).
//   - Risky content (the shared content rules) is refused; review-level hits
//     pass, since Douyin has no review verdict.
const (
	userInterval    = time.Second
	maxKeywordRunes = 50
)

type userKey struct{ appID, openID string }

// reserveSend claims the user's one-per-second slot; release gives it back
// when the send is refused later on.
func (e *Emulator) reserveSend(appID, openID string, now time.Time) (reservation, bool) {
	k := userKey{appID, openID}
	e.mu.Lock()
	defer e.mu.Unlock()
	prev, had := e.lastSend[k]
	if d := now.Sub(prev); had && d >= 0 && d < userInterval {
		return reservation{}, false
	}
	if len(e.lastSend) >= e.sendSweepAt {
		// Entries older than the interval block nothing; sweep them when the
		// map has doubled since the last sweep (O(1) amortised per send).
		for key, t := range e.lastSend {
			if now.Sub(t) >= userInterval {
				delete(e.lastSend, key)
			}
		}
		e.sendSweepAt = max(minSweep, 2*len(e.lastSend))
	}
	e.lastSend[k] = now
	return reservation{k: k, now: now, prev: prev, had: had}, true
}

// reservation is a claimed slot (a value, not a closure: no allocation
// per send).
type reservation struct {
	k         userKey
	now, prev time.Time
	had       bool
}

// release gives the slot back unless a later send took it meanwhile.
func (e *Emulator) release(s reservation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lastSend[s.k].Equal(s.now) {
		if s.had {
			e.lastSend[s.k] = s.prev
		} else {
			delete(e.lastSend, s.k)
		}
	}
}

// problem is why a send's content is refused; each version has its code.
type problem int

const (
	problemData  problem = iota // a keyword missing, empty, too long, of the wrong type
	problemPage                 // page not a page of the published version
	problemRisky                // content rules judge a value risky
)

type sendError struct {
	problem problem
	detail  string
}

func (e *sendError) Error() string { return e.detail }

// checkData validates data and page against the template and the content
// rules; it returns the values keyed by keyword name.
func (e *Emulator) checkData(app *store.App, t *store.Template, data map[string]json.RawMessage, page string) (map[string]string, *sendError) {
	values := make(map[string]string, len(t.Keywords))
	texts := make([]string, 0, len(t.Keywords))
	for _, key := range t.Keywords {
		name := key
		if n := t.Names[key]; n != "" {
			name = n
		}
		raw, ok := data[name]
		if !ok {
			raw, ok = data[key]
		}
		if !ok {
			return nil, &sendError{problemData, "data." + name + " is missing"}
		}
		v, ok := dataValue(raw)
		if !ok {
			return nil, &sendError{problemData, "data." + name + " must be a string"}
		}
		if why := checkValue(v); why != "" {
			return nil, &sendError{problemData, "data." + name + " " + why}
		}
		values[name] = v
		texts = append(texts, v)
	}
	if !validPage(app, page) {
		return nil, &sendError{problemPage, "page " + page + " is not a page of the published version"}
	}
	if v := e.env.Content.Check(texts...); v.Suggest == content.Risky {
		return nil, &sendError{problemRisky, "通知内容违规"}
	}
	return values, nil
}

// dataValue reads a keyword value: a string, a number (as written), or a
// {"value": string|number} object.
func dataValue(raw json.RawMessage) (string, bool) {
	if v, ok := scalarValue(raw); ok {
		return v, true
	}
	val, ok := platform.ValueMember(raw)
	if !ok || len(val) == 0 {
		return "", false
	}
	return scalarValue(val)
}

// scalarValue is a string, or a number as written (json.Unmarshal into a
// string, then into a json.Number; platform's one-pass readers).
func scalarValue(raw json.RawMessage) (string, bool) {
	if s, ok := platform.JSONString(raw); ok {
		return s, true
	}
	return platform.JSONNumberText(raw)
}

// checkValue is the lenient keyword rule (UNCONFIRMED, see above).
func checkValue(v string) string {
	if strings.TrimSpace(v) == "" {
		return "is empty"
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			return "holds an invalid character"
		}
	}
	if utf8.RuneCountInString(v) > maxKeywordRunes {
		return "exceeds limit"
	}
	return ""
}

// validPage: a page is a path inside the mini-app with an optional query
// ("pages/index?a=b"). When the app lists its published pages the path must
// be one of them (the code for a bad page is UNCONFIRMED; it is a
// parameter-content error).
func validPage(app *store.App, page string) bool {
	if page == "" {
		return true
	}
	if len(page) > 1024 || strings.Contains(page, "://") {
		return false
	}
	for _, r := range page {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	if app.Pages == nil {
		return true
	}
	path, _, _ := strings.Cut(page, "?")
	return app.Pages[strings.TrimPrefix(path, "/")]
}

// send runs the shared part of a send once the request is well-formed and
// the caller known: the per-user limit, then the store's checks (user,
// template, checkData, grant) atomically with consuming a one-time grant.
// It returns the accepted values, or the store's error or a *sendError, or
// errTooFrequent.
func (e *Emulator) send(app *store.App, openID, templateID string, data map[string]json.RawMessage, page string) (map[string]string, error) {
	slot, ok := e.reserveSend(app.AppID, openID, e.env.Clock.Now())
	if !ok {
		return nil, errTooFrequent
	}
	var values map[string]string
	err := e.env.Store.Send(Name, app.AppID, openID, templateID, func(t *store.Template) error {
		var serr *sendError
		values, serr = e.checkData(app, t, data, page)
		if serr != nil {
			return serr
		}
		return nil
	})
	if err != nil {
		e.release(slot)
		return nil, err
	}
	return values, nil
}

var errTooFrequent = errors.New("more than one message per second to this user")

// notifyV1Request is the v1 body; the token travels in it.
type notifyV1Request struct {
	AccessToken string                     `json:"access_token"`
	AppID       string                     `json:"app_id"`
	TplID       string                     `json:"tpl_id"`
	OpenID      string                     `json:"open_id"`
	Data        map[string]json.RawMessage `json:"data"`
	Page        string                     `json:"page"`
}

func (q *notifyV1Request) flatFields() []platform.FlatField {
	return []platform.FlatField{{Name: "access_token", Str: &q.AccessToken}, {Name: "app_id", Str: &q.AppID},
		{Name: "tpl_id", Str: &q.TplID}, {Name: "open_id", Str: &q.OpenID},
		{Name: "data", Obj: &q.Data}, {Name: "page", Str: &q.Page}}
}

// POST /api/apps/subscribe_notification/developer/v1/notify
// (and /mgplatform/… on the mini-game host)
//
// Checks: body (1000), token, required fields (1000), app_id matches the
// token's app (1001), QPS (28006003), the user's 1/s (1010), user (1001),
// template (1001), data and page (1001), content (1008), grant (28014043).
//
// A bad or expired token has no documented v1 code (UNCONFIRMED). The v1
// backend already answers the gateway's 28xxxxxx codes (28006003,
// 28014043), so it answers the gateway's token codes too: 28001003 for a
// missing, unknown or replaced token, 28001008 for an expired one.
func (e *Emulator) handleNotifyV1(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req notifyV1Request
	ok := readJSON(w, r, &req)
	appID, state := e.checkToken(req.AccessToken, true)
	c.AppID, c.OpenID = appID, req.OpenID
	if c.AppID == "" {
		c.AppID = req.AppID
	}
	if e.fault(w, r, c, famNotifyV1) {
		return
	}
	if !ok {
		e.fail(w, c, famNotifyV1, CodeNotifyFormat)
		return
	}
	switch state {
	case tokenMissing, tokenInvalid:
		e.fail(w, c, famNotifyV1, CodeTokenInvalid)
		return
	case tokenExpired:
		e.fail(w, c, famNotifyV1, CodeTokenExpired)
		return
	}
	if req.AppID == "" || req.TplID == "" || req.OpenID == "" || req.Data == nil {
		e.failMsg(w, c, famNotifyV1, CodeNotifyFormat, "参数格式有误: app_id, tpl_id, open_id and data are required")
		return
	}
	if req.AppID != appID {
		e.failMsg(w, c, famNotifyV1, CodeNotifyContent, "app_id / open_id不合法")
		return
	}
	app, found := e.env.Store.App(Name, appID)
	if !found { // the app was removed after the token was issued
		e.fail(w, c, famNotifyV1, CodeTokenInvalid)
		return
	}
	if _, ok := e.env.Take(app, EndpointNotifyV1); !ok {
		e.fail(w, c, famNotifyV1, CodeNotifyQPS)
		return
	}
	values, err := e.send(app, req.OpenID, req.TplID, req.Data, req.Page)
	var serr *sendError
	switch {
	case err == nil:
	case errors.Is(err, errTooFrequent):
		e.fail(w, c, famNotifyV1, CodeNotifyTooFrequent)
		return
	case errors.As(err, &serr) && serr.problem == problemRisky:
		e.fail(w, c, famNotifyV1, CodeNotifyViolation)
		return
	case errors.As(err, &serr):
		e.failMsg(w, c, famNotifyV1, CodeNotifyContent, "参数内容有误: "+serr.detail)
		return
	case errors.Is(err, store.ErrUnknownUser):
		e.failMsg(w, c, famNotifyV1, CodeNotifyContent, "app_id / open_id不合法")
		return
	case errors.Is(err, store.ErrUnknownTemplate):
		e.failMsg(w, c, famNotifyV1, CodeNotifyContent, "参数内容有误: tpl_id不合法")
		return
	case errors.Is(err, store.ErrNoGrant):
		e.fail(w, c, famNotifyV1, CodeNotSubscribed)
		return
	default:
		e.fail(w, c, famNotifyV1, CodeNotifyInternal)
		return
	}
	e.env.Deliver(mockapi.Message{Platform: Name, AppID: appID, OpenID: req.OpenID, TemplateID: req.TplID,
		Data: values, Page: req.Page, ReceivedAt: e.env.Clock.Now()})
	c.ErrCode = 0
	// v1 answers an empty err_tips on success.
	platform.WriteAnswer(w, contentType, okV1Answer)
}

// notifyV2Request is the notify_user body; the client token travels in the
// access-token header.
type notifyV2Request struct {
	MsgID      string                     `json:"msg_id"`
	OpenID     string                     `json:"open_id"`
	Data       map[string]json.RawMessage `json:"data"`
	NotifyType []int                      `json:"notify_type"`
	Page       string                     `json:"page"`
}

func (q *notifyV2Request) flatFields() []platform.FlatField {
	return []platform.FlatField{{Name: "msg_id", Str: &q.MsgID}, {Name: "open_id", Str: &q.OpenID},
		{Name: "data", Obj: &q.Data}, {Name: "notify_type", Ints: &q.NotifyType}, {Name: "page", Str: &q.Page}}
}

// POST /api/notification/v2/subscription/notify_user/
//
// Checks: token (28001003/28001008), body and required fields (28001007),
// notify_type values 1 and 2 only (28001007), quota (28003018, a day quota
// 28003017), the user's 1/s (28003018), user, template, data, page
// (28001007), content (28001007 "通知内容违规"), grant (28014043).
// notify_user's own error table was not retrieved: every code but 28014043
// comes from the common status-code table and is UNCONFIRMED for this API.
func (e *Emulator) handleNotifyV2(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, state := e.checkToken(r.Header.Get("access-token"), false)
	var req notifyV2Request
	ok := readJSON(w, r, &req)
	c.AppID, c.OpenID = appID, req.OpenID
	if e.fault(w, r, c, famOpen) {
		return
	}
	switch state {
	case tokenMissing, tokenInvalid:
		e.fail(w, c, famOpen, CodeTokenInvalid)
		return
	case tokenExpired:
		e.fail(w, c, famOpen, CodeTokenExpired)
		return
	}
	if !ok {
		e.fail(w, c, famOpen, CodeInvalidParam)
		return
	}
	if req.MsgID == "" || req.OpenID == "" || req.Data == nil {
		e.failMsg(w, c, famOpen, CodeInvalidParam, "参数不合法: msg_id, open_id and data are required")
		return
	}
	for _, t := range req.NotifyType {
		if t != 1 && t != 2 {
			e.failMsg(w, c, famOpen, CodeInvalidParam, "参数不合法: notify_type must hold 1 or 2")
			return
		}
	}
	app, found := e.env.Store.App(Name, appID)
	if !found {
		e.fail(w, c, famOpen, CodeTokenInvalid)
		return
	}
	if l, ok := e.env.Take(app, EndpointNotifyV2); !ok {
		e.fail(w, c, famOpen, quotaCode(l))
		return
	}
	values, err := e.send(app, req.OpenID, req.MsgID, req.Data, req.Page)
	var serr *sendError
	switch {
	case err == nil:
	case errors.Is(err, errTooFrequent):
		e.fail(w, c, famOpen, CodeRequestTooOften)
		return
	case errors.As(err, &serr):
		e.failMsg(w, c, famOpen, CodeInvalidParam, "参数不合法: "+serr.detail)
		return
	case errors.Is(err, store.ErrUnknownUser):
		e.failMsg(w, c, famOpen, CodeInvalidParam, "参数不合法: open_id")
		return
	case errors.Is(err, store.ErrUnknownTemplate):
		e.failMsg(w, c, famOpen, CodeInvalidParam, "参数不合法: msg_id")
		return
	case errors.Is(err, store.ErrNoGrant):
		e.fail(w, c, famOpen, CodeNotSubscribed)
		return
	default:
		e.fail(w, c, famOpen, CodeBusy)
		return
	}
	logID := e.logID()
	e.env.Deliver(mockapi.Message{Platform: Name, AppID: appID, OpenID: req.OpenID, TemplateID: req.MsgID,
		Data: values, Page: req.Page, MsgID: logID, ReceivedAt: e.env.Clock.Now()})
	c.ErrCode = 0
	platform.WriteAnswer(w, contentType, okV2Answer.Bytes(logID))
}
