package kuaishou

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

type sendAnswer struct {
	Result Result `json:"result"`
}

// okSendAnswer is writeJSON's bytes for a successful send, made once.
var okSendAnswer = platform.EncodeJSON(sendAnswer{Result: ResultOK})

// sendError is a rejection found while checking a send under the store lock.
type sendError struct {
	code   Result
	detail string
}

func (e *sendError) Error() string { return e.code.Message() + ": " + e.detail }

func badParam(detail string) *sendError { return &sendError{code: ResultBadParam, detail: detail} }

// POST /openapi/mp/developer/message/template/send (form: app_id,
// access_token, template_id, to_user, page, data — all required by the doc;
// app_id and access_token may also come in the query; a JSON body is
// accepted too, see sendjson.go).
//
// Checks, in order: method and form; app_id and access_token present
// (100200100); the token known, unexpired and issued to app_id (100200101);
// the QPS cap; template_id, to_user, page and data present; data a JSON
// object; to_user a user of the app and template_id the app's (100200100);
// every template keyword present and valid by Kuaishou's type rules, no key
// the template lacks, the page well formed (100200100); content screening;
// then the user's subscription. Every code but the token API's two is
// UNCONFIRMED (see codes.go). Success consumes a one-time grant and lands the
// message in the inbox.
func (e *Emulator) handleSend(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	f, formErr := readSendParams(w, r)
	appID := f.Get("app_id")
	tokenApp, tokenCode, tokenDetail := e.checkToken(f)
	c.AppID, c.OpenID = appID, f.Get("to_user")
	if c.AppID == "" {
		c.AppID = tokenApp
	}
	if e.fault(w, r, c) {
		return
	}
	switch {
	case r.Method != http.MethodPost:
		fail(w, c, ResultBadParam, "method "+r.Method+" not allowed, use POST")
		return
	case formErr != nil:
		fail(w, c, ResultBadParam, "malformed body")
		return
	case appID == "":
		fail(w, c, ResultBadParam, "app_id is empty")
		return
	case tokenCode != ResultOK:
		fail(w, c, tokenCode, tokenDetail)
		return
	case tokenApp != appID:
		fail(w, c, ResultAuth, "access_token does not belong to app_id")
		return
	}
	app, ok := e.env.Store.App(Name, appID)
	if !ok { // the app was removed after the token was issued
		fail(w, c, ResultAuth, "access_token is invalid")
		return
	}
	if l, ok := e.env.Take(app, EndpointTemplateSend); !ok {
		fail(w, c, ResultRateLimited, quotaDetail(l))
		return
	}
	req := sendRequest{TemplateID: f.Get("template_id"), ToUser: f.Get("to_user"), Page: f.Get("page"), RawData: f.Get("data")}
	for _, p := range [][2]string{{"template_id", req.TemplateID}, {"to_user", req.ToUser}, {"page", req.Page}, {"data", req.RawData}} {
		if p[1] == "" {
			// page is required by the doc's table ("是"); whether the
			// platform really refuses an empty page is UNCONFIRMED.
			fail(w, c, ResultBadParam, p[0]+" is empty")
			return
		}
	}
	if req.Data, _ = platform.RawObject([]byte(req.RawData)); req.Data == nil {
		fail(w, c, ResultBadParam, "data is not a JSON object")
		return
	}
	var values map[string]string
	err := e.env.Store.Send(Name, appID, req.ToUser, req.TemplateID, func(t *store.Template) error {
		var serr *sendError
		values, serr = e.checkSend(app, t, &req)
		if serr != nil {
			return serr
		}
		return nil
	})
	var serr *sendError
	switch {
	case err == nil:
	case errors.As(err, &serr):
		fail(w, c, serr.code, serr.detail)
		return
	case errors.Is(err, store.ErrUnknownUser):
		fail(w, c, ResultBadParam, "to_user is not a user of this app")
		return
	case errors.Is(err, store.ErrUnknownTemplate):
		fail(w, c, ResultBadParam, "template_id is not this app's")
		return
	case errors.Is(err, store.ErrNoGrant):
		fail(w, c, ResultNotSubscribed, "")
		return
	case errors.Is(err, store.ErrUnknownApp):
		fail(w, c, ResultAuth, "access_token is invalid")
		return
	default:
		fail(w, c, ResultSystemError, "")
		return
	}
	e.env.Deliver(mockapi.Message{
		Platform: Name, AppID: appID, OpenID: req.ToUser, TemplateID: req.TemplateID, Data: values,
		Page: req.Page, ReceivedAt: e.env.Clock.Now(),
	})
	c.ErrCode = 0
	// The success body beyond result is not documented; nothing else is sent
	// (UNCONFIRMED: no message id is known).
	platform.WriteAnswer(w, contentType, okSendAnswer)
}

type sendRequest struct {
	TemplateID, ToUser, Page, RawData string
	Data                              map[string]json.RawMessage
}

// checkSend validates data, page and content against the template and
// returns the keyword values as text.
func (e *Emulator) checkSend(app *store.App, t *store.Template, req *sendRequest) (map[string]string, *sendError) {
	values := make(map[string]string, len(t.Keywords))
	for _, key := range t.Keywords {
		raw, ok := req.Data[key]
		if !ok {
			return nil, badParam("data." + key + ".value is empty")
		}
		v, ok := platform.KeywordValue(raw)
		if !ok {
			return nil, badParam("data." + key + ".value invalid")
		}
		if err := CheckKeyword(key, v); err != nil {
			return nil, badParam(err.Error())
		}
		values[key] = v
	}
	if len(req.Data) > len(values) {
		// A key the template does not have (UNCONFIRMED: the platform may
		// ignore it; the mock refuses it so a typo is caught).
		var extra []string
		for k := range req.Data {
			if _, ok := values[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return nil, badParam("data." + extra[0] + " is not a keyword of the template")
	}
	if !platform.ValidPage(app, req.Page) {
		return nil, badParam("page is invalid")
	}
	texts := make([]string, 0, len(values))
	for _, v := range values {
		texts = append(texts, v)
	}
	if v := e.env.Content.Check(texts...); v.Suggest == content.Risky {
		return nil, &sendError{code: ResultContentRisky, detail: "data hits a sensitive word"}
	}
	return values, nil
}
