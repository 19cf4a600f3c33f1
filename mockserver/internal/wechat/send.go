package wechat

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// sendRequest is the subscribe-message body. Public SDKs (silenceper) send
// every field, empty ones included, and a "color" inside each keyword: empty
// strings mean the defaults and color is ignored (docs/platforms/wechat.md).
type sendRequest struct {
	ToUser           string                     `json:"touser"`
	TemplateID       string                     `json:"template_id"`
	Page             string                     `json:"page"`
	Data             map[string]json.RawMessage `json:"data"`
	MiniprogramState string                     `json:"miniprogram_state"`
	Lang             string                     `json:"lang"`
}

func (q *sendRequest) flatFields() []platform.FlatField {
	return []platform.FlatField{{Name: "touser", Str: &q.ToUser}, {Name: "template_id", Str: &q.TemplateID},
		{Name: "page", Str: &q.Page}, {Name: "data", Obj: &q.Data},
		{Name: "miniprogram_state", Str: &q.MiniprogramState}, {Name: "lang", Str: &q.Lang}}
}

type sendAnswer struct {
	ErrCode ErrCode `json:"errcode"`
	ErrMsg  string  `json:"errmsg"`
	MsgID   int64   `json:"msgid"`
}

// okSendAnswer is writeJSON's bytes for a successful send, made once
// around its msgid.
var okSendAnswer = platform.NewIntAnswer(func(id int64) []byte {
	return platform.EncodeJSON(sendAnswer{ErrCode: CodeOK, ErrMsg: "ok", MsgID: id})
})

// sendError is a rejection found while checking a send under the store lock.
type sendError struct {
	code ErrCode
	msg  string
}

func (e *sendError) Error() string { return e.msg }

func argInvalid(detail string) *sendError {
	return &sendError{code: CodeArgumentInvalid, msg: "argument invalid! " + detail}
}

// POST /cgi-bin/message/subscribe/send?access_token=TOKEN
//
// Checks in the platform's order (docs/platforms/wechat.md): token, body,
// touser, template_id, data keywords (47003 naming the keyword), page,
// miniprogram_state/lang, content, then the user's grant; success consumes
// a one-time grant and lands the message in the inbox.
func (e *Emulator) handleSubscribeSend(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, code := e.checkToken(r)
	c.AppID = appID
	var req sendRequest
	bodyCode := CodeOK
	if code == CodeOK {
		bodyCode = readJSON(w, r, maxBodyBytes, &req)
		c.OpenID = req.ToUser
	}
	if e.fault(w, r, c) {
		return
	}
	if code == CodeOK {
		code = bodyCode
	}
	if code != CodeOK {
		e.fail(w, c, code, "")
		return
	}
	app, ok := e.env.Store.App(Name, appID)
	if !ok { // the app was removed after the token was issued
		e.fail(w, c, CodeInvalidCredential, "")
		return
	}
	if l, ok := e.env.Take(app, EndpointSubscribeSend); !ok {
		// A day quota is 45009; a per-minute or per-second cap (configured on
		// the mock) answers the platform's minute-quota code, 45011, so
		// clients can tell "slow down" from "done until midnight".
		e.fail(w, c, quotaCode(l, CodeMinuteQuota), "")
		return
	}
	var values map[string]string
	err := e.env.Store.Send(Name, appID, req.ToUser, req.TemplateID, func(t *store.Template) error {
		var serr *sendError
		if values, serr = e.checkSend(app, t, &req); serr != nil {
			return serr
		}
		return nil
	})
	var serr *sendError
	switch {
	case err == nil:
	case errors.As(err, &serr):
		e.failMsg(w, c, serr.code, serr.msg)
		return
	case errors.Is(err, store.ErrUnknownUser):
		e.fail(w, c, CodeInvalidOpenID, "")
		return
	case errors.Is(err, store.ErrUnknownTemplate):
		e.fail(w, c, CodeInvalidTemplateID, "")
		return
	case errors.Is(err, store.ErrNoGrant):
		e.fail(w, c, CodeUserRefused, "")
		return
	default:
		e.fail(w, c, CodeSystemBusy, "")
		return
	}
	msgID := e.env.NextMsgID()
	e.env.Deliver(mockapi.Message{
		Platform: Name, AppID: appID, OpenID: req.ToUser, TemplateID: req.TemplateID, Data: values,
		Page: req.Page, MsgID: strconv.FormatInt(msgID, 10), State: stateOrDefault(req.MiniprogramState),
		Lang: langOrDefault(req.Lang), ReceivedAt: e.env.Clock.Now(),
	})
	c.ErrCode = 0
	platform.WriteAnswer(w, contentType, okSendAnswer.Bytes(msgID))
	e.pushSent(appID, req.ToUser, req.TemplateID, msgID)
}

func stateOrDefault(s string) string {
	if s == "" {
		return "formal"
	}
	return s
}

func langOrDefault(s string) string {
	if s == "" {
		return "zh_CN"
	}
	return s
}

// checkSend validates data, page, state, lang and content against the
// template; it returns the keyword values as text.
func (e *Emulator) checkSend(app *store.App, t *store.Template, req *sendRequest) (map[string]string, *sendError) {
	if len(req.Data) == 0 {
		// data is required; with no keyword at all the first one is empty.
		if len(t.Keywords) > 0 {
			return nil, argInvalid("data." + t.Keywords[0] + ".value is empty")
		}
		return nil, argInvalid("data is empty")
	}
	values := make(map[string]string, len(req.Data))
	for _, key := range t.Keywords {
		raw, ok := req.Data[key]
		if !ok {
			return nil, argInvalid("data." + key + ".value is empty")
		}
		v, ok := platform.KeywordValue(raw)
		if !ok {
			return nil, argInvalid("data." + key + ".value invalid")
		}
		if err := keyword.Check(key, v, t.Enums[key]); err != nil {
			return nil, argInvalid(err.Error())
		}
		values[key] = v
	}
	if len(req.Data) > len(values) {
		// A keyword the template does not have. The platform's exact text is
		// UNCONFIRMED; it is a 47003 naming the key.
		var extra []string
		for k := range req.Data {
			if _, ok := values[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return nil, argInvalid("data." + extra[0] + " is not a keyword of the template")
	}
	if !platform.ValidPage(app, req.Page) {
		return nil, &sendError{code: CodeInvalidPage, msg: CodeInvalidPage.Message()}
	}
	switch req.MiniprogramState {
	case "", "developer", "trial", "formal":
	default:
		// Code for a bad miniprogram_state/lang is UNCONFIRMED; 47003 fits.
		return nil, argInvalid("miniprogram_state invalid")
	}
	switch req.Lang {
	case "", "zh_CN", "en_US", "zh_HK", "zh_TW":
	default:
		return nil, argInvalid("lang invalid")
	}
	texts := make([]string, 0, len(values))
	for _, v := range values {
		texts = append(texts, v)
	}
	if v := e.env.Content.Check(texts...); v.Suggest == content.Risky {
		return nil, &sendError{code: CodeSensitiveWord, msg: CodeSensitiveWord.Message()}
	}
	return values, nil
}

// String makes sendError print usefully in logs.
func (e *sendError) String() string { return fmt.Sprintf("%d %s", e.code, e.msg) }
