package wechat

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Updatable (动态) messages: createActivityId
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/updatable-message/createActivityId.html)
// and setUpdatableMsg
// (https://developers.weixin.qq.com/miniprogram/dev/server/API/mp-message-management/updatable-message/api_setupdatablemsg.html).
// An activity lives 24 hours; its card then shows "已结束". target_state 0
// (未开始: "成员正在加入，当前 {member_count}/{room_limit} 人") may be set again
// and again; 1 (已开始) ends the changes.
const activityLife = 24 * time.Hour

// Activity states (target_state).
const (
	activityNotStarted = 0
	activityStarted    = 1
)

type activityAnswer struct {
	ErrCode        ErrCode `json:"errcode"`
	ErrMsg         string  `json:"errmsg"`
	ActivityID     string  `json:"activity_id"`
	ExpirationTime int64   `json:"expiration_time"`
}

type activityCreateRequest struct {
	OpenID  string `json:"openid"`
	UnionID string `json:"unionid"`
}

// newActivityID looks like the doc's example ("966_NGiqzS1cfBAxy2gN…").
func newActivityID() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return "966_" + base64.RawURLEncoding.EncodeToString(b)
}

// GET /cgi-bin/message/wxopen/activityid/create?access_token=TOKEN&openid=&unionid=
// (the doc), or POST with {"openid","unionid"} (SKIT).
//
// openid or unionid marks a private message's activity. silenceper sends
// both parameters, empty, in the query: empty is absent. An openid that is
// not a user of the app answers 40003 (UNCONFIRMED); a unionid is taken as
// given (the mock has no unionids).
func (e *Emulator) handleActivityCreate(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	q := r.URL.Query()
	req := activityCreateRequest{OpenID: q.Get("openid"), UnionID: q.Get("unionid")}
	var body activityCreateRequest
	var decode func([]byte) ErrCode
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		decode = into(&body)
	}
	app, ok := e.begin(w, r, c, decode, func() string {
		if req.OpenID != "" {
			return req.OpenID
		}
		return body.OpenID
	})
	if !ok || !e.take(w, c, app, EndpointActivityCreate, CodeMinuteQuota) {
		return
	}
	if req.OpenID == "" {
		req.OpenID = body.OpenID
	}
	if req.UnionID == "" {
		req.UnionID = body.UnionID
	}
	c.OpenID = req.OpenID
	if req.OpenID != "" && !e.env.Store.HasUser(Name, app.AppID, req.OpenID) {
		e.fail(w, c, CodeInvalidOpenID, "")
		return
	}
	now := e.env.Clock.Now()
	a := store.Activity{Platform: Name, AppID: app.AppID, ID: newActivityID(), OpenID: req.OpenID,
		UnionID: req.UnionID, Created: now, Expires: now.Add(activityLife)}
	e.env.Store.CreateActivity(a, now)
	c.ErrCode = 0
	writeJSON(w, activityAnswer{ErrCode: CodeOK, ErrMsg: "ok", ActivityID: a.ID, ExpirationTime: a.Expires.Unix()})
}

type updatableRequest struct {
	ActivityID   string          `json:"activity_id"`
	TargetState  json.RawMessage `json:"target_state"`
	TemplateInfo *struct {
		ParameterList []json.RawMessage `json:"parameter_list"`
	} `json:"template_info"`
}

// errParamType is a parameter whose value is not a string.
var errParamType = errors.New("parameter value is not a string")

// decodeUpdatable reads the body. A parameter's value must be a string:
// "value":3 was observed to answer 44002 (the body fails to parse, so it
// is empty to the platform); any other non-string is taken the same way
// (UNCONFIRMED). A parameter without a name is skipped.
//
// The usual body is read in one pass (decodeUpdatableFlat); anything else
// by encoding/json (decodeUpdatableJSON), whose verdict every answer is
// (FuzzUpdatableBody holds both to it).
func decodeUpdatable(body []byte) (req updatableRequest, params map[string]string, code ErrCode) {
	if req, params, ok := decodeUpdatableFlat(body); ok {
		return req, params, CodeOK
	}
	return decodeUpdatableJSON(body)
}

// updatableFlat is updatableRequest as platform.DecodeFlat reads it.
type updatableFlat struct {
	ActivityID   string          `json:"activity_id"`
	TargetState  json.RawMessage `json:"target_state"`
	TemplateInfo json.RawMessage `json:"template_info"`
}

func (q *updatableFlat) flatFields() []platform.FlatField {
	return []platform.FlatField{{Name: "activity_id", Str: &q.ActivityID}, {Name: "target_state", Raw: &q.TargetState},
		{Name: "template_info", Raw: &q.TemplateInfo}}
}

// decodeUpdatableFlat reads a body of plain JSON whose template_info is
// null or {"parameter_list": null or [{"name": "…", "value": "…"}, …]}, every
// key spelt exactly and every name and value a plain string (or a null
// name); false for anything else.
func decodeUpdatableFlat(body []byte) (updatableRequest, map[string]string, bool) {
	var f updatableFlat
	if !platform.DecodeFlat(body, f.flatFields()) {
		return updatableRequest{}, nil, false
	}
	req := updatableRequest{ActivityID: f.ActivityID, TargetState: f.TargetState}
	params := map[string]string{}
	if f.TemplateInfo == nil || string(f.TemplateInfo) == "null" {
		return req, params, true
	}
	if f.TemplateInfo[0] != '{' {
		return updatableRequest{}, nil, false
	}
	info, ok := platform.RawObject(f.TemplateInfo)
	if !ok {
		return updatableRequest{}, nil, false
	}
	req.TemplateInfo = &struct {
		ParameterList []json.RawMessage `json:"parameter_list"`
	}{}
	for k, raw := range info {
		if k != "parameter_list" || len(raw) == 0 || (raw[0] != '[' && string(raw) != "null") {
			return updatableRequest{}, nil, false
		}
		if req.TemplateInfo.ParameterList, ok = platform.RawArray(raw); !ok {
			return updatableRequest{}, nil, false
		}
	}
	for _, raw := range req.TemplateInfo.ParameterList {
		if len(raw) == 0 || raw[0] != '{' {
			return updatableRequest{}, nil, false
		}
		p, ok := platform.RawObject(raw)
		if !ok {
			return updatableRequest{}, nil, false
		}
		var name, value string
		for k, v := range p {
			switch {
			case k == "name" && len(v) > 0 && (v[0] == '"' || string(v) == "null"):
				name, ok = platform.JSONString(v)
			case k == "value" && len(v) > 0 && v[0] == '"':
				value, ok = platform.JSONString(v)
			default:
				ok = false
			}
			if !ok {
				return updatableRequest{}, nil, false
			}
		}
		if name != "" {
			params[name] = value
		}
	}
	return req, params, true
}

// decodeUpdatableJSON is decodeUpdatable by encoding/json alone.
func decodeUpdatableJSON(body []byte) (req updatableRequest, params map[string]string, code ErrCode) {
	if code := decodeJSON(body, &req); code != CodeOK {
		return req, nil, code
	}
	params = map[string]string{}
	if req.TemplateInfo == nil {
		return req, params, CodeOK
	}
	for _, raw := range req.TemplateInfo.ParameterList {
		var p struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return req, nil, CodeEmptyPostData
		}
		var v string
		if len(p.Value) > 0 {
			if err := json.Unmarshal(p.Value, &v); err != nil || bytes.TrimSpace(p.Value)[0] != '"' {
				return req, nil, CodeEmptyPostData
			}
		}
		if p.Name != "" {
			params[p.Name] = v
		}
	}
	return req, params, CodeOK
}

// targetState reads target_state: absent is 0, as the platform's JSON
// decoding defaults a missing number (UNCONFIRMED); anything but 0 or 1 is
// 47502. (silenceper also defines TargetStateFinished = 2, which the doc
// does not list: 47502.)
func targetState(raw json.RawMessage) (int, bool) {
	switch string(raw) {
	case "", "null":
		return activityNotStarted, true
	case "0": // the usual values, without reflection
		return activityNotStarted, true
	case "1":
		return activityStarted, true
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || (n != activityNotStarted && n != activityStarted) {
		return 0, false
	}
	return n, true
}

// POST /cgi-bin/message/wxopen/updatablemsg/send?access_token=TOKEN
// {"activity_id","target_state","template_info":{"parameter_list":[{"name","value"}]}}
//
// Checks: token; body (44002 empty or a non-string value, 47001 not
// JSON); quota updatablemsg_send; activity_id this app's (47501); not
// expired (47504); target_state 0 or 1 (47502), and not after 1 (47502,
// UNCONFIRMED: 1 is final); state 0 needs member_count and room_limit,
// state 1 path and version_type (47001 "data format error", observed for
// state 1; member_count and room_limit must be whole numbers, UNCONFIRMED);
// version_type develop, trial or release (47503).
func (e *Emulator) handleUpdatableSend(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req updatableRequest
	var params map[string]string
	decode := func(b []byte) (code ErrCode) {
		req, params, code = decodeUpdatable(b)
		return code
	}
	app, ok := e.begin(w, r, c, decode, nil)
	if !ok || !e.take(w, c, app, EndpointUpdatableSend, CodeMinuteQuota) {
		return
	}
	state, stateOK := targetState(req.TargetState)
	now := e.env.Clock.Now()
	var code2 ErrCode
	a, err := e.env.Store.UpdateActivity(Name, app.AppID, req.ActivityID, func(a *store.Activity) error {
		code2 = checkUpdatable(a, state, stateOK, params, now)
		if code2 != CodeOK {
			return errRefused
		}
		a.State = state
		if a.Params == nil {
			a.Params = map[string]string{}
		}
		for k, v := range params {
			a.Params[k] = v
		}
		a.Updates++
		a.UpdatedAt = now
		return nil
	})
	switch {
	case errors.Is(err, store.ErrUnknownActivity):
		e.fail(w, c, CodeActivityID, "")
		return
	case err != nil:
		e.fail(w, c, code2, "")
		return
	}
	c.OpenID = a.OpenID
	e.ok(w, c)
}

// errRefused leaves an activity unchanged.
var errRefused = errors.New("refused")

// checkUpdatable judges a state change of a (under the store's lock).
func checkUpdatable(a *store.Activity, state int, stateOK bool, params map[string]string, now time.Time) ErrCode {
	switch {
	case !now.Before(a.Expires):
		return CodeActivityExpired
	case !stateOK || (a.Updates > 0 && a.State == activityStarted):
		return CodeTargetState
	}
	need := []string{"member_count", "room_limit"}
	if state == activityStarted {
		need = []string{"path", "version_type"}
	}
	for _, n := range need {
		if params[n] == "" {
			return CodeDataFormat
		}
	}
	if state == activityNotStarted {
		for _, n := range need {
			if !isDigits(params[n]) {
				return CodeDataFormat
			}
		}
		return CodeOK
	}
	switch params["version_type"] {
	case "develop", "trial", "release":
		return CodeOK
	}
	return CodeVersionType
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// DescribeActivity is an activity as the control API shows it: its state
// and the text its card shows now.
func (e *Emulator) DescribeActivity(a store.Activity, now time.Time) mockapi.Activity {
	out := mockapi.Activity{Platform: a.Platform, AppID: a.AppID, ActivityID: a.ID, OpenID: a.OpenID,
		UnionID: a.UnionID, CreatedAt: a.Created, ExpiresAt: a.Expires, TargetState: a.State,
		Parameters: a.Params, Updates: a.Updates}
	if out.Parameters == nil {
		out.Parameters = map[string]string{}
	}
	if a.Updates > 0 {
		u := a.UpdatedAt
		out.UpdatedAt = &u
	}
	switch {
	case !now.Before(a.Expires):
		out.Status, out.Text = mockapi.ActivityEnded, "已结束"
	case a.Updates > 0 && a.State == activityStarted:
		out.Status, out.Text = mockapi.ActivityStarted, "已开始"
	case a.Updates > 0:
		out.Status = mockapi.ActivityNotStarted
		out.Text = fmt.Sprintf("成员正在加入，当前 %s/%s 人", a.Params["member_count"], a.Params["room_limit"])
	default:
		out.Status = mockapi.ActivityCreated
	}
	return out
}
